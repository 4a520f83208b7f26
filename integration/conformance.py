"""Run a corpus's `expected.yaml` entries through flowport and compare with the source engine.

    python integration/conformance.py ../shared/corpus/dagu [--only FILE] [-v] [--via export]

`--via export` runs each entry the way a team that left the YAML would: `flowport export`
writes the workflow as a Python module (flowport.sdk) next to it, the module is imported and
its flow run; the comparison with `expected.yaml` is the same.

Each runnable entry runs in a scratch copy of the corpus folder (the DAGs write files next
to themselves). Entries whose `needs` this machine cannot serve are skipped and listed.
Prints one line per entry and ends with `<corpus> conformance: N passed, M failed`.
Exit code 0 when it ran (the count is the result); 2 on a broken corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # testkit/, when run as a script
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
if not os.environ.get("FLOWPORT_TEST_ISOLATED"):  # run by hand: the runs never land in ~/.prefect
    import atexit

    _home = tempfile.mkdtemp(prefix="flowport-conformance-")
    os.environ["PREFECT_HOME"] = os.path.join(_home, "prefect")
    os.environ.setdefault("FLOWPORT_HOME", os.path.join(_home, "flowport"))
    atexit.register(shutil.rmtree, _home, ignore_errors=True)
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")  # one line per entry is the output

# What this build of flowport can serve; grows with each issue.
# Argo: stop/terminate during the run; random outcomes (status any); artifacts (the runner gives
# every entry a local artifact repository: FLOWPORT_HOME is a scratch folder)
SUPPORTED_NEEDS: set[str] = {"action", "random", "artifacts"}
# Corpus images that the local stand-ins (../shared/tools/container-env.sh) do not tag;
# passed the way an air-gapped user would: FLOWPORT_IMAGES.
STAND_INS = {"alpine:3.20": "alpine:latest"}


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=5).ping()
        return True
    except Exception:
        return False


class _AnyLoginSmtp:
    """The corpus's SMTP server: a real aiosmtpd on 127.0.0.1 that takes any login (the DAGs
    carry placeholder credentials). Started on first use."""

    server = None

    @classmethod
    def get(cls):
        if cls.server is None:
            from aiosmtpd.smtp import AuthResult
            from testkit.servers import SmtpServer

            class AnyLogin(SmtpServer):
                def _authenticate(self, server, session, envelope, mechanism, auth_data):
                    return AuthResult(success=True, handled=False)

            cls.server = AnyLogin(auth=("LOGIN", "PLAIN")).start()
        return cls.server


def point_smtp_at(path: Path, server, *, add: bool) -> None:
    """Rewrite the scratch copy's `smtp:` to the local server (`add`: also when absent)."""
    docs = list(yaml.safe_load_all(path.read_text()))
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        key = next((k for k in doc if str(k).lower() == "smtp"), None)
        if key is None and not add:
            continue
        block = doc.get(key) if isinstance(doc.get(key), dict) else {}
        block.update(host=server.host, port=str(server.port))
        doc[key or "smtp"] = block
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def available_needs() -> set[str]:
    needs = set(SUPPORTED_NEEDS) | {"smtp"}
    if docker_available():
        needs.add("docker")
        os.environ.setdefault("FLOWPORT_IMAGES", ",".join(f"{k}={v}" for k, v in STAND_INS.items()))
    return needs


