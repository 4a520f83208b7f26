"""Go's ``time`` renderings: layouts written as the reference time ``Mon Jan 2 15:04:05 MST
2006`` (``Time.Format`` / ``time.Parse``), ``Time.String`` and ``Duration.String``.

Read from Go ``time/format.go`` (``nextStdChunk``, ``appendInt``, ``formatNano``) and
``time/time.go`` (``Duration.String``). Times are timezone-aware ``datetime`` values
(microseconds: Go's nanoseconds past the sixth digit are zero here). flowport's "Local" zone is
UTC, as in an Argo controller's container.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["GoTimeError", "format_duration", "format_time", "parse_time", "time_string"]

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class GoTimeError(ValueError):
    """A text that does not match its layout (``time.Parse``)."""


def _chunks(layout: str) -> list[str]:
    """The layout as literal text and std tokens (Go ``nextStdChunk``)."""
    out: list[str] = []
    lit = ""
    i = 0
    while i < len(layout):
        tok = _std_at(layout, i)
        if tok is None:
            lit += layout[i]
            i += 1
            continue
        if lit:
            out.append(lit)
            lit = ""
        out.append("\0" + tok)
        i += len(tok)
    if lit:
        out.append(lit)
    return out


def _std_at(layout: str, i: int) -> str | None:
    rest = layout[i:]
    c = rest[0]
    if c == "J":
        if rest.startswith("Jan"):
            return "January" if rest.startswith("January") else "Jan"
    elif c == "M":
        if rest.startswith("Mon"):
            if rest.startswith("Monday"):
                return "Monday"
            return "Mon" if not (len(rest) > 3 and rest[3].islower()) else None
        if rest.startswith("MST"):
            return "MST"
    elif c == "0":
        if len(rest) > 1 and rest[1] in "123456":
            return rest[:2]
        if rest.startswith("002"):
            return "002"
    elif c == "1":
        return "15" if rest.startswith("15") else "1"
    elif c == "2":
        return "2006" if rest.startswith("2006") else "2"
    elif c == "_":
        if rest.startswith("_2"):
            if rest.startswith("_2006"):  # a literal `_` before the year
                return None
            return "_2"
        if rest.startswith("__2"):
            return "__2"
    elif c in "345":
        return c
    elif c == "P" and rest.startswith("PM"):
        return "PM"
    elif c == "p" and rest.startswith("pm"):
        return "pm"
    elif c in "-Z":
        for tok in ("Z07:00:00", "-07:00:00", "Z070000", "-070000", "Z07:00", "-07:00", "Z0700", "-0700",
                    "Z07", "-07"):
            if rest.startswith(tok):
                return tok
    elif c in ".,":
        m = re.match(r"[.,](0+|9+)", rest)
        if m and not (len(rest) > m.end() and rest[m.end()].isdigit()):
            return m.group(0)
    return None


def _zone(t: datetime, tok: str) -> str:
    off = t.utcoffset() or timedelta(0)
    secs = int(off.total_seconds())
    if tok.startswith("Z") and secs == 0:
        return "Z"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    h, m, s = secs // 3600, secs // 60 % 60, secs % 60
    body = tok[1:]
    if body == "07":
        return f"{sign}{h:02d}"
    if body == "0700":
        return f"{sign}{h:02d}{m:02d}"
    if body == "07:00":
        return f"{sign}{h:02d}:{m:02d}"
    if body == "070000":
        return f"{sign}{h:02d}{m:02d}{s:02d}"
    return f"{sign}{h:02d}:{m:02d}:{s:02d}"


def _abbrev(t: datetime) -> str:
    name = t.tzname()
    if name and name != "UTC" and not name.startswith(("UTC+", "UTC-")):
        return name
    off = int((t.utcoffset() or timedelta(0)).total_seconds())
    if off == 0:
        return "UTC"
    sign, off = ("-" if off < 0 else "+"), abs(off)
    h, m = off // 3600, off // 60 % 60
    return f"{sign}{h:02d}" + (f"{m:02d}" if m else "")


def format_time(t: datetime, layout: str) -> str:
    """Go ``Time.Format(layout)``."""
    out = []
    for chunk in _chunks(layout):
        if not chunk.startswith("\0"):
            out.append(chunk)
            continue
        tok = chunk[1:]
        hour12 = t.hour % 12 or 12
        if tok in ("January", "Jan"):
            v = _MONTHS[t.month - 1] if tok == "January" else _MONTHS[t.month - 1][:3]
        elif tok in ("Monday", "Mon"):
            v = _DAYS[t.weekday()] if tok == "Monday" else _DAYS[t.weekday()][:3]
        elif tok == "MST":
            v = _abbrev(t)
        elif tok == "2006":
            v = f"{t.year:04d}"
        elif tok == "06":
            v = f"{t.year % 100:02d}"
        elif tok in ("1", "01"):
            v = f"{t.month:0{len(tok)}d}"
        elif tok in ("2", "02", "_2"):
            v = f"{t.day:02d}" if tok == "02" else (f"{t.day:2d}" if tok == "_2" else str(t.day))
        elif tok in ("002", "__2"):
            yday = t.timetuple().tm_yday
            v = f"{yday:03d}" if tok == "002" else f"{yday:3d}"
        elif tok == "15":
            v = f"{t.hour:02d}"
        elif tok in ("3", "03"):
            v = f"{hour12:0{len(tok)}d}"
        elif tok in ("4", "04"):
            v = f"{t.minute:0{len(tok)}d}"
        elif tok in ("5", "05"):
            v = f"{t.second:0{len(tok)}d}"
        elif tok in ("PM", "pm"):
            v = ("PM" if t.hour >= 12 else "AM")
            v = v if tok == "PM" else v.lower()
        elif tok[0] in "-Z":
            v = _zone(t, tok)
        else:  # fractional seconds
            digits = f"{t.microsecond:06d}000"[:len(tok) - 1]
            if tok[1] == "9":
                digits = (f"{t.microsecond:06d}000")[:len(tok) - 1].rstrip("0")
                v = (tok[0] + digits) if digits else ""
            else:
                v = tok[0] + digits.ljust(len(tok) - 1, "0")
        out.append(v)
    return "".join(out)


def time_string(t: datetime) -> str:
    """Go ``Time.String``: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    return format_time(t, "2006-01-02 15:04:05.999999999 -0700 MST")


