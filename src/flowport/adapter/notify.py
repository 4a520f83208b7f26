"""`--notify` alerts (Apprise), sent by Prefect flow state hooks once the final state is
set; they cannot change the run's status. Dagu's own run mail is `dagu/mail.py`."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the policy module loads Apprise: imported only when a run needs it
    from ..notifiers.policy import NotifyConfig

log = logging.getLogger("flowport.notify")


# ------------------------------------------------------------------ --notify (Apprise)


def preload_in_background(config: NotifyConfig | None) -> None:
    """Apprise loads its plugins on first use (0.2–0.7 s): do it while the steps run."""
    if config and (config.rules or config.config_files):
        from ..notifiers.apprise import preload

        threading.Thread(target=preload, name="apprise-preload", daemon=True).start()


def state_hooks(config: NotifyConfig | None) -> dict[str, list]:
    """Prefect flow state hooks that send `config`'s alerts with the run's source status."""
    if not config or not config.rules:
        return {}

    def hook(flow, flow_run, state) -> None:
        send_alerts(config, flow, flow_run, state)

    return {"on_completion": [hook], "on_failure": [hook], "on_cancellation": [hook], "on_crashed": [hook]}


def deployed_alert(flow, flow_run, state) -> None:
    """State hook of the static deployment flow: the alerts of the flowport config file on
    the host that runs the flow (`$FLOWPORT_CONFIG` or ~/.flowport/config.yaml)."""
    from .options import load_run_options

    try:
        config = load_run_options().notify
    except (OSError, ValueError) as exc:
        log.warning("flowport config unreadable, no alerts sent: %s", exc)
        return
    if config is not None:
        send_alerts(config, flow, flow_run, state)


def crash_alert(wf, summary: dict[str, Any]) -> None:
    """`prefect_hooks.CRASH_NOTIFIERS` entry: a killed flow process gets the failure path's alerts."""
    from ..notifiers.policy import dispatch
    from .options import load_run_options

    config = load_run_options().notify
    if config is not None:
        for result in dispatch(config, summary):
            if not result.ok:
                log.warning("alert to %s failed: %s", result.target, result.error)


def send_alerts(config: NotifyConfig, flow, flow_run, state) -> None:
    from ..notifiers.policy import dispatch

    report = finished_report(str(flow_run.id))
    status = report.status if report else (state.name or state.type.value).lower()
    failed = [n.name for n in report.nodes if n.phase in ("failed", "Failed", "Error")] if report else []
    results = dispatch(config, {
        "workflow": report.workflow if report else flow.name,
        "status": status,
        "duration_seconds": run_duration(report, flow_run),
        "failed_nodes": failed,
        "flow_run_url": flow_run_url(str(flow_run.id)),
        "message": (report.message if report else state.message) or None,
    })
    for result in results:
        if not result.ok:
            log.warning("alert to %s failed: %s", result.target, result.error)


def run_duration(report, flow_run) -> float | None:
    """Seconds from the run's start to its end. The hooks get the flow run as the engine
    holds it: its end_time is not set yet and its total_run_time is still 0 (the server
    fills both in after the final state), so the report's own times come first."""
    from datetime import datetime, timezone

    if report is not None and report.started_at and report.finished_at:
        start, end = datetime.fromisoformat(report.started_at), datetime.fromisoformat(report.finished_at)
        return max(0.0, (end - start).total_seconds())
    start = flow_run.start_time or flow_run.expected_start_time
    if start is None:
        return None
    end = flow_run.end_time or datetime.now(timezone.utc)
    return max(0.0, (end - start).total_seconds())


def finished_report(run_id: str):
    """The run's report; None if it crashed before it could report."""
    from .core import REPORTS

    return REPORTS.get(run_id)


def flow_run_url(run_id: str) -> str | None:
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    ui = PREFECT_UI_URL.value() or (PREFECT_API_URL.value() or "").removesuffix("/api")
    return f"{ui.rstrip('/')}/runs/flow-run/{run_id}" if ui else None
