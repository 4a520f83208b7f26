"""Durations as Argo and Dagu accept them: Go ``time.ParseDuration`` plus bare seconds.

Go (``time/format.go`` ``ParseDuration``): an optional sign, then one or more decimal numbers
each with a unit ``ns us µs μs ms s m h`` (``1h30m``, ``1.5s``, ``-2m``); ``0`` alone is zero.
Argo also reads a bare number as seconds (``retryStrategy.backoff.duration: "10"``,
``suspend.duration: 20``, ``activeDeadlineSeconds``), and flowport takes ``d`` for days as
Argo's ``wait.ParseDuration`` does for backoff ``maxDuration``.
"""

from __future__ import annotations

import re

__all__ = ["parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | int | float | None) -> float | None:
    """Seconds for a Go duration (``"1m30s"``, ``"10s"``) or plain seconds (``"10"``, ``10``);
    None when ``text`` is None, empty or not a duration."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        pass
    sign = 1.0
    if s[:1] in "+-" and s[:1]:
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    if not s:
        return None
    pos, total = 0, 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total
