"""Stopping a run: SIGTERM / Ctrl-C of `flowport run`, and a cancel through the Prefect API.
A real `flowport run` subprocess against the session's Prefect server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit.procs import alive, wait_for

DAG = """
name: stoppable
steps:
  - name: long
    command: sh -c 'echo $$ > long.pid; echo "$DAG_RUN_ID" > run.id; sleep 60'
  - name: after
    command: touch after-ran
handlerOn:
  success:
    command: echo success >> handlers.txt
  failure:
    command: echo failure >> handlers.txt
  cancel:
    command: echo "cancel:$DAG_RUN_STATUS" >> handlers.txt
  exit:
    command: echo "exit:$DAG_RUN_STATUS" >> handlers.txt
"""


@pytest.fixture
def start_run(tmp_path: Path):
    """start_run() -> the `flowport run` subprocess; killed (with its step) if a test leaves
    it running."""
    started: list[subprocess.Popen] = []

    def _start(dag: str = DAG) -> subprocess.Popen:
        (tmp_path / "dag.yaml").write_text(dag)
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowport.cli", "run", "dag.yaml", "--report", "report.json", "--no-logs"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    step = tmp_path / "long.pid"
    if step.exists() and step.read_text().strip().isdigit() and alive(int(step.read_text())):
        os.kill(int(step.read_text()), signal.SIGKILL)


def assert_canceled(tmp_path: Path, proc: subprocess.Popen, pid: int) -> dict:
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "canceled", output
    phases = {n["name"]: n["phase"] for n in report["nodes"]}
    assert phases["long"] == "canceled"
    assert phases["after"] == "not_started"
    assert phases["onCancel"] == phases["onExit"] == "succeeded"
    # each handler exactly once, in order, seeing the canceled status
    assert (tmp_path / "handlers.txt").read_text().split() == ["cancel:canceled", "exit:canceled"]
    assert not (tmp_path / "after-ran").exists()
    assert not alive(pid), "the step's process survived the stop"
    return report


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_steps_then_runs_cancel_and_exit_once(prefect_server, tmp_path, start_run, sig):
    proc = start_run()
    pid = int(wait_for(tmp_path / "long.pid", proc=proc))
    proc.send_signal(sig)
    started = time.monotonic()
    assert_canceled(tmp_path, proc, pid)
    assert time.monotonic() - started < 30  # sleep 60 was stopped, not waited for


def test_cancel_through_the_prefect_api(prefect_server, tmp_path, start_run):
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    proc = start_run()
    pid = int(wait_for(tmp_path / "long.pid", proc=proc))
    run_id = wait_for(tmp_path / "run.id", proc=proc)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Cancelling(message="cancel from the UI"), force=True)
    report = assert_canceled(tmp_path, proc, pid)
    assert "Prefect" in (report["message"] or "")
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state.is_cancelled(), state
    assert "canceled" in (state.message or "")


HANGING_CANCEL = DAG.replace(
    """    command: echo "cancel:$DAG_RUN_STATUS" >> handlers.txt""",
    """    command: sh -c 'echo "cancel:$DAG_RUN_STATUS" >> handlers.txt; echo $$ > cancel.pid; sleep 120'""")


def test_second_signal_force_stops_a_hanging_cancel_handler_and_exit_still_runs(prefect_server, tmp_path,
                                                                                start_run):
    """The README's promise: a second Ctrl-C kills what hangs. Here the cancel handler hangs:
    the second SIGTERM force-stops that handler only; the exit handler still runs, once."""
    proc = start_run(HANGING_CANCEL)
    pid = int(wait_for(tmp_path / "long.pid", proc=proc))
    proc.send_signal(signal.SIGTERM)
    handler_pid = int(wait_for(tmp_path / "cancel.pid", proc=proc))
    time.sleep(0.5)  # a person's second Ctrl-C, not the same burst (core.STORM_WINDOW)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    report = json.loads((tmp_path / "report.json").read_text())
    phases = {n["name"]: n["phase"] for n in report["nodes"]}
    assert report["status"] == "canceled", output
    assert phases["onCancel"] == "canceled" and phases["onExit"] == "succeeded", phases
    assert (tmp_path / "handlers.txt").read_text().split() == ["cancel:canceled", "exit:canceled"]
    assert not alive(pid) and not alive(handler_pid)


def test_a_storm_of_sigterms_still_ends_canceled_with_summary_and_report(prefect_server, tmp_path, start_run):
    """30 SIGTERMs 30 ms apart: flowport does not die of them (Prefect's own SIGTERM bridge
    must not see them), writes its summary and report, and the flow run ends Cancelled."""
    from prefect.client.orchestration import get_client

    proc = start_run()
    pid = int(wait_for(tmp_path / "long.pid", proc=proc))
    run_id = wait_for(tmp_path / "run.id", proc=proc)
    for _ in range(30):
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.03)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    assert "Traceback" not in output and "stoppable: canceled" in output, output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "canceled"
    phases = {n["name"]: n["phase"] for n in report["nodes"]}
    assert phases["onCancel"] == phases["onExit"] == "succeeded"  # the storm was one request
    assert (tmp_path / "handlers.txt").read_text().split() == ["cancel:canceled", "exit:canceled"]
    assert not alive(pid)
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state.is_cancelled(), state


def test_cleanup_ends_the_orphans_of_a_killed_flowport_and_marks_the_run_crashed(prefect_server, tmp_path,
                                                                                start_run):
    """SIGKILL of `flowport run` leaves its step running (steps have their own sessions) and
    the flow run Running: `flowport cleanup` ends the step and marks the run Crashed."""
    from prefect.client.orchestration import get_client

    proc = start_run()
    pid = int(wait_for(tmp_path / "long.pid", proc=proc))
    run_id = wait_for(tmp_path / "run.id", proc=proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert alive(pid), "the step should have outlived its killed flowport (else this test proves nothing)"
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "cleanup"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: no Docker Engine for the containers
    assert f"ended the leftovers of run {run_id}" in done.stdout, done.stdout + done.stderr
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid), "cleanup left the orphaned step running"
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state.is_crashed(), state
    assert not (tmp_path / "handlers.txt").exists()  # Dagu runs no handler for a killed run


ARGO_SUSPENDED = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: argo-cancel-me}
spec:
  entrypoint: wait
  onExit: bye
  templates:
    - name: wait
      suspend: {duration: "120"}
    - name: bye
      suspend: {duration: "0"}
"""


def test_an_argo_run_cancelled_through_the_prefect_api_ends_cancelled(prefect_server, tmp_path, start_run):
    """Argo's stop ends the workflow Failed; a cancel that came from Prefect still ends the
    flow run Cancelled (named after the Argo phase), never stuck in Cancelling."""
    import json
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.states import Cancelling

    proc = start_run(ARGO_SUSPENDED)
    deadline = time.monotonic() + 120
    run = None
    with get_client(sync_client=True) as client:
        while run is None and time.monotonic() < deadline and proc.poll() is None:
            runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["argo-cancel-me"])))
            run = next((r for r in runs if r.state and r.state.is_running()), None)
            time.sleep(0.5)
        assert run is not None, proc.communicate()[0] if proc.poll() is not None else "no running flow run"
        time.sleep(1)  # the suspend node is waiting
        client.set_flow_run_state(run.id, Cancelling(message="cancel from the UI"), force=True)
        proc.communicate(timeout=120)
        state = client.read_flow_run(run.id).state
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "Failed" and report["message"] == "Stopped with strategy 'Stop'"
    assert {n["display_name"]: n["phase"] for n in report["nodes"]}["onExit"] == "Succeeded"
    assert state.is_cancelled() and state.name == "Failed", state
