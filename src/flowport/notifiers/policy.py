"""Which notification goes where, once a run has its final status. No Prefect here: the
engine hands over a plain summary dict.

Events: "failure", "success", "cancel". A rule without `on` fires on failure only — the
alert people want by default; Prefect's Crashed counts as failure.

Summary keys: workflow, status (required); duration_seconds, failed_nodes, flow_run_url,
message (optional).
"""

from __future__ import annotations

import difflib
import html
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flowport.notifiers.apprise import AlertResult, check_url, redact_url, send_alert

EVENTS = ("failure", "success", "cancel")
DEFAULT_EVENTS = frozenset({"failure"})
NOTIFY_TYPES = {"failure": "failure", "success": "success", "cancel": "warning"}
OPTION_SYNTAX = "URL [on=failure,success,cancel|all]"

# Statuses of every source, normalised (lower case, no "_", "-" or spaces).
_FINAL = {
    # Dagu, Argo, Prefect state types and names
    "succeeded": "success", "partiallysucceeded": "success", "completed": "success",
    "success": "success",
    "failed": "failure", "error": "failure", "crashed": "failure", "timedout": "failure",
    "failure": "failure",
    "canceled": "cancel", "cancelled": "cancel", "aborted": "cancel", "cancel": "cancel",
}
_NOT_FINAL = {"running", "pending", "scheduled", "queued", "waiting", "notstarted", "late",
              "cancelling", "paused", "awaitingretry", "retrying", "none"}


@dataclass(frozen=True)
class NotifyRule:
    """Send to `url`, or to the config-file URLs carrying any of `tags` ("all": every one),
    when the run ends with one of the events in `on`."""

    url: str | None = None
    on: frozenset[str] = DEFAULT_EVENTS
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.url and not self.tags:
            raise ValueError("a notify rule needs a url or tags")
        object.__setattr__(self, "on", parse_events(self.on))
        object.__setattr__(self, "tags", tuple(self.tags))

    def redacted(self) -> dict[str, Any]:
        """For plans and logs."""
        return {"url": redact_url(self.url) if self.url else None,
                "on": sorted(self.on), "tags": list(self.tags)}


@dataclass(frozen=True)
class NotifyConfig:
    rules: tuple[NotifyRule, ...] = ()
    config_files: tuple[str, ...] = ()  # Apprise YAML/text config files (paths or URLs)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_events(value: str | Iterable[str]) -> frozenset[str]:
    """"failure,success" / ["failure", "success"] / "all" → a set of events."""
    items = value.split(",") if isinstance(value, str) else list(value)
    events = set()
    for item in (str(i).strip().lower() for i in items):
        if item == "all":
            events.update(EVENTS)
        elif item in EVENTS:
            events.add(item)
        elif item:
            raise ValueError(f"unknown event {item!r}{_suggest(item, (*EVENTS, 'all'))}; "
                             f"expected {', '.join(EVENTS)} or all")
    if not events:
        raise ValueError(f"no event given; expected {', '.join(EVENTS)} or all")
    return frozenset(events)


def parse_notify_option(text: str) -> NotifyRule:
    """Parse `--notify "URL [on=failure,success]"` (default: on=failure)."""
    if not text.strip():
        raise ValueError(f"empty --notify value; expected {OPTION_SYNTAX}")
    url, *options = text.split()
    problem = check_url(url)
    if problem:
        raise ValueError(f"{problem}; expected {OPTION_SYNTAX}")
    on: frozenset[str] | None = None
    for option in options:
        key, sep, value = option.partition("=")
        if key != "on" or not sep:
            raise ValueError(f"unknown --notify option {option!r}{_suggest(key, ['on'])}; "
                             f"expected {OPTION_SYNTAX} (spaces inside the URL must be "
                             "written %20)")
        if on is not None:
            raise ValueError("on= given twice in one --notify value")
        on = parse_events(value)
    return NotifyRule(url=url, on=on or DEFAULT_EVENTS)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(text: str, where: str) -> str:
    """${NAME} from the environment, so tokens need not be written into the file."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"{where}: environment variable {name} is not set")
        return os.environ[name]
    return _ENV_REF.sub(value, text)


def _as_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"{where}: expected a string or a list of strings")


def _rule_from_yaml(item: Any, where: str) -> NotifyRule:
    if isinstance(item, str):
        try:
            return parse_notify_option(_expand_env(item, where))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping with url/tags and on, or a string")
    # YAML 1.1 (PyYAML) reads an unquoted `on:` key as the boolean True.
    item = {("on" if key is True else key): value for key, value in item.items()}
    for key in item:
        if key not in ("url", "on", "tags"):
            hint = _suggest(str(key), ["url", "on", "tags"])
            raise ValueError(f"{where}: unknown key {key!r}{hint}")
    url = item.get("url")
    if url is not None:
        if not isinstance(url, str):
            raise ValueError(f"{where}.url: expected a string")
        url = _expand_env(url, f"{where}.url")
        problem = check_url(url)
        if problem:
            raise ValueError(f"{where}.url: {problem}")
    try:
        on = parse_events(_as_list(item["on"], f"{where}.on")) if "on" in item else DEFAULT_EVENTS
        tags = tuple(_as_list(item.get("tags", []), f"{where}.tags"))
        return NotifyRule(url=url, on=on, tags=tags)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def load_notify_config(path: str | Path) -> NotifyConfig:
    """Read the `notify:` section of a flowport config file::

        notify:
          config: [apprise.yml]          # Apprise config files, relative to this file
          rules:
            - url: json://alerts.example.com/hook
              on: [failure, success]     # default: failure
            - tags: [devops]             # URLs tagged devops in the config files
            - slack://${SLACK_TOKENS}/#ops on=all

    `notify:` may also be just the list of rules. A file without `notify:` has no rules.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read notify config: {exc}") from None
    section = data.get("notify") if isinstance(data, Mapping) else None
    if section is None:
        return NotifyConfig()
    if isinstance(section, list):
        section = {"rules": section}
    if not isinstance(section, Mapping):
        raise ValueError(f"{path}: notify: expected a mapping (config, rules) or a list of rules")
    for key in section:
        if key not in ("config", "rules"):
            raise ValueError(f"{path}: notify: unknown key {key!r}"
                             f"{_suggest(str(key), ['config', 'rules'])}")
    files = []
    for name in _as_list(section.get("config", []), f"{path}: notify.config"):
        name = _expand_env(name, f"{path}: notify.config")
        files.append(name if "://" in name else str((path.parent / name).resolve()))
    rules = section.get("rules") or []
    if not isinstance(rules, list):
        raise ValueError(f"{path}: notify.rules: expected a list")
    parsed = tuple(_rule_from_yaml(r, f"{path}: notify.rules[{i}]") for i, r in enumerate(rules))
    if any(r.tags for r in parsed) and not files:
        raise ValueError(f"{path}: notify: rules with tags need Apprise files under notify.config")
    return NotifyConfig(rules=parsed, config_files=tuple(files))


