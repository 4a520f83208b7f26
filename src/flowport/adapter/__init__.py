"""IR → Prefect. `run()` runs a workflow now, in this process."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from ..model import Workflow
from .options import RunOptions
from .report import RunReport

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextlib.contextmanager
def prefect_api() -> Iterator[str | None]:
    """Use the server in PREFECT_API_URL, or start Prefect's embedded one."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield PREFECT_API_URL.value()
        return
    from .server import embedded_server

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


def run(wf: Workflow, params: list[tuple[str, str]] | None = None, options: RunOptions | None = None) -> RunReport:
    """Run `wf` as a Prefect flow run and return its report (the API must be reachable)."""
    if wf.dialect == "argo":
        from .argo.engine import REPORTS, build_flow
    else:
        from .engine import REPORTS, build_flow

    flow = build_flow(wf, options)
    state = flow(params=params, return_state=True)
    run_id = str(state.state_details.flow_run_id)
    report = REPORTS.pop(run_id, None)
    if report is None:  # the flow crashed before it could report
        report = RunReport(
            workflow=wf.name, dialect=wf.dialect, status="failed",
            message=f"Prefect flow run ended {state.type.value}: {state.message}",
            started_at=None, finished_at=None, params=dict(params or []), nodes=[], outputs={},
            run_id=run_id,
        )
    return report
