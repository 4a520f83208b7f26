"""Dagu's DAG-level `retry_policy`: a failed run runs again inside the same flow run (flowport
plays Dagu's scheduler): the failed steps and those below them run again, the failure handler
waits for the last attempt, a stop while the retry waits ends the run aborted.

Driven through the run core with a fake executor (as tests/test_core.py), plus the translator
and one real `flowport run` against the session's Prefect server."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace

import pytest

from flowport.adapter import core
from flowport.adapter.core import InlineLeaves, drive, replay_lifecycle
from flowport.adapter.dagu.program import DaguProgram, retry_nodes
from flowport.adapter.options import RunOptions
from flowport.model import DagRetry
from flowport.translators import check, load

HANDLERS = """
handlerOn:
  init: {command: "true"}
  success: {command: "true"}
  failure: {command: "true"}
  cancel: {command: "true"}
  exit: {command: "true"}
"""
CHAIN = """
steps:
  - name: a
    command: 'true'
  - name: b
    command: 'false'
    depends: [a]
  - name: c
    command: 'true'
    depends: [b]
  - name: side
    command: 'true'
"""


def fake_execute(fails: dict[str, int], *, hang: str | None = None):
    """Runs nothing: step `x` fails its first `fails[x]` runs (-1: always), then succeeds.
    Counts runs per node; handlers record the DAG_RUN_STATUS they saw."""
    runs: dict[str, int] = {}
    seen: list[str] = []

    def execute(ctx, step, rec, *, logger, stop, handler=None, status=None):
        from flowport.adapter.records import now
        from flowport.adapter.runners.base import RunResult

        n = runs[rec.name] = runs.get(rec.name, 0) + 1
        rec.started_at = rec.started_at or now()
        limit = fails.get(rec.name, 0)
        phase = "failed" if limit < 0 or n <= limit else "succeeded"
        if rec.name == hang:
            stop.requested.wait(5)
            phase = "canceled"
        rec.phase, rec.finished_at = phase, now()
        if phase == "succeeded" and not handler:
            rec.outputs = {"run": str(n)}
        if handler:
            seen.append(f"{rec.name}:{status}")
        return RunResult(exit_code=0 if phase == "succeeded" else 1, stopped=phase == "canceled")

    execute.runs, execute.seen = runs, seen
    return execute


def run_fake(tmp_path, monkeypatch, text: str, execute, *, policy: DagRetry | None, during=None):
    """Drive the DAG with the fake executor; `policy` overrides the parsed one (intervals
    below Dagu's 1 s minimum keep the tests fast). `during(control)` runs in a thread."""
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))
    path = tmp_path / "dag.yaml"
    path.write_text(textwrap.dedent(text) + HANDLERS)
    wf = replace(load(path), retry=policy)

    class Program(DaguProgram):
        def __init__(self, wf, **kw):
            super().__init__(wf, execute=execute, **kw)

    monkeypatch.setattr(core, "make_program", lambda wf, **kw: Program(wf, **kw))
    if during:
        threading.Thread(target=during, daemon=True).start()
    report = drive(wf, run_id="fake-run", params=None, options=RunOptions(),
                   leaves=InlineLeaves(logging.getLogger("test")), publish=False)
    return wf, report


def claims(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "logs" / "dag" / "fake-run" / "claims").iterdir())


def test_failed_run_succeeds_on_its_second_attempt(tmp_path, monkeypatch):
    execute = fake_execute({"b": 1})
    wf, report = run_fake(tmp_path, monkeypatch, CHAIN, execute, policy=DagRetry(limit=2, interval=0.01))
    assert report.status == "succeeded" and report.attempts == 2
    # a and side succeeded above the failure: kept with their outputs, not run again
    assert execute.runs == {"a": 1, "side": 1, "b": 2, "c": 1, "onInit": 2, "onExit": 2, "onSuccess": 1}
    assert report.node("a").outputs == {"run": "1"} and report.node("b").outputs == {"run": "2"}
    assert execute.seen == ["onInit:running", "onExit:failed",  # onFailure held back
                            "onInit:running", "onSuccess:succeeded", "onExit:succeeded"]
    assert {n.name: n.phase for n in report.nodes} == {
        "a": "succeeded", "b": "succeeded", "c": "succeeded", "side": "succeeded",
        "onInit": "succeeded", "onSuccess": "succeeded", "onExit": "succeeded"}
    assert claims(tmp_path) == ["finished", "handler-exit", "handler-exit-retry1", "handler-init",
                                "handler-init-retry1", "handler-success-retry1", "retry-1", "retry-1-pending",
                                "started"]
    # a Prefect hook replay sees the last attempt: only its unclaimed handler runs
    ran = replay_lifecycle(wf, "fake-run", [], "canceled", logging.getLogger("test"))
    assert ran == ["onCancel"] and "handler-cancel-retry1" in claims(tmp_path)


