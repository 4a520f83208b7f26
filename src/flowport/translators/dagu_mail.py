"""Dagu mail → IR (research/dagu.md §3.3–3.5): the `mail` executor step and the run mail
settings (`smtp`, `mailOn`, `errorMail`, `infoMail`). Keys match case-insensitively."""

from __future__ import annotations

from typing import Any

from ..model import Mail, MailBlock, MailSettings, SmtpConfig

Path_ = tuple

# Dagu's mail executor ignores unknown keys silently; flowport reports them as ignored.
MAIL_KEYS = {"from": "ok", "to": "ok", "subject": "ok", "message": "ok", "attachments": "ok",
             "body": "ignored", "attach_logs": "ignored"}
SMTP_KEYS = {"host": "ok", "port": "ok", "username": "ok", "password": "ok", "oauth": "unsupported"}
BLOCK_KEYS = {"from": "ok", "to": "ok", "prefix": "ok", "attach_logs": "ok"}
MAIL_ON_KEYS = {"failure": "ok", "success": "ok", "wait": "ok"}


def _mapping(cx: Any, value: Any, path: Path_, table: dict[str, str], what: str) -> dict[str, tuple[Any, Path_]] | None:
    if not isinstance(value, dict):
        cx.problems.error(path, f"{what} must be a mapping")
        return None
    return cx.fields(value, path, table, what)


def _recipients(cx: Any, value: Any, path: Path_) -> tuple[str, ...]:
    to = tuple(t.strip() for t in cx.strings(value, path) if t.strip())
    if not to:
        cx.problems.error(path, "`to` needs at least one address")
    return to


def mail_action(cx: Any, config: tuple[Any, Path_] | None, where: Path_) -> Mail | None:
    """`executor: {type: mail, config: {from, to, subject, message, attachments}}`."""
    if config is None:
        cx.problems.error(where, "the mail executor needs `config:` (V1) or `with:` (V2) with from, to, subject and message")
        return None
    f = _mapping(cx, *config, MAIL_KEYS, "mail config")
    if f is None:
        return None
    for key in ("from", "to"):
        if key not in f:
            cx.problems.error(config[1], f"the mail executor needs `{key}`")
    if "from" not in f or "to" not in f:
        return None
    return Mail(
        to=_recipients(cx, *f["to"]),
        sender=cx.string(*f["from"]) or "",
        subject=cx.string(*f["subject"]) or "" if "subject" in f else "",
        message=cx.string(*f["message"]) or "" if "message" in f else "",
        attachments=tuple(cx.strings(*f["attachments"])) if "attachments" in f else (),
    )


def mail_settings(cx: Any, top: dict[str, tuple[Any, Path_]]) -> MailSettings:
    smtp = None
    if "smtp" in top:
        f = _mapping(cx, *top["smtp"], SMTP_KEYS, "smtp")
        if f is not None:
            if "host" not in f:
                cx.problems.error(top["smtp"][1], "smtp needs `host`")
            else:
                smtp = SmtpConfig(
                    host=cx.string(*f["host"]) or "",
                    port=str(f["port"][0]) if "port" in f else "25",
                    username=cx.string(*f["username"], allow_none=True) if "username" in f else None,
                    password=cx.string(*f["password"], allow_none=True) if "password" in f else None,
                )
    on_failure = on_success = on_wait = False
    if "mail_on" in top:
        f = _mapping(cx, *top["mail_on"], MAIL_ON_KEYS, "mailOn")
        if f is not None:
            on_failure = cx.boolean(*f["failure"]) if "failure" in f else False
            on_success = cx.boolean(*f["success"]) if "success" in f else False
            on_wait = cx.boolean(*f["wait"]) if "wait" in f else False
    blocks: dict[str, MailBlock | None] = {}
    for key in ("error_mail", "info_mail", "wait_mail"):
        blocks[key] = None
        if key in top:
            f = _mapping(cx, *top[key], BLOCK_KEYS, cx.spell(key))
            if f is not None and "to" in f:
                blocks[key] = MailBlock(
                    sender=cx.string(*f["from"]) or "" if "from" in f else "",
                    to=_recipients(cx, *f["to"]),
                    prefix=cx.string(*f["prefix"]) or "" if "prefix" in f else "",
                    attach_logs=cx.boolean(*f["attach_logs"]) if "attach_logs" in f else False,
                )
    return MailSettings(smtp=smtp, on_failure=on_failure, on_success=on_success, on_wait=on_wait,
                        error_mail=blocks["error_mail"], info_mail=blocks["info_mail"],
                        wait_mail=blocks["wait_mail"])
