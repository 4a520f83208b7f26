"""Alerts through the Apprise library (Slack, webhooks, PagerDuty, mail, …).

Works with Apprise 1.x (notify() returns a bool) and 2.x (an AppriseResult that is truthy
only on full success): only the truth value is used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import apprise  # the library: absolute import, this module is flowport.notifiers.apprise

REDACTED = "****"
# Direct URLs get this tag so that a tag filter for config files does not drop them.
DIRECT_TAG = "flowport-direct"
# Schemes whose URLs keep secrets only in the password or in named query values; for every
# other scheme tokens sit in the path, and Apprise's own privacy view masks them.
GENERIC_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"}
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|auth|sig|credential|cookie|session", re.I)


@dataclass(frozen=True)
class AlertResult:
    ok: bool
    error: str | None = None
    target: str | None = None  # redacted description of where it went


def redact_url(url: str) -> str:
    """The URL with passwords, secret query values and service tokens masked."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return f"{url.partition('://')[0]}://{REDACTED}"
    if parts.scheme.lower() not in GENERIC_SCHEMES:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is not None:  # "#channel?x=1" is a query to Apprise, a fragment to urlsplit
            return _keep_given_query(plugin.url(privacy=True), url.partition("?")[2])
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{hostport}" if has_password else netloc
    query = "&".join(
        f"{quote(key, safe='+-:')}="
        f"{REDACTED if _SECRET_KEY.search(key) else quote(value, safe='@,')}"
        for key, value in _query_pairs(parts.query)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _keep_given_query(private_url: str, given_query: str) -> str:
    """Apprise's privacy URL lists every default option; keep only those the user wrote."""
    given = {key for key, _ in _query_pairs(given_query)}
    parts = urlsplit(private_url)
    query = "&".join(
        f"{quote(key, safe='+-:')}={quote(value, safe='@,.*')}"
        for key, value in _query_pairs(parts.query)
        if key in given
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


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
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return f"not a supported Apprise URL: {redact_url(url)}"
    return None


def _secrets(url: str) -> set[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url}
    found = {url}
    if parts.password:
        found |= {parts.password, unquote(parts.password)}
    found |= {v for k, v in _query_pairs(parts.query) if _SECRET_KEY.search(k) and v}
    found |= {seg for seg in parts.path.split("/") if len(seg) >= 16}  # token-like segments
    return found


def _scrub(text: str, urls: Iterable[str]) -> str:
    for url in urls:
        for secret in sorted(_secrets(url), key=len, reverse=True):
            text = text.replace(secret, redact_url(url) if secret == url else REDACTED)
    return text


def preload() -> None:
    """Load Apprise's plugins now (~0.2-0.4 s, once per process) instead of inside the first
    alert. The engine may call this in a thread when a run with notify rules starts."""
    apprise.Apprise.instantiate("json://localhost", suppress_exceptions=True)


def _asset() -> apprise.AppriseAsset:
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
