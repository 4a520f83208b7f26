"""`flowport audit DIR…`: how much of a folder of workflows moves to Prefect as it is.

Every YAML file under the folders that is a Dagu DAG (a top-level `steps:`) or an Argo
workflow (`apiVersion: argoproj.io/…`) is checked as `validate` checks it and lands in one
class: *runs as is*, *needs an unsupported feature* (only "not supported yet" problems), or
*invalid for its own engine* (any other error). Other YAML (Kubernetes manifests, a Dagu
base config, expected-outcome files) is listed as not a workflow. Features are ranked by how
many files they block. Files are checked in a process pool: a thousand take seconds.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

RUNS, NEEDS, INVALID, NOT_WORKFLOW = "runs as is", "needs unsupported feature", "invalid", "not a workflow"
CLASSES = (RUNS, NEEDS, INVALID)
SUFFIXES = (".yaml", ".yml")


@dataclass
class FileAudit:
    file: str
    verdict: str
    dialect: str  # dagu-v1|v2|v3, argo Workflow|WorkflowTemplate|CronWorkflow…, or ""
    features: list[str] = field(default_factory=list)  # the unsupported features it needs
    problems: list[dict[str, Any]] = field(default_factory=list)  # file, line, col, path, message, kind


@dataclass
class Audit:
    files: list[FileAudit]

    @property
    def workflows(self) -> list[FileAudit]:
        return [f for f in self.files if f.verdict != NOT_WORKFLOW]

    def totals(self) -> dict[str, int]:
        counts = Counter(f.verdict for f in self.files)
        return {"workflows": len(self.workflows), **{c: counts[c] for c in (*CLASSES, NOT_WORKFLOW)}}

    def features(self) -> list[tuple[str, int]]:
        """Unsupported features by the number of files they block, most first."""
        counts = Counter(feature for f in self.files for feature in set(f.features))
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def dialects(self) -> list[tuple[str, int]]:
        return sorted(Counter(f.dialect for f in self.workflows).items(), key=lambda kv: (-kv[1], kv[0]))

    def to_dict(self) -> dict[str, Any]:
        return {"totals": self.totals(), "features": [{"feature": k, "files": n} for k, n in self.features()],
                "dialects": [{"dialect": k, "files": n} for k, n in self.dialects()],
                "files": [asdict(f) for f in self.files]}


def workflow_files(roots: Iterable[str | Path]) -> list[Path]:
    """The YAML files under `roots` (files given are taken as they are), sorted, once each."""
    found: set[Path] = set()
    for root in map(Path, roots):
        if root.is_file():
            found.add(root)
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.update(Path(folder, n) for n in names if n.endswith(SUFFIXES))
    return sorted(found)


_ARGO = re.compile(r"^apiVersion\s*:\s*[\"']?argoproj\.io/", re.M)
_KIND = re.compile(r"^kind\s*:\s*[\"']?(\w+)", re.M)
_STEPS = re.compile(r"^[\"']?steps[\"']?\s*:", re.M)


def _kind(text: str) -> tuple[bool, str]:
    """(is a workflow, dialect) read off the top-level keys of the text, without parsing it
    (a YAML load per file cost a third of an audit); the Dagu version comes from the
    translation, or from `_dagu_dialect` for a file that does not translate."""
    if _ARGO.search(text):
        kind = _KIND.search(text)
        return True, f"argo {kind.group(1) if kind else '?'}"
    return bool(_STEPS.search(text)), ""


def _dagu_dialect(text: str) -> str:
    import yaml

    from ..translators.dagu import detect_dialect

    try:
        data = next(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None)
    except Exception:  # not YAML at all
        return ""
    return detect_dialect(data) if isinstance(data, dict) else ""


def _feature(problem: Any) -> str:
    """The field a "not supported yet" problem names: its last key."""
    keys = [p for p in problem.path if isinstance(p, str)]
    return keys[-1] if keys else problem.message


_TEMPLATE_KIND = re.compile(r"^kind:\s*[\"']?(Cluster)?WorkflowTemplate\b", re.M)


def template_files(files: Iterable[str]) -> tuple[str, ...]:
    """The Argo WorkflowTemplates among `files`: what their workflowTemplateRef/templateRef
    find, as in a cluster where the folder's templates are installed."""
    found = []
    for f in files:
        try:
            if _TEMPLATE_KIND.search(Path(f).read_text(encoding="utf-8-sig", errors="replace")):
                found.append(f)
        except OSError:
            pass
    return tuple(found)


