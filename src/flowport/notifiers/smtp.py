"""Send mail over SMTP with the standard library, following Dagu's mail rules.

Dagu rules kept here: the body is HTML; a full HTML document goes out verbatim, any other
text gets its newlines turned into `<br />` (Dagu #888; no escaping, so HTML fragments in
DAG messages keep working). Header values lose CR/LF, as in Dagu's mailer.
Beyond Dagu: implicit TLS (port 465), an explicit security mode, TLS verification switches.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import ipaddress
import mimetypes
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Any, Literal

from ..errors import FlowportError

Security = Literal["auto", "plain", "starttls", "ssl"]
SECURITY_MODES = ("auto", "plain", "starttls", "ssl")
REDACTED = "****"


class MailError(FlowportError):
    """Mail could not be sent. The text never contains the SMTP password."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send.

    security: "auto" = implicit TLS on port 465, otherwise STARTTLS when the server offers
    it, else plain; "plain" never encrypts; "starttls" requires STARTTLS; "ssl" is implicit TLS.
    verify=False accepts any certificate (self-signed test servers); ca_file trusts a CA.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Security = "auto"
    timeout: float = 10.0  # per read or write (smtplib's socket timeout)
    deadline: float = 60.0  # for the whole mail: a server trickling bytes never hits `timeout`
    verify: bool = True
    ca_file: str | None = None

    def __post_init__(self) -> None:
        try:
            port = int(self.port)  # Dagu accepts "587" as well as 587
        except (TypeError, ValueError):
            raise ValueError(f"SMTP port must be a number, got {self.port!r}") from None
        object.__setattr__(self, "port", port)
        if self.security not in SECURITY_MODES:
            raise ValueError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, got {self.security!r}"
            )


@dataclass(frozen=True)
class MailMessage:
    """html=None: Dagu's rule (always HTML, newlines → <br /> unless a full document);
    html=True: the body is HTML, sent as is; html=False: plain text, sent as is."""

    sender: str
    to: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[str | Path, ...] = ()
    html: bool | None = None


def redact(settings: SmtpSettings) -> dict[str, Any]:
    """JSON-ready view of the settings for plans and logs: the password is masked."""
    return {
        "host": settings.host,
        "port": settings.port,
        "username": settings.username,
        "password": REDACTED if settings.password else None,
        "security": settings.security,
        "timeout": settings.timeout,
        "verify": settings.verify,
        "ca_file": settings.ca_file,
    }


def dagu_subject(prefix: str | None, dag_name: str, status: str) -> str:
    """Dagu's mailOn subject: "<prefix> <DAG name> (<status>)"; no leading space without prefix."""
    head = " ".join(part for part in ((prefix or "").strip(), dag_name.strip()) if part)
    return f"{head} ({status})"


def is_html_document(body: str) -> bool:
    head = body.lstrip()[:20].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def dagu_html_body(body: str) -> str:
    if is_html_document(body):
        return body
    return body.replace("\r\n", "\n").replace("\n", "<br />")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Deliberately narrow: quotes, brackets, commas or whitespace in an envelope address are
# far more likely an injection attempt than a real mailbox.
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")


def clean_header(value: str) -> str:
    """Control characters (CR/LF above all) become one space, so no header can be injected."""
    return _CONTROL.sub(" ", value).strip()


def _mailboxes(values: tuple[str, ...] | list[str], role: str) -> list[tuple[str, str]]:
    # Unlike the subject, an address with CR/LF is refused, not cleaned: the leftover text
    # ("a@x Bcc: evil@x") would still parse into an extra envelope recipient.
    for value in values:
        if _CONTROL.search(value):
            raise MailError(f"{role} address contains control characters: {clean_header(value)!r}")
    boxes = []
    for name, addr in getaddresses(list(values)):
        if not _ADDRESS.fullmatch(addr):
            raise MailError(f"invalid {role} address: {clean_header(addr or name)!r}")
        boxes.append((name, addr))
    return boxes


