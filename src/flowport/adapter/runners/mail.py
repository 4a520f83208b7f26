"""The Dagu `mail` step: one SMTP message from the step's (already expanded) fields."""

from __future__ import annotations

from ...model import Mail, SmtpConfig
from ...notifiers.smtp import MailError, MailMessage, SmtpSettings, send_mail
from .base import LineSink, RunResult, StopToken


def smtp_settings(smtp: SmtpConfig) -> SmtpSettings:
    """Dagu's transport rule: with credentials, STARTTLS when offered then AUTH; without
    them, plain SMTP (research/dagu.md §3.4)."""
    credentials = bool(smtp.username or smtp.password)
    return SmtpSettings(
        host=smtp.host,
        port=smtp.port or 25,
        username=smtp.username or None,
        password=smtp.password or None,
        security="auto" if credentials else "plain",
        timeout=30.0,
    )


def send_mail_step(mail: Mail, smtp: SmtpConfig | None, sink: LineSink, stop: StopToken | None = None) -> RunResult:
    if smtp is None or not smtp.host:
        return RunResult(None, error="the mail step needs the DAG's `smtp:` settings (host, port)")
    sink("stdout", f"sending email to {', '.join(mail.to)}")
    try:
        send_mail(smtp_settings(smtp), MailMessage(mail.sender, mail.to, mail.subject, mail.message, mail.attachments),
                  abort=stop.requested if stop is not None else None)
    except (MailError, ValueError, OSError) as exc:
        return RunResult(None, error=f"sending email failed: {exc}")
    sink("stdout", "sending email succeed.")  # Dagu's wording
    return RunResult(0, stdout="")
