"""`flowport cleanup` removes only what runs that are no longer running left: real containers
and volumes on the Docker Engine, runs told apart by their claims on this host."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid

import docker.errors
import pytest

from flowport.adapter.runfiles import claim, run_dir


@pytest.fixture
def runs(docker_engine, tmp_path):
    """Containers and volumes of three runs: one still running (its owner is this process),
    one ended, one this host knows nothing of; and a volume with no run label."""
    api = docker_engine.api
    tag = uuid.uuid4().hex[:8]
    ids = {"live": str(uuid.uuid4()), "ended": str(uuid.uuid4()), "unknown": str(uuid.uuid4())}
    logs = tmp_path / "logs"
    env = {**{k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")},
           "FLOWPORT_LOG_DIR": str(logs), "FLOWPORT_HOME": str(tmp_path / "home"),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    old = os.environ.get("FLOWPORT_LOG_DIR")
    os.environ["FLOWPORT_LOG_DIR"] = str(logs)
    try:
        assert claim(run_dir("wf", ids["live"]), "started")  # this process: alive
        assert claim(run_dir("wf", ids["ended"]), "started") and claim(run_dir("wf", ids["ended"]), "finished")
    finally:
        os.environ.pop("FLOWPORT_LOG_DIR") if old is None else os.environ.update(FLOWPORT_LOG_DIR=old)
    containers, volumes = {}, {}
    for key, rid in ids.items():
        labels = {"flowport.managed": "true", "flowport.run-id": rid, "flowport.step": "s"}
        name = f"flowport-cleanup-{key}-{tag}"
        api.create_container("busybox", command=["true"], name=name, labels=labels)
        containers[key] = name
        volumes[key] = api.create_volume(f"flowport-cleanup-{key}-{tag}", labels=labels)["Name"]
    volumes["unlabelled"] = api.create_volume(f"flowport-cleanup-norun-{tag}", labels={"flowport.managed": "true"})["Name"]
    try:
        yield ids, containers, volumes, env
    finally:
        for name in containers.values():
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(name, force=True)
        for name in volumes.values():
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_volume(name, force=True)


def cleanup(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowport.cli", "cleanup", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def present(docker_engine, containers: dict, volumes: dict) -> set[str]:
    api = docker_engine.api
    found = set()
    for key, name in containers.items():
        with contextlib.suppress(docker.errors.NotFound):
            api.inspect_container(name)
            found.add(f"container:{key}")
    for key, name in volumes.items():
        with contextlib.suppress(docker.errors.NotFound):
            api.inspect_volume(name)
            found.add(f"volume:{key}")
    return found


def test_cleanup_lists_first_removes_only_ended_runs_and_all_removes_the_rest(docker_engine, runs):
    ids, containers, volumes, env = runs
    everything = present(docker_engine, containers, volumes)
    assert len(everything) == 7

    dry = cleanup(env, "--dry-run")  # the whole engine, nothing changes
    assert dry.returncode == 0, dry.stdout + dry.stderr
    lines = dry.stdout.splitlines()
    assert any(line.startswith("would remove") and containers["ended"] in line and "its run ended" in line
               for line in lines), dry.stdout
    assert any(line.startswith("would remove") and volumes["ended"] in line for line in lines), dry.stdout
    assert any(line.startswith("keep") and containers["live"] in line and "process is running" in line
               for line in lines), dry.stdout
    assert any(line.startswith("keep") and containers["unknown"] in line and "no record" in line
               for line in lines), dry.stdout
    assert any(line.startswith("keep") and volumes["unlabelled"] in line for line in lines), dry.stdout
    assert "nothing changed" in dry.stdout
    assert present(docker_engine, containers, volumes) == everything

    for key in ("live", "unknown", "ended"):  # one run at a time: other runs on this engine stay out of it
        done = cleanup(env, "--run-id", ids[key])
        assert done.returncode == 0, done.stdout + done.stderr
    assert present(docker_engine, containers, volumes) == everything - {"container:ended", "volume:ended"}
    assert "1 container(s) removed, 1 volume(s) removed, 0 kept" in done.stdout  # the ended run's

    done = cleanup(env, "--all", "--run-id", ids["live"])  # the old behaviour: running or not
    assert done.returncode == 0, done.stdout + done.stderr
    assert "container:live" not in present(docker_engine, containers, volumes)
    assert "volume:live" not in present(docker_engine, containers, volumes)
