"""The pieces of the local server that stays and of cleanup's run check that need no server:
idle periods, the profile's PREFECT_API_URL, leases of live and gone processes, a run's
running state from its claims, the alert's duration. (integration/test_local_server.py
starts the real one.)"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from flowport.adapter import server
from flowport.adapter.orphans import run_running
from flowport.adapter.runfiles import claim, run_dir


@pytest.mark.parametrize("text, seconds", [("900", 900), ("90s", 90), ("15m", 900), ("2h", 7200), ("1.5m", 90)])
def test_idle_periods(text, seconds):
    assert server.parse_idle(text) == seconds


def test_a_bad_idle_period_says_what_it_wants():
    with pytest.raises(ValueError, match="FLOWPORT_SERVER_IDLE"):
        server.parse_idle("soon")


def test_api_url_from_the_environment_or_the_active_profile(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert server.configured_api_url() is None  # no profiles file
    (tmp_path / "profiles.toml").write_text(
        'active = "work"\n[profiles.work]\nPREFECT_API_URL = "http://10.0.0.1:4200/api"\n[profiles.ephemeral]\n')
    assert server.configured_api_url() == "http://10.0.0.1:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert server.configured_api_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    assert server.configured_api_url() == "http://127.0.0.1:1/api"


def _gone_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_leases_of_living_processes_count(tmp_path):
    leases = tmp_path / "leases"
    leases.mkdir()
    mine = server._take_lease(tmp_path)
    (leases / "killed").write_text(f"{_gone_pid()} \n")
    (leases / "reused-pid").write_text(f"{os.getpid()} 1\n")  # our pid, another start time
    (leases / "garbage").write_text("not a pid")
    assert server.live_leases(tmp_path) == 1
    assert sorted(p.name for p in leases.iterdir()) == [mine.name]  # the dead ones are gone


def test_a_run_is_running_while_its_owner_lives(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    live, ended, killed = (str(uuid.uuid4()) for _ in range(3))
    for rid in (live, ended, killed):
        assert claim(run_dir("wf", rid), "started")
    assert claim(run_dir("wf", ended), "finished")
    (run_dir("wf", killed) / "claims" / "started").write_text(f"{_gone_pid()}\n")
    assert run_running(live) is True
    assert run_running(ended) is False
    assert run_running(killed) is False
    assert run_running(str(uuid.uuid4())) is None  # no record on this host


def test_alert_duration_is_the_runs_not_the_unfinished_flow_runs():
    from prefect.client.schemas.objects import FlowRun

    from flowport.adapter.notify import run_duration
    from flowport.adapter.report import RunReport

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    # what a state hook gets: the engine's flow run, final state set, no end time, no run time
    flow_run = FlowRun(flow_id=uuid.uuid4(), name="r", start_time=start)
    assert flow_run.end_time is None and flow_run.total_run_time.total_seconds() == 0
    report = RunReport(workflow="w", dialect="dagu-v1", status="succeeded", message=None, params={},
                       nodes=[], outputs={}, started_at=start.isoformat(),
                       finished_at=(start + timedelta(seconds=2.3)).isoformat())
    assert run_duration(report, flow_run) == pytest.approx(2.3)
    # no report (the run crashed before it reported): from the flow run's start to now
    assert run_duration(None, flow_run) > 2.3