def _attachment_type(path: Path) -> tuple[str, str]:
    kind, encoding = mimetypes.guess_type(path.name)
    if encoding:  # x.tar.gz is a gzip file to a mail client, not a tar file
        kind = {"gzip": "application/gzip", "bzip2": "application/x-bzip2",
                "xz": "application/x-xz"}.get(encoding)
    elif kind is None and path.suffix in (".out", ".err"):
        kind = "text/plain"  # step logs: Dagu attaches them as text/plain
    maintype, _, subtype = (kind or "application/octet-stream").partition("/")
    return maintype, subtype


def build_message(message: MailMessage) -> tuple[EmailMessage, str, list[str]]:
    """The MIME message plus the envelope sender and recipients (taken from the arguments,
    never from headers, so a smuggled Bcc cannot add a recipient)."""
    senders = _mailboxes([message.sender], "sender")
    recipients = _mailboxes(list(message.to), "recipient")
    if len(senders) != 1:
        raise MailError("exactly one sender address is required")
    if not recipients:
        raise MailError("no recipient address given")

    mail = EmailMessage()
    mail["From"] = formataddr(senders[0])
    mail["To"] = ", ".join(formataddr(box) for box in recipients)
    mail["Subject"] = clean_header(message.subject)
    mail["Date"] = formatdate(localtime=True)
    # An explicit domain avoids make_msgid's DNS lookup of this host's name.
    mail["Message-ID"] = make_msgid(domain=senders[0][1].rpartition("@")[2])

    if message.html is False:
        mail.set_content(message.body, subtype="plain", charset="utf-8")
    else:
        body = message.body if message.html else dagu_html_body(message.body)
        mail.set_content(body, subtype="html", charset="utf-8")

    for item in message.attachments:
        path = Path(item)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MailError(f"cannot read attachment {path}: {exc.strerror or exc}") from None
        maintype, subtype = _attachment_type(path)
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return mail, senders[0][1], [addr for _, addr in recipients]


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not settings.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@functools.cache
def _local_name() -> str:
    return socket.getfqdn()  # smtplib would look it up on every connection


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def effective_security(settings: SmtpSettings) -> Security:
    """"auto" on port 465 is implicit TLS; elsewhere "auto" is decided by the server's EHLO."""
    if settings.security == "auto" and settings.port == 465:
        return "ssl"
    return settings.security


class _Deadline:
    """Ends a mail that takes longer than `seconds` in all, or whose `abort` event is set (the
    run is being stopped), by shutting its socket: the blocked read then fails at once."""

    def __init__(self, seconds: float, abort: threading.Event | None) -> None:
        self.client: smtplib.SMTP | None = None
        self.fired: str | None = None
        self._done = threading.Event()
        self._seconds, self._abort = seconds, abort
        threading.Thread(target=self._watch, name="flowport-mail-deadline", daemon=True).start()

    def _watch(self) -> None:
        end = time.monotonic() + self._seconds
        while not self._done.wait(min(0.05, max(0.0, end - time.monotonic()))):
            if self._abort is not None and self._abort.is_set():
                self.fired = "stopped"
            elif time.monotonic() >= end:
                self.fired = "deadline"
            else:
                continue
            sock = getattr(self.client, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return

    def done(self) -> None:
        self._done.set()


def _open(settings: SmtpSettings, deadline: _Deadline) -> tuple[smtplib.SMTP, bool]:
    """Connected, greeted and (if asked or offered) encrypted client, and whether TLS is on."""
    mode = effective_security(settings)
    if mode == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(local_hostname=_local_name(), timeout=settings.timeout,
                                                context=_tls_context(settings))
    else:
        client = smtplib.SMTP(local_hostname=_local_name(), timeout=settings.timeout)
    client._host = settings.host  # what a host given to the constructor sets (TLS server name)
    deadline.client = client  # connect() reads the greeting: the deadline covers it too
    try:
        client.connect(settings.host, settings.port)
        client.ehlo()
        if mode in ("ssl", "plain"):
            return client, mode == "ssl"
        if client.has_extn("starttls"):
            client.starttls(context=_tls_context(settings))
            client.ehlo()
            return client, True
        if mode == "starttls":
            raise MailError(f"{settings.host}:{settings.port} does not offer STARTTLS")
        return client, False
    except BaseException:
        client.close()
        raise


def _login(client: smtplib.SMTP, settings: SmtpSettings, tls: bool) -> None:
    if settings.username is None:
        return
    if not tls and settings.security == "auto" and not _is_loopback(settings.host):
        raise MailError(
            f"{settings.host}:{settings.port} offers no TLS; refusing to send the password in "
            "clear text (set security='plain' to allow it)"
        )
    if not client.has_extn("auth"):
        raise MailError(f"{settings.host}:{settings.port} does not offer SMTP AUTH")
    try:
        client.login(settings.username, settings.password or "")
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"authentication failed for user {settings.username!r} at "
            f"{settings.host}:{settings.port}: {_reply(exc)}"
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"{settings.host}:{settings.port}: no AUTH mechanism in common "
                        "(flowport speaks PLAIN, LOGIN, CRAM-MD5)") from None


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}"