def test_exhausted_retries_run_the_failure_handler_once_on_the_last_attempt(tmp_path, monkeypatch):
    execute = fake_execute({"b": -1})
    _, report = run_fake(tmp_path, monkeypatch, CHAIN, execute, policy=DagRetry(limit=2, interval=0.01))
    assert report.status == "failed" and report.attempts == 3
    handlers = [s for s in execute.seen if not s.startswith("onInit")]
    assert handlers == ["onExit:failed", "onExit:failed", "onFailure:failed", "onExit:failed"]
    assert execute.runs["b"] == 3 and execute.runs["a"] == 1 and "c" not in execute.runs
    assert report.node("c").phase == "canceled"


def test_a_stop_while_the_retry_waits_ends_the_run_aborted_without_handlers(tmp_path, monkeypatch):
    execute = fake_execute({"b": -1})
    pending = tmp_path / "logs" / "dag" / "fake-run" / "claims" / "retry-1-pending"

    def stop_when_pending():
        deadline = time.monotonic() + 10
        while not pending.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        core.RUNS["fake-run"].control.request_stop("Prefect")

    began = time.monotonic()
    wf, report = run_fake(tmp_path, monkeypatch, CHAIN, execute, policy=DagRetry(limit=3, interval=30),
                          during=stop_when_pending)
    assert time.monotonic() - began < 10  # the 30 s wait was cut short
    assert report.status == "canceled" and report.attempts == 1
    assert report.message == "stopped by Prefect while retry 1 of 3 was pending"
    assert [s for s in execute.seen if not s.startswith("onInit")] == ["onExit:failed"]
    assert execute.runs["b"] == 1
    # the flow process gone at that point: the replay runs no handler either
    assert replay_lifecycle(wf, "fake-run", [], "canceled", logging.getLogger("test")) == []


def test_a_stopped_run_is_not_retried(tmp_path, monkeypatch):
    execute = fake_execute({}, hang="b")

    def stop_when_b_runs():
        deadline = time.monotonic() + 10
        while execute.runs.get("b") is None and time.monotonic() < deadline:
            time.sleep(0.01)
        core.RUNS["fake-run"].control.request_stop("signal")

    _, report = run_fake(tmp_path, monkeypatch, CHAIN, execute, policy=DagRetry(limit=3, interval=0.01),
                         during=stop_when_b_runs)
    assert report.status == "canceled" and report.attempts == 1
    assert [s for s in execute.seen if not s.startswith("onInit")] == ["onCancel:canceled", "onExit:canceled"]


def test_a_stop_during_the_handlers_means_no_further_attempt(tmp_path, monkeypatch):
    execute = fake_execute({"b": -1})
    original = execute

    def stopping(ctx, step, rec, **kw):
        if rec.name == "onExit":  # Dagu lets the handler finish; the run then ends aborted
            core.RUNS[ctx.run_id].control.request_stop("signal")
        return original(ctx, step, rec, **kw)

    _, report = run_fake(tmp_path, monkeypatch, CHAIN, stopping, policy=DagRetry(limit=3, interval=30))
    assert report.status == "canceled" and report.attempts == 1
    assert report.message == "stopped by signal while retry 1 of 3 was pending"
    assert report.node("onExit").phase == "succeeded" and "onFailure" not in {n.name for n in report.nodes}


def test_retry_runs_the_failed_and_everything_below_them():
    wf_steps = load_steps("""
        steps:
          - {name: a, command: 'true'}
          - {name: b, command: 'true', depends: [a]}
          - {name: c, command: 'true', depends: [b]}
          - {name: d, command: 'true', depends: [a]}
          - {name: e, command: 'true', depends: [d, c]}
          - {name: s, command: 'true'}
    """)
    phases = {"a": "succeeded", "b": "failed", "c": "canceled", "d": "skipped", "e": "canceled", "s": "not_started"}
    assert retry_nodes(wf_steps, phases) == ["b", "c", "e", "s"]
    phases.update(b="succeeded", c="succeeded", d="failed")
    assert retry_nodes(wf_steps, phases) == ["d", "e", "s"]


def load_steps(text: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "dag.yaml")
        path.write_text(textwrap.dedent(text))
        return load(path).steps


# ---------------------------------------------------------------- the delay (Dagu ir.CalculateBackoffInterval)


def test_delays_are_dagus():
    assert [DagRetry(5, 60, 2.0, 200).delay(n) for n in range(4)] == [60, 120, 200, 200]
    assert [DagRetry(5, 10, 1.5).delay(n) for n in range(3)] == [10, 15, 22.5]
    assert DagRetry(5, 60, 0.0, 10).delay(3) == 60  # a fixed interval is never capped
    assert DagRetry(1).delay(0) == 60  # Dagu's default interval
    assert DagRetry(5000, 60, 2.0).delay(4000) == 3600  # capped, no overflow


