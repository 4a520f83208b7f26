"""Alerts through the Apprise library (Slack, webhooks, PagerDuty, mail, …).

Works with Apprise 1.x (notify() returns a bool) and 2.x (an AppriseResult that is truthy
only on full success): only the truth value is used.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote


def _lib():
    """The Apprise library (absolute import: this module is flowport.notifiers.apprise),
    imported on first use: it costs ~0.4 s, and plans and validation seldom need it."""
    import apprise

    return apprise


REDACTED = "****"
# Direct URLs get this tag so that a tag filter for config files does not drop them.
DIRECT_TAG = "flowport-direct"
# Schemes whose URLs keep secrets only in the password or in named query values; for every
# other scheme (Apprise services) tokens sit in the user, host and path. http(s) URLs are
# generic unless Apprise reads them as a service (https://hooks.slack.com/services/…).
GENERIC_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"}
WEB_SCHEMES = {"http", "https"}
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|auth|sig|credential|cookie|session|hook|code",
                         re.I)
# A host worth showing (optional port): a DNS name whose last label is letters, localhost or
# an IP address. Anything else in the host part of a service URL is a token.
_HOSTNAME = re.compile(r"(?:localhost|(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}|\d{1,3}(?:\.\d{1,3}){3}"
                       r"|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


@dataclass(frozen=True)
class AlertResult:
    ok: bool
    error: str | None = None
    target: str | None = None  # redacted description of where it went


def _url_parts(url: str) -> tuple[str, str, str, str, str, str, str]:
    """scheme, user, password, host[:port], path, fragment, query, split as Apprise reads
    them ("?" after a "#channel" starts the query); missing parts are ""."""
    scheme, _, rest = url.strip().partition("://")
    rest, _, query = rest.partition("?")
    rest, _, fragment = rest.partition("#")
    netloc, _, path = rest.partition("/")
    userinfo, _, hostport = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return scheme, user, password, hostport, path, fragment, query


def redact_url(url: str) -> str:
    """The URL with passwords, secret query values (`?token=…`) and service tokens masked,
    whatever their length. Generic schemes (json://, form://, xml://, mailto://) keep user,
    host and path; any other scheme is a service whose tokens sit in the user, host and path
    segments, so those are masked too, except a real host name and `#channel`/`@user` parts.

    Structural on purpose: Apprise's own privacy view shows a token's first and last
    character (all of a 1–2 character token) and some plugins show tokens whole."""
    url = url.strip()
    if "://" not in url:
        return REDACTED
    scheme, user, _password, hostport, path, fragment, query = _url_parts(url)
    rest = url.partition("://")[2].partition("?")[0].partition("#")[0]
    netloc, slash, _ = rest.partition("/")
    userinfo, at, _ = netloc.rpartition("@")
    if _is_service(url):
        user = REDACTED if user else ""
        hostport = hostport if _HOSTNAME.fullmatch(hostport) else REDACTED
        path = "/".join(seg if not seg or seg[0] in "#@" else REDACTED for seg in path.split("/"))
    text = f"{scheme}://{user}{':' + REDACTED if ':' in userinfo else ''}{at}{hostport}{slash}{path}"
    text += f"#{fragment}" if "#" in url.partition("?")[0] else ""
    if "?" in url:
        text += "?" + "&".join(
            f"{quote(key, safe='+-:')}"
            f"={REDACTED if _SECRET_KEY.search(key) else quote(value, safe='@,')}"
            for key, value in _query_pairs(query))
    return text


def url_secrets(url: str) -> list[str]:
    """The parts of `url` that `redact_url` masks (password, tokens, secret query values)."""
    _scheme, user, password, hostport, path, _fragment, query = _url_parts(url)
    found = [password]
    if _is_service(url):
        found += [user, "" if _HOSTNAME.fullmatch(hostport) else hostport]
        found += [seg for seg in path.split("/") if seg and seg[0] not in "#@"]
    found += [value for key, value in _query_pairs(query) if _SECRET_KEY.search(key)]
    return [s for s in dict.fromkeys(found) if s]


def url_has_secrets(url: str) -> bool:
    """An Apprise service URL (its tokens are secrets), or any URL with a password or a
    secret query value."""
    _scheme, _user, password, _host, _path, _fragment, query = _url_parts(url)
    return bool(password or any(_SECRET_KEY.search(k) and v for k, v in _query_pairs(query))
                or _is_service(url, unknown=False))


def _is_service(url: str, unknown: bool = True) -> bool:
    """Not a generic URL: an Apprise service scheme, or an http(s) URL Apprise reads as a
    service. Unknown schemes count as `unknown` (redacting: yes, a mistyped service must not
    show its tokens; finding secrets in a workflow: no, s3://bucket/key is no secret)."""
    scheme = url.strip().partition("://")[0].lower()
    if scheme in GENERIC_SCHEMES:
        return False
    if scheme in WEB_SCHEMES:
        return _instantiate(url.strip()) is not None
    return scheme in _service_schemes() or unknown


@functools.lru_cache(maxsize=1)
def _service_schemes() -> frozenset[str]:
    try:  # Apprise ≥ 1.7
        from apprise.manager_plugins import NotificationManager

        schemes = NotificationManager().schemas()
    except ImportError:  # Apprise 1.6
        from apprise.common import NOTIFY_SCHEMA_MAP

        schemes = NOTIFY_SCHEMA_MAP.keys()
    return frozenset(str(s).lower() for s in schemes)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Like parse_qsl, but "+" stays "+": Apprise uses "+Name=value" for HTTP headers."""
    pairs = []
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def check_url(url: str) -> str | None:
    """None when Apprise can use the URL, else a short reason (URL redacted)."""
    if "://" not in url:
        return f"{url!r} is not a URL (expected e.g. json://host/path, slack://…, mailto://…)"
    if _instantiate(url) is None:
        return f"not a supported Apprise URL: {redact_url(url)}"
    return None


_QUIET = threading.Lock()


def _instantiate(url: str) -> object | None:
    """Apprise's plugin for `url`, or None. Apprise's own log lines about a bad URL are
    dropped: they show the URL in Apprise's privacy form (first and last character of
    every token, all of a short one)."""
    apprise = _lib()
    logger = logging.getLogger("apprise")
    with _QUIET:
        disabled, logger.disabled = logger.disabled, True
        try:
            return apprise.Apprise.instantiate(url, suppress_exceptions=True)
        finally:
            logger.disabled = disabled


def _scrub(text: str, urls: Iterable[str]) -> str:
    """`text` (an error, Apprise's log lines) without the URLs' secrets: each URL becomes its
    redacted form, then every secret part, and Apprise's `f...t` / `...tail` views of it, is
    masked where it stands as a word of its own (a short token does not eat other words)."""
    for url in urls:
        text = text.replace(url, redact_url(url))
        for secret in url_secrets(url):
            forms = {secret, unquote(secret), quote(secret, safe=""),
                     f"{secret[0]}...{secret[-1]}", f"...{secret[-4:]}"}
            for form in sorted(forms, key=len, reverse=True):
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", REDACTED, text)
    return text


def preload() -> None:
    """Load Apprise's plugins now (~0.2-0.4 s, once per process) instead of inside the first
    alert. The engine may call this in a thread when a run with notify rules starts."""
    apprise = _lib()
    apprise.Apprise.instantiate("json://localhost", suppress_exceptions=True)


def _asset() -> object:  # apprise.AppriseAsset
    apprise = _lib()
    try:  # keep Apprise's persistent store off disk (option exists since Apprise 1.9)
        return apprise.AppriseAsset(storage_mode="memory")
    except TypeError:
        return apprise.AppriseAsset()


def send_alert(
    urls: Sequence[str],
    title: str,
    body: str,
    *,
    config_files: Sequence[str | Path] = (),
    tags: Sequence[str] = (),
    attachments: Sequence[str | Path] = (),
    notify_type: str = "info",
) -> AlertResult:
    """Notify every URL, plus the config-file URLs carrying any of `tags` (all of them when
    no tags are given). Never raises: an alert must not break the run it reports on."""
    target = ", ".join([redact_url(u) for u in urls] + [str(p) for p in config_files])
    target += f" [tags: {', '.join(tags)}]" if tags else ""
    try:
        error = _send(urls, title, body, config_files, tags, attachments, notify_type)
    except Exception as exc:  # noqa: BLE001 - anything from a plugin ends up here
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        return AlertResult(True, None, target)
    return AlertResult(False, _scrub(error, urls), target)


def _send(urls, title, body, config_files, tags, attachments, notify_type) -> str | None:
    apprise = _lib()
    if not urls and not config_files:
        return "no notification URL or config file given"
    asset = _asset()
    sender = apprise.Apprise(asset=asset)
    problems = [f"not a supported Apprise URL: {redact_url(u)}"
                for u in urls if not sender.add(u, tag=DIRECT_TAG)]
    for path in config_files:
        if "://" not in str(path) and not Path(path).is_file():
            problems.append(f"Apprise config file not found: {path}")
            continue
        config = apprise.AppriseConfig(asset=asset)
        config.add(str(path))
        sender.add(config)
    files = apprise.AppriseAttachment(asset=asset)
    for path in attachments:
        if not Path(path).is_file():
            problems.append(f"attachment not found: {path}")
        else:
            files.add(str(path))

    if problems and len(sender) == 0:
        return "; ".join(problems)  # nothing left to send to
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        result = sender.notify(
            body=body,
            title=title,
            notify_type=notify_type,
            tag=[DIRECT_TAG, *tags] if tags else apprise.common.MATCH_ALL_TAG,
            attach=files if len(files) else None,
        )
    if not result:
        details = " ".join(line.strip() for line in log.getvalue().splitlines() if line.strip())
        if not details and tags and not urls:
            details = f"no URL in the config files carries the tags {', '.join(tags)}"
        problems.append(details or "delivery failed")
    return "; ".join(problems) if problems else None
