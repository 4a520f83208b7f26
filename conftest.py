"""Fixtures shared by tests/ and integration/: one Prefect embedded server per test session
(Prefect's own server app on 127.0.0.1), and a helper that runs a DAG text through flowport."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import textwrap

import pytest


def _isolate_user_state() -> None:
    """Nothing a test does lands in the user's Prefect or flowport state: a PREFECT_HOME and a
    FLOWPORT_HOME of the session's own (scripts/test sets them for the corpora too; its
    folders are kept then), no profile or server of the user's. Runs at import of this
    file, before any test module imports Prefect (which reads its settings once)."""
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH", "PREFECT_UI_URL"):
        os.environ.pop(key, None)
    if os.environ.get("FLOWPORT_TEST_ISOLATED") != "1":
        root = tempfile.mkdtemp(prefix="flowport-tests-")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        atexit.register(_stop_local_server)  # runs first (atexit is last in, first out)
        os.environ["PREFECT_HOME"] = os.path.join(root, "prefect")
        os.environ["FLOWPORT_HOME"] = os.path.join(root, "flowport")
        os.environ["FLOWPORT_TEST_ISOLATED"] = "1"


def _stop_local_server() -> None:
    """A `flowport run` without PREFECT_API_URL in a test leaves the local server that stays:
    it goes with the session."""
    from pathlib import Path

    if (Path(os.environ["FLOWPORT_HOME"]) / "server" / "server.json").exists():
        from flowport.adapter.server import stop_local_server

        stop_local_server()


_isolate_user_state()
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flowport.adapter.server import embedded_server

    os.environ["FLOWPORT_LOG_DIR"] = str(tmp_path_factory.mktemp("logs"))
    from flowport.adapter import flush_logs

    with embedded_server() as url, temporary_settings({PREFECT_API_URL: url}):
        os.environ["PREFECT_API_URL"] = url  # for subprocesses started by tests
        yield url
        flush_logs()
    os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture
def run_dag(prefect_server, tmp_path):
    """run_dag(yaml_text, params=[...], name="dag.yaml") -> RunReport, run in tmp_path."""
    from flowport.adapter import run
    from flowport.translators import load

    def _run(text: str, params=None, name: str = "dag.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return run(load(path), params)

    return _run

