"""Dagu's run mail (mailOn + errorMail/infoMail) and step error mail (mailOnError), sent
from the flow body; none of them can change the run's status."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ...model import MailBlock
from ...notifiers.smtp import MailError, MailMessage, dagu_subject, send_mail
from ..records import now
from ..runners.mail import smtp_settings
from .context import RunContext
from .status import FAILED


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


def _send(ctx: RunContext, block: MailBlock, status: str, what: str, abort: threading.Event | None) -> None:
    smtp = ctx.smtp()
    if smtp is None:  # Dagu: no smtp block, no mail (a silent no-op sender)
        return
    from ...notifiers.policy import dagu_report_body

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
        send_mail(smtp_settings(smtp), message, abort=abort)
        ctx.log(f"{what} sent to {', '.join(message.to)}")
    except (MailError, ValueError, OSError) as exc:  # logged, never the run's outcome
        ctx.log(f"{what} could not be sent: {exc}")
        ctx.notify_errors.append(f"{what}: {exc}")


def _non_empty(path: str) -> bool:
    p = Path(path)
    return p.is_file() and p.stat().st_size > 0


def send_run_mail(ctx: RunContext, abort: threading.Event | None = None) -> None:
    """After all handlers, with the final status (research/dagu.md §3.5)."""
    mail = ctx.wf.mail
    if not (mail.on_failure or mail.on_success):
        return
    from ...notifiers.policy import dagu_mail_kind

    kind = dagu_mail_kind(ctx.status or "", on_failure=mail.on_failure, on_success=mail.on_success)
    block = {"error": mail.error_mail, "info": mail.info_mail}.get(kind or "")
    if block is not None:
        _send(ctx, block, ctx.status or "", f"{kind} mail", abort)


def send_wait_mail(ctx: RunContext) -> None:
    """`mailOn.wait`: the wait mail (waitMail) when the run waits for a person (status waiting)."""
    mail = ctx.wf.mail
    if mail.on_wait and mail.wait_mail is not None:
        _send(ctx, mail.wait_mail, "waiting", "wait mail", ctx.stop.forced)


def send_step_error_mail(ctx: RunContext, step_name: str) -> None:
    """`mailOnError`: the error mail as soon as the step has failed (the run is running)."""
    if ctx.wf.mail.error_mail is not None:
        _send(ctx, ctx.wf.mail.error_mail, "running", f"error mail for step {step_name}", ctx.stop.forced)
