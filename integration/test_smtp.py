"""send_mail against real aiosmtpd servers on 127.0.0.1 (plain, STARTTLS, implicit TLS, AUTH)."""

from __future__ import annotations

import html
import textwrap
import time
import traceback

import pytest
from testkit.servers import SMTP_PASSWORD, SMTP_USER, SilentServer, SmtpServer, free_port, self_signed_cert

from flowport.notifiers.policy import dagu_mail_kind
from flowport.notifiers.smtp import (
    MailError,
    MailMessage,
    SmtpSettings,
    dagu_subject,
    effective_security,
    redact,
    send_mail,
)

SENDER = "flowport@example.com"


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def starttls_server(cert):
    with SmtpServer("starttls", cert=cert) as server:
        yield server


@pytest.fixture(scope="module")
def ssl_server(cert):
    with SmtpServer("ssl", cert=cert) as server:
        yield server


@pytest.fixture(scope="module", params=["LOGIN", "PLAIN"])
def auth_server(request, cert):
    with SmtpServer("starttls", cert=cert, auth=(request.param,)) as server:
        server.mechanism = request.param
        yield server


@pytest.fixture
def plain(mailbox):
    """The plain SMTP server (conftest's mailbox): emptied for each test."""
    return mailbox


def settings_for(server, cert=None, **kw) -> SmtpSettings:
    if cert is not None:
        kw.setdefault("ca_file", str(cert[0]))
    return SmtpSettings(server.host, server.port, timeout=5.0, **kw)


def message(**kw) -> MailMessage:
    values = {"sender": SENDER, "to": ("ops@example.com",), "subject": "hello",
              "body": "body text"}
    values.update(kw)
    return MailMessage(**values)


# ---------------------------------------------------------------- transport


def test_plain_server_gets_sender_subject_and_all_recipients(plain):
    to = ("ops@example.com", '"Data, Team" <data@example.com>', "Oncall <oncall@example.com>")
    send_mail(settings_for(plain), message(to=to, subject="Nightly ETL (failed)"))
    [mail] = plain.wait_for(1)
    assert mail.mail_from == SENDER
    assert mail.rcpt_tos == ["ops@example.com", "data@example.com", "oncall@example.com"]
    assert mail.message["Subject"] == "Nightly ETL (failed)"
    assert mail.message["From"] == SENDER
    assert [a.addr_spec for a in mail.message["To"].addresses] == mail.rcpt_tos
    assert mail.message["Message-ID"] and mail.message["Date"]
    assert not mail.tls


def test_auto_upgrades_with_starttls_when_offered(starttls_server, cert):
    starttls_server.clear()
    send_mail(settings_for(starttls_server, cert), message())
    [mail] = starttls_server.wait_for(1)
    assert mail.tls


def test_auto_falls_back_to_plain_without_starttls(plain):
    send_mail(settings_for(plain, security="auto"), message())
    assert not plain.wait_for(1)[0].tls


def test_starttls_required_but_not_offered(plain):
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send_mail(settings_for(plain, security="starttls"), message())
    assert plain.messages == []


def test_implicit_tls(ssl_server, cert):
    ssl_server.clear()
    send_mail(settings_for(ssl_server, cert, security="ssl"), message(subject="over TLS"))
    [mail] = ssl_server.wait_for(1)
    assert mail.tls and mail.message["Subject"] == "over TLS"


def test_port_465_means_implicit_tls_in_auto_mode():
    assert effective_security(SmtpSettings("mail.example.com", 465)) == "ssl"
    assert effective_security(SmtpSettings("mail.example.com", "587")) == "auto"
    assert effective_security(SmtpSettings("mail.example.com", 465, security="plain")) == "plain"


def test_self_signed_certificate_is_refused_unless_trusted_or_verify_off(starttls_server, cert):
    starttls_server.clear()
    with pytest.raises(MailError, match="certificate"):
        send_mail(settings_for(starttls_server, security="starttls"), message())
    send_mail(settings_for(starttls_server, security="starttls", verify=False), message())
    assert len(starttls_server.wait_for(1)) == 1


def test_ssl_against_a_starttls_port_says_so(starttls_server):
    with pytest.raises(MailError, match="security='starttls'"):
        send_mail(settings_for(starttls_server, security="ssl", verify=False), message())


# ---------------------------------------------------------------- AUTH