@contextlib.contextmanager
def patched_env(values: dict[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _glob_files(root: Path, pattern: str) -> list[Path]:
    parts = pattern.split("/")
    found = [root]
    for part in parts:
        nxt = []
        for base in found:
            if any(c in part for c in "*?["):
                nxt.extend(p for p in base.iterdir() if fnmatch.fnmatch(p.name, part)) if base.is_dir() else None
            else:
                nxt.append(base / part)
        found = nxt
    return [p for p in found if p.exists()]


def exported_flow(checked, file: Path):
    """`flowport export` of the checked workflow, written next to its file and imported: the
    module's flow (no YAML is read from here on)."""
    import importlib.util

    from flowport.export import export_checked

    module_file = file.with_name(f"{file.stem.replace('-', '_').replace('.', '_')}_flow.py")
    module_file.write_text(export_checked(checked, module_file.parent))
    spec = importlib.util.spec_from_file_location(f"flowport_export_{module_file.stem}", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    flows = [v for v in vars(module).values() if hasattr(v, "workflow") and hasattr(v, "param_sources")]
    called = {id(child) for f in flows for _, child in f.workflow.subdags}  # sub-DAGs: defined before callers
    roots = [f for f in flows if id(f.workflow) not in called]
    if len(roots) != 1:
        raise RuntimeError(f"{module_file.name} defines {len(roots)} workflow flows that no other calls, expected 1")
    return roots[0]


def run_exported(checked, file: Path, params: list[tuple[str, str]]):
    from flowport.sdk import run

    flow = exported_flow(checked, file)
    by_source = {source: py for py, source in flow.param_sources.items()}
    missing = [k for k, _ in params if k not in by_source]
    if missing:
        raise RuntimeError(f"the exported flow has no parameter for {', '.join(missing)}")
    return run(flow, **{by_source[k]: v for k, v in params})


def check_entry(entry: dict, corpus: Path, scratch: Path, via: str = "yaml") -> list[str]:
    """Problems with one entry (empty list = pass)."""
    from flowport.adapter import run as run_workflow
    from flowport.translators import check

    file = scratch / entry["file"]
    base = scratch / entry["base_config"] if entry.get("base_config") else None
    mailbox = None
    if "smtp" in (entry.get("needs") or []):
        mailbox = _AnyLoginSmtp.get()
        mailbox.clear()
        if base is None:  # the runner supplies the base config Dagu would read the smtp from
            base = scratch / "_runner_base.yaml"
            base.write_text("{}\n")
        point_smtp_at(base, mailbox, add=True)
        point_smtp_at(file, mailbox, add=False)
    checked = check(file, base_config=base, templates=[scratch / t for t in entry.get("templates") or []])
    if entry.get("valid") is False:
        return [] if not checked.ok else ["flowport accepted a file Dagu refuses"]
    if not checked.ok and _refused_like_argo(entry):
        return []  # Argo fails it with "invalid spec" before any node exists: refusing it is the same
    if not checked.ok:
        first = checked.problems[0]
        return [f"rejected: {first.message} ({first.mark})" + (f" +{len(checked.problems) - 1} more" if len(checked.problems) > 1 else "")]
    if entry.get("status") == "any" and entry.get("valid") is True:
        return []  # a load-only fixture: loading is the check
    params = [(str(k), str(v)) for k, v in (entry.get("params") or {}).items()]
    home = {"FLOWPORT_HOME": str(scratch.parent / "flowport-home")}  # the embedded local artifact repository
    with patched_env({**home, **(entry.get("env") or {})}), _action(entry.get("action")):
        if via == "export":
            report = run_exported(checked, file, params)
        else:
            report = run_workflow(checked.workflow, params)
    problems = []
    want = entry.get("status")
    if want and want != "any" and report.status != want:
        problems.append(f"status {report.status}, expected {want} ({report.message})")
    phases = _argo_phases(report) if report.dialect == "argo" else {n.name: n.phase for n in report.nodes}
    for node, expected in (entry.get("nodes") or {}).items():
        got = phases.get(str(node))
        if expected == "absent":
            if got not in (None, "not_started"):
                problems.append(f"node {node} is {got}, expected absent")
        elif got != expected:
            problems.append(f"node {node} is {got}, expected {expected}")
    for key, value in (entry.get("outputs") or {}).items():
        if report.outputs.get(key) != value:
            problems.append(f"output {key}={report.outputs.get(key)!r}, expected {value!r}")
    for pattern, content in (entry.get("files") or {}).items():
        matches = _glob_files(scratch, pattern)
        if not matches:
            problems.append(f"file {pattern} missing")
        elif matches[0].read_text() != content:
            problems.append(f"file {pattern} holds {matches[0].read_text()!r}, expected {content!r}")
    for pattern in entry.get("files_absent") or []:
        if (scratch / pattern).exists():
            problems.append(f"file {pattern} exists, expected absent")
    for pattern, needles in (entry.get("files_contain") or {}).items():
        matches = _glob_files(scratch, pattern)
        text = matches[0].read_text() if matches else ""
        for needle in needles:
            if needle not in text:
                problems.append(f"file {pattern} lacks {needle!r}")
    for mail in entry.get("mail") or []:
        want_to = sorted(mail.get("to") or [])
        found = [m for m in (mailbox.messages if mailbox else [])
                 if sorted(m.rcpt_tos) == want_to and mail.get("subject_contains", "") in str(m.message["Subject"])]
        if not found:
            got = [(sorted(m.rcpt_tos), str(m.message["Subject"])) for m in (mailbox.messages if mailbox else [])]
            problems.append(f"no mail to {want_to} with subject containing {mail.get('subject_contains')!r} (got {got})")
    if entry.get("log_contains"):
        logs = ""
        if report.log_dir and Path(report.log_dir).is_dir():
            logs = "".join(p.read_text(errors="replace") for p in sorted(Path(report.log_dir).glob("*.out"))
                           + sorted(Path(report.log_dir).glob("*.err")))
        for needle in entry["log_contains"]:
            if needle not in logs:
                problems.append(f"no node log contains {needle!r}")
    return problems


def _refused_like_argo(entry: dict) -> bool:
    """An Argo entry that fails with "invalid spec" before any node runs (every listed node
    `absent`): flowport reports the same spec problem at validation time instead."""
    nodes = entry.get("nodes") or {}
    return (entry.get("status") == "Failed" and bool(nodes) and all(v == "absent" for v in nodes.values())
            and "invalid spec" in f"{entry.get('notes', '')} {entry.get('source', '')}")


def _argo_phases(report) -> dict[str, str]:
    """Argo entries name nodes by display name, the root node by its template's name. When
    a name is shown twice (an exit handler's step named like a main step), a phase other
    than Succeeded wins, so a failure is not hidden."""
    phases: dict[str, str] = {}
    for n in report.nodes:
        names = [n.display_name]
        if getattr(n, "parent", None) is None and n.kind == "step":
            names.append(getattr(n, "template", None) or n.display_name)
        for name in names:
            if phases.get(name) in (None, "Succeeded"):
                phases[name] = n.phase
    return phases


@contextlib.contextmanager
def _action(action: dict | None):
    """Argo `action: {type: stop|terminate, when_running: NODE}`: `argo stop` / `argo
    terminate` as soon as NODE runs."""
    if not action:
        yield
        return
    import threading
    import time

    from flowport.adapter.core import RUNS

    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for run_id, active in list(RUNS.items()):
                if any(n.display_name == action["when_running"] and n.phase == "Running" for n in active.program.records()):
                    time.sleep(0.5)
                    strategy = "Terminate" if action["type"] == "terminate" else "Stop"
                    active.control.request_stop("conformance", strategy=strategy)
                    return
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()
    try:
        yield
    finally:
        done.set()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--only", action="append", default=[], help="run only these files")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--via", choices=("yaml", "export"), default="yaml",
                    help="run the YAML (default), or the Python module `flowport export` writes")
    args = ap.parse_args(argv)
    corpus = args.corpus.resolve()
    try:
        entries = yaml.safe_load((corpus / "expected.yaml").read_text())
    except (OSError, yaml.YAMLError) as exc:
        print(f"cannot read {corpus}/expected.yaml: {exc}", file=sys.stderr)
        return 2
    have = available_needs()
    runnable, skipped = [], []
    for e in entries:
        if args.only and e["file"] not in args.only:
            continue
        missing = set(e.get("needs") or []) - have
        (skipped if missing else runnable).append((e, missing))

    from flowport.adapter import prefect_api

    passed = failed = 0
    failures = []
    with prefect_api():
        for entry, _ in runnable:
            with tempfile.TemporaryDirectory(prefix="flowport-conf-") as tmp:
                scratch = Path(tmp) / "corpus"
                shutil.copytree(corpus, scratch)
                try:
                    problems = check_entry(entry, corpus, scratch, args.via)
                except Exception as exc:  # a crash is a failure of that entry, not of the count
                    problems = [f"crashed: {exc!r}"]
            if problems:
                failed += 1
                failures.append((entry["file"], problems))
                print(f"FAIL {entry['file']}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"ok   {entry['file']}")
    for entry, missing in skipped:
        print(f"skip {entry['file']}: needs {', '.join(sorted(missing))}")
    via = " via export" if args.via == "export" else ""
    print(f"{corpus.name} conformance{via}: {passed} passed, {failed} failed, {len(skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
