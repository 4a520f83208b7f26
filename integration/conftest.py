"""Fixtures for the integration tests. Docker: a real Docker Engine with the local stand-in
images of ../shared/tools/container-env.sh (nothing is pulled). Receivers: one plain SMTP
server and one HTTP receiver per test module (testkit.servers), emptied for each test."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

@pytest.fixture(scope="module")
def smtp_server():
    from testkit.servers import SmtpServer

    with SmtpServer("plain") as server:
        yield server


@pytest.fixture
def mailbox(smtp_server):
    """The module's plain SMTP server, with no mail yet."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="module")
def http_server():
    from testkit.servers import HttpReceiver

    with HttpReceiver() as server:
        yield server


@pytest.fixture
def receiver(http_server):
    """The module's HTTP receiver, with no request yet, answering 200."""
    http_server.clear()
    http_server.status = 200
    return http_server


CONTAINER_ENV_SCRIPT = Path(__file__).resolve().parents[2] / "shared" / "tools" / "container-env.sh"


def _docker_reachable() -> str | None:
    """None when the daemon answers, else why not."""
    from flowport.adapter.runners.docker import DockerUnavailable, shared_client

    try:
        shared_client().ping()
        return None
    except DockerUnavailable as exc:
        return str(exc)


@pytest.fixture(scope="session")
def docker_engine():
    """The Docker Engine, started with container-env.sh when it is not running yet; skips
    the test (with the reason) only when it cannot be reached or started."""
    problem = _docker_reachable()
    if problem and CONTAINER_ENV_SCRIPT.is_file():
        try:
            subprocess.run(["bash", str(CONTAINER_ENV_SCRIPT)], capture_output=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
        problem = _docker_reachable()
    if problem:
        pytest.skip(f"no Docker Engine: {problem}")
    from flowport.adapter.runners.docker import shared_client

    return shared_client()


@pytest.fixture
def run_id(docker_engine):
    """A fresh run id; whatever a test leaves behind under it is removed afterwards."""
    from flowport.adapter.runners.docker import cleanup

    rid = f"test-{uuid.uuid4().hex[:12]}"
    yield rid
    cleanup(rid, client=docker_engine)  # the client of setup time: a test may change DOCKER_HOST


@pytest.fixture
def run_labels(run_id):
    return {"flowport.run-id": run_id, "flowport.step": "step"}


@pytest.fixture
def containers_of(docker_engine):
    """containers_of(run_id) -> the run's containers (any state), found by label."""

    def _list(rid: str) -> list[dict]:
        return docker_engine.api.containers(all=True, filters={"label": [f"flowport.run-id={rid}"]})

    return _list