_PARSE = {
    "January": "(?P<month_name>" + "|".join(_MONTHS) + ")",
    "Jan": "(?P<mon>" + "|".join(m[:3] for m in _MONTHS) + ")",
    "Monday": "(?:" + "|".join(_DAYS) + ")", "Mon": "(?:" + "|".join(d[:3] for d in _DAYS) + ")",
    "MST": "(?P<abbr>[A-Z]{3,5}|[+-]\\d{2,4})",
    "2006": "(?P<year>\\d{4})", "06": "(?P<year2>\\d{2})",
    "1": "(?P<month>1[0-2]|0?[1-9])", "01": "(?P<month>0[1-9]|1[0-2])",
    "2": "(?P<day>3[01]|[12]\\d|0?[1-9])", "02": "(?P<day>\\d{2})", "_2": "(?P<day> ?\\d{1,2})",
    "002": "(?P<yday>\\d{3})", "__2": "(?P<yday> {0,2}\\d{1,3})",
    "15": "(?P<hour>\\d{1,2})", "3": "(?P<hour12>1[0-2]|0?[1-9])", "03": "(?P<hour12>\\d{2})",
    "4": "(?P<minute>\\d{1,2})", "04": "(?P<minute>\\d{2})", "5": "(?P<second>\\d{1,2})",
    "05": "(?P<second>\\d{2})", "PM": "(?P<ampm>AM|PM)", "pm": "(?P<ampm>am|pm)",
}


def parse_time(layout: str, text: str, tz: timezone = timezone.utc) -> datetime:
    """Go ``time.ParseInLocation(layout, text, tz)`` for the layouts' usual tokens."""
    pattern = []
    for chunk in _chunks(layout):
        if not chunk.startswith("\0"):
            pattern.append(re.escape(chunk))
            continue
        tok = chunk[1:]
        if tok in _PARSE:
            pattern.append(_PARSE[tok])
        elif tok[0] in "-Z":
            pattern.append("(?P<zone>Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2})?)?)")
        else:
            pattern.append("(?P<frac>[.,]\\d+)" if tok[1] == "0" else "(?P<frac>(?:[.,]\\d+)?)")
    m = re.fullmatch("".join(pattern), text)
    if not m:
        raise GoTimeError(f'parsing time "{text}" as "{layout}": cannot parse')
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    try:
        year = int(g["year"]) if "year" in g else (1900 + int(g["year2"]) + (100 if int(g["year2"]) < 69 else 0)
                                                   if "year2" in g else 0)
        month = int(g["month"]) if "month" in g else (
            _MONTHS.index(g["month_name"]) + 1 if "month_name" in g else
            [x[:3] for x in _MONTHS].index(g["mon"]) + 1 if "mon" in g else 1)
        day = int(g["day"].strip()) if "day" in g else 1
        hour = int(g.get("hour", 0))
        if "hour12" in g:
            hour = int(g["hour12"]) % 12 + (12 if g.get("ampm", "").upper() == "PM" else 0)
        minute, second = int(g.get("minute", 0)), int(g.get("second", 0))
        micro = int((g.get("frac", "")[1:] + "000000")[:6] or 0)
        zone = g.get("zone")
        tzinfo = tz
        if zone and zone != "Z":
            digits = zone[1:].replace(":", "")
            secs = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60 + int(digits[4:6] or 0)
            tzinfo = timezone(timedelta(seconds=-secs if zone[0] == "-" else secs))
        elif zone == "Z":
            tzinfo = timezone.utc
        base = datetime(max(year, 1), month, day, hour, minute, second, micro, tzinfo=tzinfo)
        if "yday" in g:
            base = base.replace(month=1, day=1) + timedelta(days=int(g["yday"].strip()) - 1)
        return base
    except (ValueError, IndexError):
        raise GoTimeError(f'parsing time "{text}": out of range') from None


def format_duration(nanos: int) -> str:
    """Go ``Duration.String`` of a whole number of nanoseconds: ``1h2m3.5s``, ``1.5ms``, ``0s``."""
    if nanos == 0:
        return "0s"
    neg, u = nanos < 0, abs(nanos)
    if u < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                text = _frac(u, size) + unit
                break
    else:
        secs, frac = divmod(u, 1_000_000_000)
        h, rem = divmod(secs, 3600)
        m, s = divmod(rem, 60)
        text = _frac(s * 1_000_000_000 + frac, 1_000_000_000) + "s"
        if h:
            text = f"{h}h{m}m{text}"
        elif m:
            text = f"{m}m{text}"
    return ("-" if neg else "") + text


def _frac(value: int, size: int) -> str:
    whole, rest = divmod(value, size)
    if not rest:
        return str(whole)
    digits = f"{rest:0{len(str(size)) - 1}d}".rstrip("0")
    return f"{whole}.{digits}"
