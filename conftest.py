"""Fixtures shared by tests/ and integration/: one Prefect embedded server per test session
(Prefect's own server app on 127.0.0.1), and a helper that runs a DAG text through flowport."""

from __future__ import annotations

import os
import textwrap

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
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