def event_for_status(status: str) -> str | None:
    """Map a Dagu, Argo or Prefect status to an event; None while the run is not final.
    Raises ValueError for a word no source uses."""
    key = re.sub(r"[\s_-]", "", str(status)).lower()
    if key in _FINAL:
        return _FINAL[key]
    if key in _NOT_FINAL:
        return None
    raise ValueError(f"unknown run status {status!r}{_suggest(key, [*_FINAL, *_NOT_FINAL])}")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def compose_alert(summary: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) in plain text; the body lists every field the summary carries."""
    workflow, status = summary["workflow"], summary["status"]
    failed = list(summary.get("failed_nodes") or [])
    lines = [
        f"Workflow: {workflow}",
        f"Status: {status}",
        f"Duration: {_duration(summary.get('duration_seconds'))}",
        f"Failed nodes: {', '.join(map(str, failed)) if failed else 'none'}",
    ]
    if summary.get("flow_run_url"):
        lines.append(f"Flow run: {summary['flow_run_url']}")
    if summary.get("message"):
        lines.append(f"Message: {summary['message']}")
    return f"{workflow}: {status}", "\n".join(lines)


def dispatch(
    rules: Iterable[NotifyRule] | NotifyConfig,
    summary: Mapping[str, Any],
    *,
    config_files: Sequence[str] = (),
    attachments: Sequence[str | Path] = (),
) -> list[AlertResult]:
    """Send the summary to every rule whose events include the run's; one result per rule
    sent. Never raises (a broken summary becomes a failed result)."""
    if isinstance(rules, NotifyConfig):
        config_files = (*rules.config_files, *config_files)
        rules = rules.rules
    try:
        event = event_for_status(summary["status"])
        title, body = compose_alert(summary)
    except (KeyError, ValueError, TypeError) as exc:
        return [AlertResult(False, f"cannot build the alert: {exc!r}")]
    chosen = [r for r in rules if event in r.on] if event else []

    def send(rule: NotifyRule) -> AlertResult:
        return send_alert([rule.url] if rule.url else [], title, body,
                          config_files=config_files if rule.tags else (), tags=rule.tags,
                          attachments=attachments, notify_type=NOTIFY_TYPES[event])

    if len(chosen) <= 1:
        return [send(r) for r in chosen]
    with ThreadPoolExecutor(max_workers=min(8, len(chosen))) as pool:
        return list(pool.map(send, chosen))


# ------------------------------------------------------------ Dagu mailOn / errorMail / infoMail


def dagu_mail_kind(status: str, *, on_failure: bool, on_success: bool,
                   run_error: bool = False) -> str | None:
    """"error", "info" or None, as Dagu's reporter picks: the error mail when the run failed
    or returned an error (a failing handler included), the info mail on (partial) success;
    canceled runs get nothing."""
    normal = re.sub(r"[\s-]", "_", str(status)).lower()
    if on_failure and (run_error or normal == "failed"):
        return "error"
    if on_success and normal in ("succeeded", "partially_succeeded"):
        return "info"
    return None


def dagu_report_body(summary: Mapping[str, Any]) -> str:
    """HTML page like Dagu's status mail (escaped: step names and messages come from users)."""
    title, text = compose_alert(summary)
    rows = "".join(
        f"<tr><th align=left>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, _, v in (line.partition(": ") for line in text.splitlines())
    )
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head><body><table>{rows}</table></body></html>")
