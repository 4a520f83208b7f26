"""The run core without Prefect: the stop ladders, the report registry, and Dagu's status
and lifecycle rules driven through the Dagu program with a fake executor (no processes,
no Prefect: milliseconds)."""

from __future__ import annotations

import logging
import textwrap

import pytest

from flowport.adapter.core import InlineLeaves, Reports, RunControl, drive
from flowport.adapter.options import RunOptions
from flowport.adapter.report import RunReport
from flowport.model import Semantics
from flowport.translators import load

DAGU = Semantics()
ARGO = Semantics(vocabulary="argo", stop_ladder="argo", lifecycle_after_crash=True)


# ---------------------------------------------------------------- stop ladders


def later(c: RunControl) -> RunControl:
    """As if the previous signal came a while ago (a person's second Ctrl-C, not a storm)."""
    c.last_signal -= 10
    return c


def test_dagu_first_stop_is_graceful_the_second_kills():
    c = RunControl(DAGU)
    c.request_stop("signal")
    assert c.shutdown == "Stop" and c.main.requested.is_set() and not c.main.forced.is_set()
    later(c).request_stop("signal")
    assert c.main.forced.is_set() and not c.lifecycle.requested.is_set()


def test_dagu_handlers_survive_the_first_stop_and_the_second_kills_them():
    c = RunControl(DAGU)
    c.enter_lifecycle()
    c.request_stop("signal")
    assert not c.lifecycle.requested.is_set() and c.shutdown is None
    later(c).request_stop("signal")
    assert c.lifecycle.forced.is_set()


@pytest.mark.parametrize("semantics", [DAGU, ARGO], ids=["dagu", "argo"])
def test_one_prefect_cancel_seen_twice_is_one_stop(semantics):
    """The run's watcher sees Cancelling, then the worker delivers the same cancel as
    SIGTERM: that must not escalate (Argo: to Terminate, which would skip onExit)."""
    c = RunControl(semantics)
    c.request_stop("Prefect")
    c.request_stop("Prefect")
    assert c.shutdown == "Stop" and not c.main.forced.is_set() and not c.lifecycle.requested.is_set()


def test_argo_stop_then_terminate_then_kill():
    c = RunControl(ARGO)
    c.request_stop("signal")
    assert c.shutdown == "Stop" and not c.lifecycle.requested.is_set()
    later(c).request_stop("signal")
    assert c.shutdown == "Terminate" and c.lifecycle.requested.is_set() and not c.lifecycle.forced.is_set()
    later(c).request_stop("signal")
    assert c.main.forced.is_set() and c.lifecycle.forced.is_set()


def test_argo_on_cancel_terminate_and_forced_strategy():
    c = RunControl(ARGO, first_stop="terminate")
    c.request_stop("signal")
    assert c.shutdown == "Terminate" and c.lifecycle.requested.is_set()
    c = RunControl(ARGO)
    c.request_stop("conformance", strategy="Terminate")  # what `argo terminate` asks for
    assert c.shutdown == "Terminate"


def test_a_burst_of_signals_is_one_request():
    c = RunControl(DAGU)
    for _ in range(30):
        c.request_stop("signal")
    assert c.shutdown == "Stop" and not c.main.forced.is_set()
    later(c).request_stop("signal")
    assert c.main.forced.is_set()


def test_stop_listener_hears_every_request():
    heard = []
    c = RunControl(DAGU)
    c.on_stop = heard.append
    c.request_stop("signal")
    c.request_stop("Prefect")  # ignored: already stopped
    assert heard == ["signal"]


# ---------------------------------------------------------------- registry


def _report(i: int) -> RunReport:
    return RunReport(workflow="w", dialect="dagu-v1", status="succeeded", message=None, started_at=None,
                     finished_at=None, params={}, nodes=[], outputs={}, run_id=str(i))


def test_reports_are_taken_once_and_bounded():
    reports = Reports(limit=3)
    for i in range(5):
        reports.put(str(i), _report(i))
    assert len(reports) == 3 and reports.get("0") is None  # the oldest went first
    assert reports.pop("4").run_id == "4" and reports.pop("4") is None


# ---------------------------------------------------------------- Dagu rules, fake executor


def fake_execute(outcomes: dict[str, str]):
    """An executor that runs nothing: a node's phase comes from `outcomes` (default
    succeeded); handlers record the DAG_RUN_STATUS they saw."""
    seen: list[str] = []

    def execute(ctx, step, rec, *, logger, stop, handler=None, status=None):
        from flowport.adapter.dagu.status import failure_continues
        from flowport.adapter.records import now
        from flowport.adapter.runners.base import RunResult

        rec.started_at = rec.started_at or now()
        rec.attempts += 1
        phase = outcomes.get(rec.name, "succeeded")
        if phase == "wait":  # a step that runs until it is stopped
            stop.requested.wait(5)
            phase = "canceled"
        rec.phase, rec.finished_at = phase, now()
        if phase == "failed":  # what execute_node decides from the step's continueOn
            rec.continued = failure_continues(step.continue_on, 1, "")
        if handler:
            seen.append(f"{rec.name}:{status}")
        code = 0 if phase == "succeeded" else 1
        return RunResult(exit_code=code, stopped=phase == "canceled")

    execute.seen = seen
    return execute