def test_auth_with_the_right_password(auth_server, cert):
    auth_server.clear()
    settings = settings_for(auth_server, cert, username=SMTP_USER, password=SMTP_PASSWORD)
    send_mail(settings, message())
    [mail] = auth_server.wait_for(1)
    assert mail.user == SMTP_USER and mail.tls
    assert auth_server.auth_attempts == [(auth_server.mechanism, SMTP_USER, True)]


def test_auth_with_a_wrong_password_never_shows_it(auth_server, cert):
    auth_server.clear()
    secret = "Wr0ng-but-s3cret-pw"
    settings = settings_for(auth_server, cert, username=SMTP_USER, password=secret)
    with pytest.raises(MailError, match="authentication failed") as info:
        send_mail(settings, message())
    shown = "".join(traceback.format_exception(info.value)) + repr(info.value)
    assert secret not in shown
    assert auth_server.auth_attempts == [(auth_server.mechanism, SMTP_USER, False)]
    assert auth_server.messages == []
    assert secret not in repr(settings) and secret not in str(redact(settings))


def test_auth_over_implicit_tls(cert):
    with SmtpServer("ssl", cert=cert, auth=("LOGIN", "PLAIN")) as server:
        settings = settings_for(server, cert, security="ssl", username=SMTP_USER,
                                password=SMTP_PASSWORD)
        send_mail(settings, message())
        assert server.wait_for(1)[0].user == SMTP_USER


# ---------------------------------------------------------------- body and attachments


def test_text_body_gets_br_like_dagu(plain):
    send_mail(settings_for(plain), message(body="line 1\nline 2\r\n<b>bold</b> & more"))
    part = plain.wait_for(1)[0].message
    assert part.get_content_type() == "text/html"
    assert part.get_content() .strip() == "line 1<br />line 2<br /><b>bold</b> & more"


@pytest.mark.parametrize("opening", ["<!DOCTYPE html>", "  \n<!doctype HTML>", "<HTML lang=en>"])
def test_html_document_goes_out_verbatim(plain, opening):
    document = f"{opening}\n<html>\n<body>\n<p>Report</p>\n</body>\n</html>\n"
    send_mail(settings_for(plain), message(body=document))
    received = plain.wait_for(1)[0].message
    assert received.get_content_type() == "text/html"
    assert received.get_content().replace("\r\n", "\n") == document
    assert "<br />" not in received.get_content()


def test_plain_text_when_asked(plain):
    send_mail(settings_for(plain), message(body="a\nb <c>", html=False))
    received = plain.wait_for(1)[0].message
    assert received.get_content_type() == "text/plain"
    assert received.get_content().replace("\r\n", "\n") == "a\nb <c>\n"


def test_attachments_arrive_intact_with_guessed_types(plain, tmp_path):
    files = {
        "blob.bin": (bytes(range(256)) * 40, "application/octet-stream"),
        "rows.csv": ("a,b\r\nä,ö\r\n".encode(), "text/csv"),
        "pixel.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "image/png"),
        "logs.tar.gz": (b"\x1f\x8b\x08\x00" + b"\xff" * 50, "application/gzip"),
        "step.log": (b"no newline at end", "application/octet-stream"),
    }
    paths = []
    for name, (data, _) in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    send_mail(settings_for(plain), message(body="see attached", attachments=tuple(paths)))
    received = plain.wait_for(1)[0].message
    assert received.get_content_type() == "multipart/mixed"
    got = {part.get_filename(): part for part in received.iter_attachments()}
    assert set(got) == set(files)
    for name, (data, kind) in files.items():
        assert got[name].get_content_type() == kind, name
        assert got[name].get_payload(decode=True) == data, name
    assert received.get_body(("html",)).get_content().strip() == "see attached"


def test_missing_attachment_fails_before_connecting(plain, tmp_path):
    with pytest.raises(MailError, match="cannot read attachment"):
        send_mail(settings_for(plain), message(attachments=(tmp_path / "nope.log",)))
    assert plain.messages == []


# ---------------------------------------------------------------- header injection


def test_subject_cannot_inject_a_bcc(plain):
    send_mail(settings_for(plain), message(subject="x\r\nBcc: evil@x", to=("ops@example.com",)))
    [mail] = plain.wait_for(1)
    assert mail.rcpt_tos == ["ops@example.com"]
    assert mail.message["Bcc"] is None
    assert mail.message["Subject"] == "x Bcc: evil@x"
    assert not any(line.lower().startswith(b"bcc:") for line in mail.data.splitlines())
    assert b"\n" not in mail.data.replace(b"\r\n", b"")  # no bare LF on the wire


