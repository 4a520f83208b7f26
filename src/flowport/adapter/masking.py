"""Secret values never reach a log, a report or an artifact: every value a run resolves
from a secret (Dagu `secrets:`, Argo `secretKeyRef`/`envFrom.secretRef`) is registered here
and replaced by `*******` (Dagu's mask, internal/cmn/masking: plain substring replacement,
longest value first) in step output lines and their log files, in Prefect's log records and
in the run report. Process-wide on purpose: a value masked in every run of the process is
never a leak."""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, Iterable

MASK = "*******"
_values: list[str] = []
_lock = threading.Lock()


def register(values: Iterable[str]) -> None:
    """Each value, and its text without surrounding whitespace (a secret file's content ends
    with a newline that a log line never holds)."""
    global _values
    values = [v for v in values if v]
    with _lock:
        merged = set(_values) | set(values) | {v.strip() for v in values if v.strip()}
        _values = sorted(merged, key=len, reverse=True)


def active() -> bool:
    return bool(_values)


def mask(text: str) -> str:
    for value in _values:  # a snapshot: `register` replaces the list, never changes it
        if value in text:
            text = text.replace(value, MASK)
    return text


def mask_all(obj: Any) -> Any:
    """`obj` (a report, its nodes, dicts and lists of them) with every string masked."""
    if not _values:
        return obj
    if isinstance(obj, str):
        return mask(obj)
    if isinstance(obj, list):
        return [mask_all(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(mask_all(v) for v in obj)
    if isinstance(obj, dict):
        return {mask_all(k): mask_all(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: mask_all(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


class MaskingFilter(logging.Filter):
    """Masks Prefect's task and flow run log records (what the UI and the terminal show)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _values:
            text = record.getMessage()
            masked = mask(text)
            if masked != text:
                record.msg, record.args = masked, ()
        return True


for _name in ("prefect.task_runs", "prefect.flow_runs", "flowport"):
    logging.getLogger(_name).addFilter(MaskingFilter())