# ---------------------------------------------------------------- translator


def translate(tmp_path, policy: str):
    path = tmp_path / "dag.yaml"
    path.write_text(f"retry_policy: {policy}\nsteps:\n  - command: 'true'\n")
    return check(path)


@pytest.mark.parametrize("policy, expected", [
    ("{limit: 3}", DagRetry(3, 60.0, 0.0, 3600.0)),
    ("{limit: '2', interval_sec: '5', backoff: true, max_interval_sec: 30}", DagRetry(2, 5.0, 2.0, 30.0)),
    ("{limit: 1, backoff: 1.5, interval_sec: 007}", DagRetry(1, 7.0, 1.5, 3600.0)),
    ("{limit: 4, backoff: false}", DagRetry(4, 60.0, 0.0, 3600.0)),
    ("{limit: 0}", None),  # 0 turns DAG retries off
    ("null", None),
])
def test_translator_reads_the_policy(tmp_path, policy, expected):
    result = translate(tmp_path, policy)
    assert result.ok, result.problems
    assert result.workflow.retry == expected


@pytest.mark.parametrize("policy, message", [
    ("{limit: -1}", "limit must be >= 0, got -1"),
    ("{limit: many}", "limit must be a whole number or a string of digits, got a string 'many'"),
    ("{limit: 1.5}", "limit must be a whole number or a string of digits, got a number '1.5'"),
    ("{limit: '${N}'}", "limit must be a whole number or a string of digits, got a string '${N}'"),
    ("{limit: 1, interval_sec: '0'}", "interval_sec must be > 0, got 0"),
    ("{limit: 1, max_interval_sec: 0}", "max_interval_sec must be > 0, got 0"),
    ("{limit: 1, backoff: '2'}", "backoff must be true, false or a number greater than 1, got a string"),
    ("{limit: 1, backoff: 1}", "backoff must be true or a number greater than 1, got 1"),
    ("{limit: 1, exit_code: [1]}", "unknown retry_policy key 'exit_code'"),
    ("{interval_sec: 5}", "limit is required when retry_policy is specified"),
    ("3", "retry_policy must be a mapping, got a number"),
])
def test_translator_refuses_what_dagu_refuses(tmp_path, policy, message):
    result = translate(tmp_path, policy)
    assert not result.ok and result.workflow is None
    assert any(message in p.message for p in result.problems), [p.message for p in result.problems]
    assert all(p.mark and p.mark.line == 1 for p in result.problems)


def test_plan_shows_the_policy(tmp_path):
    from rich.console import Console

    from flowport.cli.views import render_plan

    result = translate(tmp_path, "{limit: 5, interval_sec: 10, backoff: true, max_interval_sec: 50}")
    console = Console(record=True, width=200)
    render_plan(console, result.workflow)
    assert "retry_policy: a failed run runs again up to 5×, after 10s, 20s, 40s, 50s, …" in console.export_text()


# ---------------------------------------------------------------- `flowport run`, for real

DAG = """
name: retried
retry_policy:
  limit: 2
  interval_sec: 1
steps:
  - name: first
    command: sh -c 'echo first >> first.txt'
  - name: flaky
    command: sh -c 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; test "$n" -ge 1'
    depends: [first]
handler_on:
  success:
    command: echo "success:$DAG_RUN_STATUS" >> order.txt
  failure:
    command: echo "failure:$DAG_RUN_STATUS" >> order.txt
  exit:
    command: echo "exit:$DAG_RUN_STATUS" >> order.txt
"""


def test_flowport_run_retries_a_failed_run(prefect_server, tmp_path):
    (tmp_path / "dag.yaml").write_text(DAG)
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "run", "dag.yaml", "--report", "report.json",
                           "--no-logs"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "succeeded" and report["attempts"] == 2
    assert "2 attempts" in done.stdout
    assert (tmp_path / "order.txt").read_text().split() == ["exit:failed", "success:succeeded", "exit:succeeded"]
    assert (tmp_path / "first.txt").read_text().split() == ["first"]  # not run again
    assert (tmp_path / "count").read_text().strip() == "2"


def test_sigterm_while_the_retry_waits_ends_flowport_run_aborted(prefect_server, tmp_path):
    (tmp_path / "dag.yaml").write_text(DAG.replace("interval_sec: 1", "interval_sec: 60").replace(
        'test "$n" -ge 1', "false"))
    proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "run", "dag.yaml", "--report", "report.json",
                             "--no-logs"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        order = tmp_path / "order.txt"
        deadline = time.monotonic() + 60
        while not (order.exists() and "exit:failed" in order.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the run mail (none here) and the wait begin
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "canceled" and report["attempts"] == 1, out
    assert "while retry 1 of 2 was pending" in report["message"]
    assert order.read_text().split() == ["exit:failed"]