def _scrub(text: str, settings: SmtpSettings) -> str:
    """Last line of defence: no form of the password survives in an error text."""
    secret = settings.password
    if not secret:
        return text
    forms = {secret, base64.b64encode(secret.encode()).decode()}
    if settings.username is not None:
        plain = f"\0{settings.username}\0{secret}".encode()
        forms.add(base64.b64encode(plain).decode())
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


def send_mail(settings: SmtpSettings, message: MailMessage, *, abort: threading.Event | None = None) -> None:
    """Send one message to all its recipients within `settings.deadline`; raise MailError on
    any problem, or when `abort` is set meanwhile."""
    deadline = _Deadline(settings.deadline, abort)
    try:
        _send(settings, message, deadline)
    except MailError:
        if deadline.fired == "deadline":
            raise MailError(f"{settings.host}:{settings.port} did not take the mail within "
                            f"{settings.deadline:g} s") from None
        if deadline.fired == "stopped":
            raise MailError("not sent: the run was stopped") from None
        raise
    finally:
        deadline.done()


def _send(settings: SmtpSettings, message: MailMessage, deadline: _Deadline) -> None:
    mail, sender, recipients = build_message(message)
    where = f"{settings.host}:{settings.port}"
    try:
        client, tls = _open(settings, deadline)
        try:
            _login(client, settings, tls)
            # CRLF line ends: smtplib sends bytes as given, and many servers refuse bare LF.
            refused = client.sendmail(sender, recipients, mail.as_bytes(policy=SMTP_POLICY))
        except BaseException:
            client.close()  # no polite QUIT: a stalled server would cost another timeout
            raise
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()  # the mail is accepted; a failed goodbye changes nothing
    except MailError as exc:
        raise MailError(_scrub(str(exc), settings)) from None
    except smtplib.SMTPRecipientsRefused as exc:
        detail = ", ".join(f"{rcpt} ({_reply_pair(r)})" for rcpt, r in exc.recipients.items())
        raise MailError(_scrub(f"{where} refused every recipient: {detail}", settings)) from None
    except smtplib.SMTPResponseException as exc:
        raise MailError(_scrub(f"{where} answered {_reply(exc)}", settings)) from None
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.reason or exc
        if reason == "WRONG_VERSION_NUMBER":
            reason = "the server does not speak TLS on this port (try security='starttls')"
        raise MailError(_scrub(f"TLS with {where} failed: {reason}", settings)) from None
    except (smtplib.SMTPException, OSError) as exc:
        # smtplib reports a read timeout as SMTPServerDisconnected; the cause tells.
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            raise MailError(f"{where} did not answer within {settings.timeout:g} s") from None
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MailError(_scrub(f"cannot send mail via {where}: {text}", settings)) from None
    if refused:
        detail = ", ".join(f"{rcpt} ({_reply_pair(r)})" for rcpt, r in refused.items())
        raise MailError(_scrub(f"{where} refused some recipients (the others got the mail): "
                               f"{detail}", settings))


def _reply_pair(reply: tuple[int, bytes]) -> str:
    code, text = reply
    return f"{code} {text.decode(errors='replace')}"
