"""The command line's own text and checks: --version, help without type tags, counted nouns,
-p names, telemetry off, the Dagu summary of a failure. No server: nothing here runs a flow."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from flowport import __version__
from flowport.adapter.report import NodeReport, RunReport
from flowport.translators import load


def flowport(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowport.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60, env={**os.environ, "COLUMNS": "100", **env})


def test_version():
    done = flowport("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"flowport {__version__}"


def test_help_has_no_type_tags_and_unbroken_summaries():
    texts = [flowport(*cmd, "--help").stdout for cmd in ([], ["run"], ["cleanup"], ["validate"], ["server"])]
    for text in texts:
        assert "<bool>" not in text and "<list" not in text and "<path>" not in text and "<str>" not in text, text
    # each command's summary is one paragraph: on a wide terminal, one line (the source's
    # line breaks used to cut it mid-sentence)
    main = flowport("--help", COLUMNS="400").stdout
    [cleanup_row] = [line for line in main.splitlines() if "│ cleanup" in line]
    assert "Clean up after runs" in cleanup_row and cleanup_row.rstrip(" │").endswith("."), main
    run_help = texts[1]
    assert "NAME=VALUE" in run_help and "--strict" in run_help and "130" in run_help


def test_validate_counts_in_words_and_does_not_wrap_off_a_terminal(tmp_path):
    wf = tmp_path / ("a-rather-long-folder-name-" * 3)
    wf.mkdir()
    argo = wf / "wf.yaml"
    argo.write_text("""\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hi-}
spec:
  entrypoint: main
  onExit: bye
  templates:
    - name: main
      container: {image: busybox, command: [echo, hi]}
    - name: bye
      container: {image: busybox, command: [echo, bye]}
""")
    dagu = wf / "dag.yaml"
    dagu.write_text("steps:\n  - name: one\n    command: echo 1\nhandlerOn:\n  exit:\n    command: echo bye\n")
    done = flowport("validate", str(argo), str(dagu))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout  # one line per file, however long
    assert lines[0].endswith("1 workflow hook") and "2 templates" in lines[0], lines[0]
    assert lines[1].endswith("1 step, 1 handler"), lines[1]


DAG = """\
params:
  - DATE: "2026-01-01"
  - REGION: eu
steps:
  - name: show
    command: echo $DATE
"""


def test_unknown_param_name_is_warned_with_did_you_mean(tmp_path):
    from flowport.cli.params import check_param_names

    wf = load(_write(tmp_path, "dag.yaml", DAG))
    err = Console(file=io.StringIO(), width=200)
    assert check_param_names(err, wf, [("DATEE", "2027"), ("REGION", "us"), ("", "positional")], strict=False)
    text = err.file.getvalue()
    assert "warning: -p DATEE" in text and "did you mean DATE?" in text
    assert "REGION" not in text.replace("-p DATEE", "")  # declared names pass quietly


def test_strict_unknown_param_is_an_error_before_anything_runs(tmp_path):
    path = _write(tmp_path, "dag.yaml", DAG)
    done = flowport("run", str(path), "-p", "DATEE=2027", "--strict", FLOWPORT_HOME=str(tmp_path / "home"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error: -p DATEE" in done.stderr and "did you mean DATE?" in done.stderr
    assert not (tmp_path / "home" / "server").exists()  # no server was started for it


def test_argo_params_are_checked_against_the_workflow_arguments(tmp_path):
    from flowport.cli.params import check_param_names

    wf = load(_write(tmp_path, "wf.yaml", """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: p-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: message, value: hi}]}
  templates:
    - name: main
      container: {image: busybox, command: [echo, "{{workflow.parameters.message}}"]}
"""))
    err = Console(file=io.StringIO(), width=200)
    assert not check_param_names(err, wf, [("mesage", "x")], strict=True)
    assert "error: -p mesage" in err.file.getvalue() and "did you mean message?" in err.file.getvalue()


def test_client_telemetry_is_off_in_flowports_processes():
    env = {k: v for k, v in os.environ.items() if k != "DO_NOT_TRACK"}
    done = subprocess.run([sys.executable, "-c", (
        "import os, flowport.cli.app\n"
        "from prefect._internal.analytics.enabled import is_telemetry_enabled\n"
        "print(os.environ['DO_NOT_TRACK'], is_telemetry_enabled())")],
        capture_output=True, text=True, env={**env, "DO_NOT_TRACK": "0"}, timeout=60)
    assert done.stdout.split() == ["1", "False"], done.stdout + done.stderr


def test_dagu_summary_shows_the_stderr_tail_of_failed_nodes_and_the_log_folder(tmp_path):
    from flowport.cli.views import render_summary

    wf = load(_write(tmp_path, "dag.yaml", "steps:\n  - name: check it\n    command: test 1 -gt x\n"
                     "  - name: fine\n    command: 'true'\n"))
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "check_it.err").write_text("noise\n" * 10 + "sh: test: : integer expression expected\n\n")
    (logs / "fine.err").write_text("not shown: this node succeeded\n")
    report = RunReport(workflow="dag", dialect="dagu-v1", status="failed", message="step(s) failed: check it",
                       started_at=None, finished_at=None, params={}, outputs={}, run_id="r1", log_dir=str(logs),
                       nodes=[NodeReport("check it", "check it", "step", "failed", 2, None, None,
                                         message="exit status 2"),
                              NodeReport("fine", "fine", "step", "succeeded", 0, None, None)])
    console = Console(file=io.StringIO(), width=200)
    render_summary(console, report, wf)
    text = console.file.getvalue()
    assert "check it: last lines of stderr" in text
    assert "sh: test: : integer expression expected" in text
    assert text.count("noise") == 4  # the last lines only
    assert "not shown" not in text
    assert f"logs in {logs}" in text


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path