def run_fake(tmp_path, monkeypatch, text: str, outcomes: dict[str, str], *, stop_after: str | None = None):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))
    path = tmp_path / "dag.yaml"
    path.write_text(textwrap.dedent(text) + HANDLERS)
    wf = load(path)
    execute = fake_execute(outcomes)
    from flowport.adapter import core
    from flowport.adapter.dagu.program import DaguProgram

    class Program(DaguProgram):
        def __init__(self, wf, **kw):
            super().__init__(wf, execute=execute, **kw)

    monkeypatch.setattr(core, "make_program", lambda wf, **kw: Program(wf, **kw))
    if stop_after:  # stop the run once that node has started
        original = execute

        def stopping(ctx, step, rec, **kw):
            if rec.name == stop_after:
                core.RUNS[ctx.run_id].control.request_stop("signal")
            return original(ctx, step, rec, **kw)

        Program.__init__ = lambda self, wf, **kw: DaguProgram.__init__(self, wf, execute=stopping, **kw)
    report = drive(wf, run_id="fake-run", params=None, options=RunOptions(),
                   leaves=InlineLeaves(logging.getLogger("test")), publish=False)
    return report, execute.seen


HANDLERS = """
handlerOn:
  success: {command: "true"}
  failure: {command: "true"}
  cancel: {command: "true"}
  exit: {command: "true"}
"""


def phases(report):
    return {n.name: n.phase for n in report.nodes}


def test_dagu_success_runs_success_then_exit(tmp_path, monkeypatch):
    report, seen = run_fake(tmp_path, monkeypatch, "steps:\n  - name: a\n    command: 'true'\n", {})
    assert report.status == "succeeded"
    assert seen == ["onSuccess:succeeded", "onExit:succeeded"]


def test_dagu_failure_cancels_dependants_and_runs_failure_then_exit(tmp_path, monkeypatch):
    text = """
        steps:
          - name: a
            command: 'false'
          - name: b
            command: 'true'
            depends: [a]
    """
    report, seen = run_fake(tmp_path, monkeypatch, text, {"a": "failed"})
    assert report.status == "failed" and phases(report)["b"] == "canceled"
    assert seen == ["onFailure:failed", "onExit:failed"]


def test_dagu_continue_on_failure_is_partially_succeeded(tmp_path, monkeypatch):
    text = """
        steps:
          - name: a
            command: 'false'
            continueOn: {failure: true}
          - name: b
            command: 'true'
            depends: [a]
    """
    report, seen = run_fake(tmp_path, monkeypatch, text, {"a": "failed"})
    assert report.status == "partially_succeeded"
    assert seen == ["onSuccess:partially_succeeded", "onExit:partially_succeeded"]


def test_dagu_failing_success_handler_fails_the_run_and_exit_still_runs(tmp_path, monkeypatch):
    text = "steps:\n  - name: a\n    command: 'true'\n"
    report, seen = run_fake(tmp_path, monkeypatch, text, {"onSuccess": "failed"})
    assert report.status == "failed"
    assert seen == ["onSuccess:succeeded", "onExit:failed"]  # exit sees the status it made


def test_dagu_stop_cancels_and_runs_cancel_then_exit_once(tmp_path, monkeypatch):
    text = """
        steps:
          - name: a
            command: sleep 5
          - name: b
            command: 'true'
            depends: [a]
    """
    report, seen = run_fake(tmp_path, monkeypatch, text, {"a": "wait"}, stop_after="a")
    assert report.status == "canceled" and report.message == "stopped by signal"
    assert phases(report)["a"] == "canceled" and phases(report)["b"] == "not_started"
    assert seen == ["onCancel:canceled", "onExit:canceled"]
    claims = tmp_path / "logs" / "dag" / "fake-run" / "claims"
    assert sorted(p.name for p in claims.iterdir()) == ["finished", "handler-cancel", "handler-exit", "started"]


def test_dagu_unmet_dag_precondition_cancels(tmp_path, monkeypatch):
    text = """
        preconditions:
          - condition: "x"
            expected: "y"
        steps:
          - name: a
            command: 'true'
    """
    report, seen = run_fake(tmp_path, monkeypatch, text, {})
    assert report.status == "canceled" and "precondition" in report.message
    assert seen == ["onCancel:canceled", "onExit:canceled"]


def test_a_deployed_run_that_ends_cancelled_logs_one_info_line_not_a_traceback():
    """Prefect's engine raises CancelledRun/FailedRun from the final state the flow returned
    and logs it as an unexpected exception; flowport's filter turns it into one INFO line."""
    import io

    from prefect.exceptions import CancelledRun, FailedRun

    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("prefect.flow_runs")
    log.addHandler(handler)
    try:
        for exc in (CancelledRun("etl: canceled (stopped by Prefect)"), FailedRun("etl: failed")):
            try:
                raise exc
            except Exception:
                log.error("Engine execution exited with unexpected exception", exc_info=True)
        try:
            raise RuntimeError("a real bug")
        except RuntimeError:
            log.error("Engine execution exited with unexpected exception", exc_info=True)
    finally:
        log.removeHandler(handler)
    lines = buf.getvalue().splitlines()
    assert lines[:2] == ["INFO flowport: the flow run ended Cancelled: etl: canceled (stopped by Prefect)",
                         "INFO flowport: the flow run ended Failed: etl: failed"]
    assert lines[2] == "ERROR Engine execution exited with unexpected exception"  # real errors stay
    assert "RuntimeError: a real bug" in buf.getvalue()