@pytest.mark.parametrize("field", ["to", "sender"])
def test_addresses_with_line_breaks_are_refused(plain, field):
    evil = "ops@example.com\r\nBcc: evil@x"
    kw = {"to": (evil,)} if field == "to" else {"sender": evil}
    with pytest.raises(MailError, match="control characters"):
        send_mail(settings_for(plain), message(**kw))
    assert plain.messages == []


def test_control_characters_vanish_from_subject(plain):
    send_mail(settings_for(plain), message(subject="a\x00b\tc\u2028d\x1b[31m"))
    assert plain.wait_for(1)[0].message["Subject"] == "a b c d [31m"


def test_no_recipient_is_an_error(plain):
    with pytest.raises(MailError, match="no recipient"):
        send_mail(settings_for(plain), message(to=()))


# ---------------------------------------------------------------- faults


def test_server_down_fails_fast():
    started = time.perf_counter()
    with pytest.raises(MailError, match="Connection refused"):
        send_mail(SmtpSettings("127.0.0.1", free_port(), timeout=5.0), message())
    assert time.perf_counter() - started < 1.0


def test_silent_server_times_out():
    with SilentServer() as silent:
        started = time.perf_counter()
        with pytest.raises(MailError, match="did not answer within 0.5 s"):
            send_mail(SmtpSettings(silent.host, silent.port, timeout=0.5), message())
        assert time.perf_counter() - started < 2.0


def test_trickling_server_hits_the_total_deadline():
    """One byte every 0.3 s never trips the per-read timeout; the mail's total deadline ends it."""
    greeting = b"220 slow.example ESMTP ready, one byte at a time, for as long as you listen\r\n"
    with SilentServer(trickle=greeting, every=0.3) as slow:
        started = time.perf_counter()
        with pytest.raises(MailError, match="did not take the mail within 1.5 s"):
            send_mail(SmtpSettings(slow.host, slow.port, timeout=1.0, deadline=1.5), message())
        assert time.perf_counter() - started < 3.0


def test_a_stop_ends_a_mail_in_flight():
    """A stop of the run (the abort event) ends a mail that is waiting on its server."""
    import threading

    abort = threading.Event()
    with SilentServer() as silent:
        threading.Timer(0.3, abort.set).start()
        started = time.perf_counter()
        with pytest.raises(MailError, match="the run was stopped"):
            send_mail(SmtpSettings(silent.host, silent.port, timeout=30.0), message(), abort=abort)
        assert time.perf_counter() - started < 2.0


# ---------------------------------------------------------------- Dagu mailOn


def test_dagu_subject():
    assert dagu_subject("[ALERT]", "etl", "failed") == "[ALERT] etl (failed)"
    assert dagu_subject("", "etl", "succeeded") == "etl (succeeded)"
    assert dagu_subject(None, " etl ", "failed") == "etl (failed)"


def test_dagu_error_mail_end_to_end(run_dag, plain):
    """A failed run's errorMail, sent by the run itself (adapter/dagu/mail.py): Dagu subject,
    escaped HTML body, the non-empty step logs attached."""
    assert dagu_mail_kind("failed", on_failure=True, on_success=False) == "error"
    smtp = f'smtp: {{host: "{plain.host}", port: "{plain.port}"}}\n'  # Dagu allows a string port
    report = run_dag(smtp + textwrap.dedent(f"""\
        mailOn: {{failure: true}}
        errorMail:
          from: {SENDER}
          to: [a@example.com, b@example.com]
          prefix: "[Error]"
          attachLogs: true
        steps:
          - name: empty
            command: "true"
          - name: extract <1>
            command: sh -c 'echo extract stdout; exit 2'
            depends: [empty]
        """), name="etl.yaml")
    assert report.status == "failed", report.message
    [got] = plain.wait_for(1)
    assert got.message["Subject"] == "[Error] etl (failed)"
    assert got.rcpt_tos == ["a@example.com", "b@example.com"]
    body = got.message.get_body(("html",)).get_content()
    assert report.message == "step(s) failed: extract <1>"
    assert "extract &lt;1&gt;" in body and html.escape(report.message) in body
    # the empty step's log is left out, as Dagu does; log files carry sanitized step names
    attachments = {a.get_filename(): a.get_content() for a in got.message.iter_attachments()}
    assert attachments == {"extract_1.out": "extract stdout\n"}