def audit_file(path: str, templates: tuple[str, ...] = ()) -> FileAudit:
    from ..translators import check

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return FileAudit(path, INVALID, "", problems=[{"file": path, "line": None, "col": None, "path": "",
                                                        "message": f"cannot read: {exc}", "kind": "error"}])
    is_workflow, dialect = _kind(text)
    if not is_workflow:
        return FileAudit(path, NOT_WORKFLOW, "")
    try:
        checked = check(path, text=text, templates=[t for t in templates if t != path] if "argoproj" in text else ())
    except Exception as exc:  # a translator bug must not stop the audit of the others
        return FileAudit(path, INVALID, dialect, problems=[{"file": path, "line": None, "col": None, "path": "",
                                                             "message": f"flowport failed: {exc!r}",
                                                             "kind": "error"}])
    if not dialect:  # Dagu: the dialect check read, or (a file that did not load) a plain YAML read
        dialect = checked.dialect or _dagu_dialect(text)
    problems = [p.to_dict() for p in checked.problems]
    if checked.ok:
        return FileAudit(path, RUNS, dialect)
    kinds = {p.kind for p in checked.problems}
    if kinds == {"unsupported"}:
        features = sorted({_feature(p) for p in checked.problems})
        return FileAudit(path, NEEDS, dialect, features=features, problems=problems)
    return FileAudit(path, INVALID, dialect, problems=problems)


def run_audit(roots: Iterable[str | Path], templates: Iterable[str | Path] = (), workers: int | None = None) -> Audit:
    """`templates`: more WorkflowTemplate files (`--templates`), beside those found in `roots`."""
    files = [str(p) for p in workflow_files(roots)]
    known = (*template_files(files), *(str(p) for p in workflow_files(templates)))
    work = functools.partial(audit_file, templates=known)
    workers = workers or min(os.cpu_count() or 1, 8)
    _import_checkers()
    if workers <= 1 or len(files) < 50:
        return Audit([work(f) for f in files])
    # Forked workers inherit the translators imported above (~0.2 s of imports a worker
    # otherwise repeats); elsewhere, or where fork is not the default, each worker imports them.
    fork = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=fork) as pool:
        return Audit(list(pool.map(work, files, chunksize=max(1, len(files) // (workers * 8)))))


def _import_checkers() -> None:
    """What checking a file imports (both translators, Dagu sub-DAGs), imported once here;
    nothing of Prefect, Docker or Apprise: the audit runs nothing."""
    from ..translators import argo, check, dagu, dagu_subdags  # noqa: F401


def render(console: Any, result: Audit, base: Path | None = None) -> None:
    """The terminal summary: totals, dialects, blocking features, then each file not running."""
    from rich.table import Table
    from rich.text import Text

    totals = result.totals()
    console.print(f"[bold]{totals['workflows']} workflow file(s)[/]: [green]{totals[RUNS]} run as is[/], "
                  f"[yellow]{totals[NEEDS]} need an unsupported feature[/], [red]{totals[INVALID]} invalid[/]"
                  f" ({totals[NOT_WORKFLOW]} other YAML file(s) skipped)", highlight=False)
    if result.dialects():
        console.print("dialects: " + ", ".join(f"{d or '?'} {n}" for d, n in result.dialects()),
                      markup=False, highlight=False)
    features = result.features()
    if features:
        table = Table(title="features that block files, most first")
        table.add_column("feature")
        table.add_column("files", justify="right")
        for name, count in features:
            table.add_row(Text(name), str(count))
        console.print(table, highlight=False)
    for f in result.files:
        if f.verdict in (NEEDS, INVALID):
            shown = _relative(f.file, base)
            console.print(Text(f"{shown}: {f.verdict} ({f.dialect or '?'})",
                               style="yellow" if f.verdict == NEEDS else "red"), highlight=False)
            for p in f.problems[:5]:
                where = f"{p['line']}:{p['col']}" if p["line"] else "-"
                if p.get("file") and p["file"] != f.file:  # found in another file (a child DAG, a template)
                    where = f"{_relative(p['file'], base)}:{where}"
                label = "not supported yet" if p["kind"] == "unsupported" else "error"
                console.print(Text(f"  {where} {label}: {p['message']}" + (f" ({p['path']})" if p["path"] else "")),
                              highlight=False)
            if len(f.problems) > 5:
                console.print(Text(f"  … {len(f.problems) - 5} more", style="dim"), highlight=False)


def _relative(file: str, base: Path | None) -> str:
    if base is None:
        return file
    try:
        return str(Path(file).resolve().relative_to(base))
    except ValueError:
        return file


def to_json(result: Audit) -> str:
    return json.dumps(result.to_dict(), indent=2)


def to_html(result: Audit) -> str:
    """One static page, no network: totals, a bar chart of blocking features, a sortable table."""
    from html import escape

    from .audit_page import PAGE

    data = json.dumps(result.to_dict()).replace("</", "<\\/")  # safe inside <script>
    return PAGE.replace("__DATA__", data).replace("__TITLE__", escape(f"flowport audit: {len(result.workflows)} workflows"))
