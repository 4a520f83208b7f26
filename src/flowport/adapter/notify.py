"""Notifications of a run: Dagu's run mail (mailOn + errorMail/infoMail) and step error
mail (mailOnError), sent from the flow body; `--notify` alerts, sent by Prefect flow state
hooks once the final state is set. None of them can change the run's status."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import MailBlock
from ..notifiers.smtp import MailError, MailMessage, dagu_subject, send_mail
from .context import RunContext, now
from .runners.mail import smtp_settings
from .status import FAILED

if TYPE_CHECKING:  # the policy module loads Apprise: imported only when a run needs it
    from ..notifiers.policy import NotifyConfig

log = logging.getLogger("flowport.notify")


def summary(ctx: RunContext, status: str | None = None) -> dict[str, Any]:
    status = status or ctx.status or "running"
    return {
        "workflow": ctx.wf.name,
        "status": status,
        "run_id": ctx.run_id,
        "duration_seconds": ((ctx.finished_at or now()) - ctx.started_at).total_seconds(),
        "failed_nodes": [r.name for r in ctx.all_records() if r.phase in (FAILED, "Failed", "Error")],
        "message": ctx.message,
    }


def _send(ctx: RunContext, block: MailBlock, status: str, what: str) -> None:
    smtp = ctx.smtp()
    if smtp is None:  # Dagu: no smtp block, no mail (a silent no-op sender)
        return
    from ..notifiers.policy import dagu_report_body

    env = ctx.base_env
    attachments = []
    if block.attach_logs:
        attachments = [str(ctx.step_log_paths(s.name)[0]) for s in ctx.wf.steps]
        attachments = [p for p in attachments if _non_empty(p)]
    message = MailMessage(
        sender=ctx.expand(block.sender, env),
        to=tuple(ctx.expand(t, env) for t in block.to),
        subject=dagu_subject(block.prefix, ctx.wf.name, status),
        body=dagu_report_body(summary(ctx, status)),
        attachments=tuple(attachments),
    )
    try:
        send_mail(smtp_settings(smtp), message)
        ctx.log(f"{what} sent to {', '.join(message.to)}")
    except (MailError, ValueError, OSError) as exc:  # logged, never the run's outcome
        ctx.log(f"{what} could not be sent: {exc}")
        ctx.notify_errors.append(f"{what}: {exc}")


def _non_empty(path: str) -> bool:
    p = Path(path)
    return p.is_file() and p.stat().st_size > 0


def send_run_mail(ctx: RunContext) -> None:
    """After all handlers, with the final status (research/dagu.md §3.5)."""
    mail = ctx.wf.mail
    if not (mail.on_failure or mail.on_success):
        return
    from ..notifiers.policy import dagu_mail_kind

    kind = dagu_mail_kind(ctx.status or "", on_failure=mail.on_failure, on_success=mail.on_success)
    block = {"error": mail.error_mail, "info": mail.info_mail}.get(kind or "")
    if block is not None:
        _send(ctx, block, ctx.status or "", f"{kind} mail")


def send_step_error_mail(ctx: RunContext, step_name: str) -> None:
    """`mailOnError`: the error mail as soon as the step has failed (the run is running)."""
    if ctx.wf.mail.error_mail is not None:
        _send(ctx, ctx.wf.mail.error_mail, "running", f"error mail for step {step_name}")


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
    """`hooks.CRASH_NOTIFIERS` entry: a killed flow process gets the failure path's alerts."""
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
    duration = None
    if flow_run.start_time and flow_run.end_time:
        duration = (flow_run.end_time - flow_run.start_time).total_seconds()
    results = dispatch(config, {
        "workflow": report.workflow if report else flow.name,
        "status": status,
        "duration_seconds": duration if duration is not None else flow_run.total_run_time.total_seconds(),
        "failed_nodes": failed,
        "flow_run_url": flow_run_url(str(flow_run.id)),
        "message": (report.message if report else state.message) or None,
    })
    for result in results:
        if not result.ok:
            log.warning("alert to %s failed: %s", result.target, result.error)


def finished_report(run_id: str):
    """The run's report, whichever engine (Dagu or Argo) ran it; None if it crashed first."""
    from .argo.engine import REPORTS as ARGO_REPORTS
    from .engine import REPORTS

    return REPORTS.get(run_id) or ARGO_REPORTS.get(run_id)


def flow_run_url(run_id: str) -> str | None:
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    ui = PREFECT_UI_URL.value() or (PREFECT_API_URL.value() or "").removesuffix("/api")
    return f"{ui.rstrip('/')}/runs/flow-run/{run_id}" if ui else None
