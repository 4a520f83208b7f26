"""Real local servers for notification tests and benchmarks, all on 127.0.0.1 and free ports.

- SmtpServer: aiosmtpd in plain, STARTTLS or implicit-TLS mode, optionally with AUTH
  (LOGIN and/or PLAIN, user SMTP_USER / password SMTP_PASSWORD); records every message.
- HttpReceiver: records every HTTP request (Apprise json://, form://, …); answers `status`
  with an empty body, or what its `respond(request)` returns.
- SilentServer: accepts TCP connections and never says a word (client timeouts).
- self_signed_cert(): a throw-away certificate for 127.0.0.1/localhost.

Each keeps the perf_counter() time of arrival so benchmarks can measure delivery latency.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import email.policy
import http.server
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

# aiosmtpd 1.4 logs a warning about its own use of Session.login_data on every AUTH.
logging.getLogger("mail.log").addFilter(
    lambda record: "login_data is deprecated" not in record.getMessage())

from .procs import HOST, free_port

__all__ = ["HOST", "SMTP_PASSWORD", "SMTP_USER", "HttpReceiver", "ReceivedMail", "ReceivedRequest", "S3Server",
           "SilentServer", "SmtpServer", "free_port", "self_signed_cert"]

SMTP_USER = "flowport"
SMTP_PASSWORD = "Corr3ct-horse-battery"


def self_signed_cert(directory: str | Path) -> tuple[Path, Path]:
    """(cert.pem, key.pem) for CN=localhost, SAN localhost + 127.0.0.1, valid one day."""
    directory = Path(directory)
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        _cert_with_cryptography(cert, key)
    except ImportError:
        if not shutil.which("openssl"):
            raise RuntimeError("need the cryptography package or the openssl CLI") from None
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    return cert, key


def _cert_with_cryptography(cert_path: Path, key_path: Path) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _wait(items: list, count: int, timeout: float, condition: threading.Condition,
          what: str) -> list:
    with condition:
        if not condition.wait_for(lambda: len(items) >= count, timeout):
            raise TimeoutError(f"{what}: {len(items)} of {count} arrived within {timeout} s")
        return list(items)


class _Running:
    """`with server:` starts it and stops it."""

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------------ SMTP


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: float  # time.perf_counter()
    user: str | None  # authenticated login, if any
    tls: bool
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        self.message = email.message_from_bytes(self.data, policy=email.policy.default)


class SmtpServer(_Running):
    """mode: "plain" | "starttls" (offers STARTTLS) | "ssl" (implicit TLS from the first
    byte). auth: mechanisms to offer, e.g. ("LOGIN", "PLAIN"); () = no AUTH."""

    def __init__(self, mode: str = "plain", *, auth: tuple[str, ...] = (),
                 cert: tuple[Path, Path] | None = None, require_tls_for_auth: bool = True):
        if mode not in ("plain", "starttls", "ssl"):
            raise ValueError(mode)
        if mode != "plain" and cert is None:
            raise ValueError(f"{mode} needs cert=(cert.pem, key.pem)")
        self.mode, self.host, self.port = mode, HOST, free_port()
        self.messages: list[ReceivedMail] = []
        self.auth_attempts: list[tuple[str, str, bool]] = []  # (mechanism, user, ok)
        self._arrived = threading.Condition()
        options: dict[str, Any] = {"server_hostname": "localhost"}
        if mode == "ssl":
            options["ssl_context"] = _server_context(*cert)
        if mode == "starttls":
            options["tls_context"] = _server_context(*cert)
        if auth:
            options["authenticator"] = self._authenticate
            options["auth_exclude_mechanism"] = [m for m in ("LOGIN", "PLAIN")
                                                 if m not in auth]
            # aiosmtpd only counts STARTTLS as TLS; implicit TLS is encrypted from the start.
            options["auth_require_tls"] = require_tls_for_auth and mode == "starttls"
        from aiosmtpd.controller import Controller  # imported here: HTTP-only users need no aiosmtpd

        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port, **options)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == SMTP_USER
              and auth_data.password.decode() == SMTP_PASSWORD)
        login = auth_data.login.decode(errors="replace") if isinstance(
            auth_data, LoginPassword) else "?"
        self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    def _record(self, mail: ReceivedMail) -> None:
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        return _wait(self.messages, count, timeout, self._arrived, "mails")

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()
            self.auth_attempts.clear()

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope) -> str:
        self.server._record(ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=envelope.original_content or envelope.content,
            received_at=time.perf_counter(),
            user=session.auth_data if session.authenticated else None,
            tls=smtp._tls_protocol is not None or self.server.mode == "ssl",
        ))
        return "250 OK: queued"


# ------------------------------------------------------------------------------ HTTP


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver(_Running):
    """Records requests; answers every one with `status` and an empty body (change `status`
    to test failures), or with what `respond(request)` returns: (status, headers, body)."""

    def __init__(self, status: int = 200, *,
                 respond: Callable[[ReceivedRequest], tuple[int, dict[str, str], bytes]] | None = None):
        self.status = status
        self.respond = respond
        self.requests: list[ReceivedRequest] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = ReceivedRequest(self.command, self.path, dict(self.headers), body,
                                          time.perf_counter())
                with receiver._arrived:
                    receiver.requests.append(request)
                    receiver._arrived.notify_all()
                status, headers, payload = (receiver.respond(request) if receiver.respond
                                            else (receiver.status, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

        self._server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.host, self.port = HOST, self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, scheme: str = "json", path: str = "/hook") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedRequest]:
        return _wait(self.requests, count, timeout, self._arrived, "requests")

    def clear(self) -> None:
        with self._arrived:
            self.requests.clear()

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ------------------------------------------------------------------------------ silence


class SilentServer:
    """Accepts connections and never answers: a hung SMTP/HTTP server. With `trickle`, it
    answers that text one byte every `every` seconds (a server that is slow, not silent)."""

    def __init__(self, trickle: bytes = b"", every: float = 0.3) -> None:
        self._sock = socket.create_server((HOST, 0))
        self.host, self.port = HOST, self._sock.getsockname()[1]
        self._clients: list[socket.socket] = []
        self._trickle, self._every = trickle, every
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._clients.append(client)
            if self._trickle:
                threading.Thread(target=self._drip, args=(client,), daemon=True).start()

    def _drip(self, client: socket.socket) -> None:
        for byte in self._trickle:
            time.sleep(self._every)
            try:
                client.sendall(bytes([byte]))
            except OSError:
                return

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._sock.close()
        for client in self._clients:
            client.close()


# ------------------------------------------------------------------------------ S3


class S3Server:
    """A real S3-compatible HTTP server process on 127.0.0.1: `moto_server` (moto[server]),
    started and stopped by PID. `client()` is a boto3 client for it."""

    ACCESS_KEY, SECRET_KEY = "test-access", "test-secret"

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"{HOST}:{self.port}"
        self._proc: subprocess.Popen | None = None

    def start(self) -> "S3Server":
        exe = shutil.which("moto_server")
        if exe is None:
            raise RuntimeError("moto_server not found: pip install 'moto[server]'")
        self._proc = subprocess.Popen([exe, "-H", HOST, "-p", str(self.port)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"moto_server exited with {self._proc.returncode}")
                time.sleep(0.1)
        raise RuntimeError("moto_server did not listen within 30 s")

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=f"http://{self.endpoint}", region_name="us-east-1",
                            aws_access_key_id=self.ACCESS_KEY, aws_secret_access_key=self.SECRET_KEY)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> "S3Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
