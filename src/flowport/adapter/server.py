"""Prefect's embedded server for `flowport run` when no PREFECT_API_URL is set.

Prefect would start the same server itself (its "ephemeral" mode), but with the server's
output on our terminal: its shutdown noise would bury the run's summary. We start Prefect's
own server app the same way, with its output in a log file, and stop it when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_log_path() -> Path:
    base = Path(os.environ.get("FLOWPORT_HOME") or Path.home() / ".flowport")
    base.mkdir(parents=True, exist_ok=True)
    return base / "prefect-server.log"


@contextlib.contextmanager
def embedded_server(timeout: float = 60.0) -> Iterator[str]:
    """Start Prefect's server on 127.0.0.1 for the duration of the block; yields its API URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = open(server_log_path(), "ab")
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=env,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C on the terminal goes to flowport, not to the server
    )
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the embedded Prefect server exited; see {server_log_path()}")
                try:
                    if client.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the embedded Prefect server did not start in {timeout:g}s; see {server_log_path()}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextlib.contextmanager
def prefect_api() -> Iterator[str | None]:
    """Use the server in PREFECT_API_URL, or start Prefect's embedded one."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield PREFECT_API_URL.value()
        return
    with embedded_server() as url, temporary_settings({PREFECT_API_URL: url}):
        try:
            yield url
        finally:
            flush_logs()


def flush_logs() -> None:
    """Send queued Prefect logs before the server they go to stops."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=5)
        except Exception:  # logging must never fail the run
            pass
