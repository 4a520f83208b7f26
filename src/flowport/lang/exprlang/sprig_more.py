"""The rest of sprig's generic function map (github.com/Masterminds/sprig/v3 ``functions.go``)
as Argo exposes it under ``sprig.``: dates (Go layouts, :mod:`flowport.lang.gotime`), strings,
numbers, lists, dicts, paths, encodings and hashes. Each follows the sprig source it is named
after; Go's typed parameters are read with spf13/cast rules. Functions that need a cluster, the
network, secrets or randomness flowport does not reproduce (``getHostByName``, certificates,
``bcrypt``, ``encryptAES``…) are in :data:`NOT_SUPPORTED`: ``validate`` names them."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import math
import posixpath
import random
import re
import string
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

from flowport.lang import gofmt, gotime
from flowport.lang.exprlang.runtime import _RuntimeError
from flowport.lang.exprlang.sprig import _cast_int64, _sprig_empty, _sprig_strslice, _sprig_strval

__all__ = ["MORE", "NOT_SUPPORTED", "REGEX"]

UTC = timezone.utc
_GO_DURATION = re.compile(r"[+-]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}


def _go_duration_ns(text: Any) -> int | None:
    """Go ``time.ParseDuration`` in nanoseconds, or None."""
    if not isinstance(text, str) or not _GO_DURATION.fullmatch(text):
        return None
    sign = -1 if text.startswith("-") else 1
    total = 0
    for num, unit in re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", text):
        total += round(float(num) * _UNIT_NS[unit])
    return sign * total


def _cast_float(v: Any) -> float:
    """spf13/cast ToFloat64 (errors give 0)."""
    if v is None or v is False:
        return 0.0
    if v is True:
        return 1.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return 0.0
    return 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _zone(name: Any) -> Any:
    text = _sprig_strval(name)
    if text in ("Local", "UTC", ""):
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(text)
    except (ImportError, ValueError, KeyError, OSError):
        return UTC


def _as_time(date: Any, *, ints: bool = True) -> datetime:
    """sprig's `date` argument: a time, Go `int` seconds since the epoch, else now."""
    if isinstance(date, datetime):
        return date
    if ints and isinstance(date, int) and not isinstance(date, bool):
        return datetime.fromtimestamp(date, UTC)
    return _now()


def _date_in_zone(fmt: Any, date: Any, zone: Any) -> str:
    return gotime.format_time(_as_time(date).astimezone(_zone(zone)), _sprig_strval(fmt))


def _need_time(name: str, v: Any) -> datetime:
    if not isinstance(v, datetime):
        raise _RuntimeError(f"sprig.{name}: expected a time.Time, got {gofmt.format_v(v)}")
    return v


def _date_modify(fmt: Any, date: Any, must: bool = False) -> datetime:
    t = _need_time("dateModify", date)
    ns = _go_duration_ns(fmt)
    if ns is None:
        if must:
            raise _RuntimeError(f'time: invalid duration "{_sprig_strval(fmt)}"')
        return t
    return t + timedelta(microseconds=ns // 1000)


def _ago(date: Any) -> str:
    t = _as_time(date)
    secs = round((_now() - t).total_seconds())
    return gotime.format_duration(secs * 10**9)


def _duration(sec: Any) -> str:
    # sprig takes a string or an int64; expr-lang numbers are Go `int`, which it reads as 0
    n = 0
    if isinstance(sec, str):
        n = int(sec) if re.fullmatch(r"[+-]?\d+", sec) else 0
    return gotime.format_duration(n * 10**9)


def _duration_round(d: Any) -> str:
    ns = 0
    if isinstance(d, str):
        ns = _go_duration_ns(d) or 0
    elif isinstance(d, datetime):
        ns = int((_now() - d).total_seconds() * 10**9)
    u = abs(ns)
    for size, unit in ((3600 * 24 * 365, "y"), (3600 * 24 * 30, "mo"), (3600 * 24, "d"), (3600, "h"), (60, "m"),
                       (1, "s")):
        if u > size * 10**9:
            return f"{u // (size * 10**9)}{unit}"
    return "0s"


def _to_date(fmt: Any, text: Any, must: bool = False) -> datetime:
    try:
        return gotime.parse_time(_sprig_strval(fmt), _sprig_strval(text))
    except gotime.GoTimeError as exc:
        if must:
            raise _RuntimeError(str(exc)) from None
        return datetime(1, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- strings


def _abbrev_full(s: str, offset: int, width: int) -> str:
    """goutils ``AbbreviateFull`` ("" where it errors)."""
    if s == "":
        return ""
    if width < 4:
        return ""
    if len(s) <= width:
        return s
    offset = min(offset, len(s))
    if len(s) - offset < width - 3:
        offset = len(s) - (width - 3)
    if offset <= 4:
        return s[:width - 3] + "..."
    if width < 7:
        return ""
    if offset + width - 3 < len(s):
        return "..." + _abbrev_full(s[offset:], 0, width - 3)
    return "..." + s[len(s) - (width - 3):]


def _abbrev(width: Any, s: Any) -> str:
    w, text = _cast_int64(width), _sprig_strval(s)
    return text if w < 4 else _abbrev_full(text, 0, w)


def _trunc(c: Any, s: Any) -> str:
    n, text = _cast_int64(c), _sprig_strval(s)
    b = text.encode()
    if n < 0 and len(b) + n > 0:
        return b[len(b) + n:].decode(errors="replace")
    if n >= 0 and len(b) > n:
        return b[:n].decode(errors="replace")
    return text


def _initials(s: Any) -> str:
    return "".join(w[0] for w in _sprig_strval(s).split())


def _uncapitalize(s: Any) -> str:
    text = _sprig_strval(s)
    return text[:1].lower() + text[1:]


def _swapcase(s: Any) -> str:
    """goutils SwapCase: upper and title case → lower, lower → upper."""
    return "".join(ch.lower() if ch.isupper() or ch.istitle() else ch.upper() if ch.islower() else ch
                   for ch in _sprig_strval(s))


def _words(s: str) -> list[str]:
    """huandu/xstrings word split: case changes, digits and separators (` _-.`)."""
    return re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", s)


def _snake(s: Any) -> str:
    return "_".join(w.lower() for w in _words(_sprig_strval(s)))


def _kebab(s: Any) -> str:
    return "-".join(w.lower() for w in _words(_sprig_strval(s)))


def _pascal(s: Any) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"_+", _sprig_strval(s)) if p)


def _wrap(width: Any, s: Any, sep: str = "\n") -> str:
    """goutils WrapCustom with long words wrapped."""
    w = max(1, _cast_int64(width))
    out_lines = []
    for line in _sprig_strval(s).split("\n"):
        words, cur = line.split(" "), ""
        for word in words:
            while len(word) > w:
                if cur:
                    out_lines.append(cur)
                    cur = ""
                out_lines.append(word[:w])
                word = word[w:]
            if not cur:
                cur = word
            elif len(cur) + 1 + len(word) <= w:
                cur += " " + word
            else:
                out_lines.append(cur)
                cur = word
        out_lines.append(cur)
    return sep.join(out_lines)


def _cat(*xs: Any) -> str:
    return " ".join(gofmt.format_v(x) for x in xs if x is not None)


def _indent(spaces: Any, v: Any) -> str:
    pad = " " * max(0, _cast_int64(spaces))
    return pad + _sprig_strval(v).replace("\n", "\n" + pad)


def _splitn(sep: Any, n: Any, orig: Any) -> dict[str, str]:
    count, text, s = _cast_int64(n), _sprig_strval(orig), _sprig_strval(sep)
    if count == 0:
        parts: list[str] = []
    elif count < 0:
        parts = text.split(s) if s else list(text)
    else:
        parts = text.split(s, count - 1) if s else list(text[:count - 1]) + ([text[count - 1:]] if text[count - 1:] else [])
    return {f"_{i}": p for i, p in enumerate(parts)}


# ---------------------------------------------------------------- numbers


def _until_step(start: Any, stop: Any, step: Any) -> list[int]:
    a, b, s = _cast_int64(start), _cast_int64(stop), _cast_int64(step)
    if b < a:
        return list(range(a, b, s)) if s < 0 else []
    return list(range(a, b, s)) if s > 0 else []


def _seq(*params: Any) -> str:
    p = [_cast_int64(x) for x in params]
    if len(p) == 1:
        start, end = 1, p[0]
        inc = -1 if end < start else 1
        return " ".join(map(str, _until_step(start, end + inc, inc)))
    if len(p) == 2:
        start, end = p
        inc = -1 if end < start else 1
        return " ".join(map(str, _until_step(start, end + inc, inc)))
    if len(p) == 3:
        start, step, end = p
        inc = 1
        if end < start:
            inc = -1
            if step > 0:
                return ""
        return " ".join(map(str, _until_step(start, end + inc, step)))
    return ""


def _round(a: Any, p: Any, *r: Any) -> float:
    round_on = _cast_float(r[0]) if r else 0.5
    val, pow_ = _cast_float(a), math.pow(10, _cast_int64(p))
    digit = pow_ * val
    frac = math.modf(digit)[0]
    return (math.ceil(digit) if frac >= round_on else math.floor(digit)) / pow_


def _to_decimal(v: Any) -> int:
    try:
        return int(gofmt.format_v(v), 8)
    except ValueError:
        return 0


def _fold_f(op: Callable[[float, float], float]) -> Callable[..., float]:
    def fn(a: Any, *xs: Any) -> float:
        acc = _cast_float(a)
        for x in xs:
            acc = op(acc, _cast_float(x))
        return acc
    return fn


def _divf(a: float, b: float) -> float:
    if b == 0:
        return math.copysign(math.inf, a) if a else math.nan
    return a / b


# ---------------------------------------------------------------- lists


def _list_arg(name: str, v: Any) -> list:
    if isinstance(v, (list, tuple)):
        return list(v)
    raise _RuntimeError(f"Cannot find {name} on type {_kind(v)}")


def _first(v: Any) -> Any:
    items = _list_arg("first", v)
    return items[0] if items else None


def _last(v: Any) -> Any:
    items = _list_arg("last", v)
    return items[-1] if items else None


def _uniq(v: Any) -> list:
    out: list = []
    for x in _list_arg("uniq", v):
        if x not in out:
            out.append(x)
    return out


def _slice(v: Any, *idx: Any) -> list:
    items = _list_arg("slice", v)
    ints = [_cast_int64(i) for i in idx]
    if not ints:
        return items
    if len(ints) == 1:
        return items[ints[0]:]
    return items[ints[0]:ints[1]]


def _chunk(size: Any, v: Any) -> list:
    n, items = _cast_int64(size), _list_arg("chunk", v)
    if n <= 0:
        raise _RuntimeError("chunk size must be positive")
    return [items[i:i + n] for i in range(0, len(items), n)]


def _concat(*lists: Any) -> list:
    out: list = []
    for v in lists:
        out.extend(_list_arg("concat", v))
    return out


# ---------------------------------------------------------------- dicts


def _dict_arg(name: str, v: Any) -> dict:
    if isinstance(v, Mapping):
        return v  # type: ignore[return-value]
    raise _RuntimeError(f"sprig.{name}: expected a map, got {_kind(v)}")


def _set(d: Any, key: Any, value: Any) -> dict:
    m = _dict_arg("set", d)
    m[_sprig_strval(key)] = value  # type: ignore[index]
    return m


def _unset(d: Any, key: Any) -> dict:
    m = _dict_arg("unset", d)
    m.pop(_sprig_strval(key), None)  # type: ignore[attr-defined]
    return m


def _keys(*dicts: Any) -> list:
    return [k for d in dicts for k in _dict_arg("keys", d)]


def _merge(overwrite: bool) -> Callable[..., dict]:
    def fn(dst: Any, *srcs: Any) -> dict:
        out = _dict_arg("merge", dst)
        for src in srcs:
            _merge_into(out, _dict_arg("merge", src), overwrite)
        return out
    return fn


def _merge_into(dst: dict, src: Mapping, overwrite: bool) -> None:
    for k, v in src.items():
        if k in dst and isinstance(dst[k], dict) and isinstance(v, Mapping):
            _merge_into(dst[k], v, overwrite)
        elif k not in dst or overwrite or _sprig_empty(dst[k]):
            dst[k] = copy.deepcopy(v)


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise _RuntimeError("dig needs at least three arguments")
    *keys, default, d = args
    cur = _dict_arg("dig", d)
    for i, k in enumerate(keys):
        if not isinstance(cur, Mapping) or _sprig_strval(k) not in cur:
            return default
        cur = cur[_sprig_strval(k)]
    return cur


# ---------------------------------------------------------------- reflection, paths, encodings


def _kind(v: Any) -> str:
    if v is None:
        return "invalid"
    return {bool: "bool", int: "int", float: "float64", str: "string"}.get(type(v)) or (
        "slice" if isinstance(v, (list, tuple)) else "map" if isinstance(v, Mapping)
        else "struct" if isinstance(v, datetime) else "func" if callable(v) else "ptr")


def _type(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, datetime):
        return "time.Time"
    return {"slice": "[]interface {}", "map": "map[string]interface {}"}.get(_kind(v), _kind(v))


def _b64dec(v: Any) -> str:
    try:
        return base64.b64decode(_sprig_strval(v).encode(), validate=True).decode(errors="replace")
    except (binascii.Error, ValueError) as exc:
        return f"illegal base64 data at input byte {_bad_byte(_sprig_strval(v), exc)}"


def _bad_byte(text: str, exc: Exception) -> int:
    for i, ch in enumerate(text):
        if ch not in string.ascii_letters + string.digits + "+/=":
            return i
    return len(text) - len(text) % 4 if len(text) % 4 else len(text)


def _b32dec(v: Any) -> str:
    try:
        return base64.b32decode(_sprig_strval(v).encode()).decode(errors="replace")
    except (binascii.Error, ValueError):
        return f"illegal base32 data at input byte {_bad_byte(_sprig_strval(v), ValueError())}"


def _go_path_ext(p: str) -> str:
    base = p.rsplit("/", 1)[-1]
    i = base.rfind(".")
    return base[i:] if i >= 0 else ""


def _go_clean(p: str) -> str:
    if p == "":
        return "."
    cleaned = posixpath.normpath(p)
    return "/" if cleaned.startswith("//") and cleaned.strip("/") == "" else cleaned.replace("//", "/")


def _go_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    return p.rsplit("/", 1)[-1] if p else "/"


def _go_dir(p: str) -> str:
    head = p[:p.rfind("/") + 1]
    return _go_clean(head)


def _url_parse(v: Any) -> dict[str, str]:
    u = urlsplit(_sprig_strval(v))
    userinfo = u.netloc.rsplit("@", 1)[0] if "@" in u.netloc else ""
    return {"scheme": u.scheme, "host": u.netloc.rsplit("@", 1)[-1], "hostname": u.hostname or "",
            "path": u.path, "query": u.query, "opaque": "", "fragment": u.fragment, "userinfo": userinfo}


def _url_join(d: Any) -> str:
    m = _dict_arg("urlJoin", d)
    get = lambda k: _sprig_strval(m[k]) if k in m else ""  # noqa: E731
    netloc = (get("userinfo") + "@" if get("userinfo") else "") + get("host")
    return urlunsplit((get("scheme"), netloc, get("path"), get("query"), get("fragment")))


def _semver_compare(constraint: Any, version: Any) -> bool:
    """Masterminds/semver constraints: `op version` terms, `,`/space AND, `||` OR."""
    v = _semver(version)
    for alt in _sprig_strval(constraint).split("||"):
        terms = [t for t in re.split(r"[,\s]+(?=[<>=!~^]|\d)", alt.strip()) if t.strip()]
        if all(_semver_term(t.strip(), v) for t in terms):
            return True
    return False


def _semver(text: Any) -> tuple[int, int, int]:
    m = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?", _sprig_strval(text).strip())
    if not m:
        raise _RuntimeError(f"Invalid Semantic Version: {_sprig_strval(text)}")
    return int(m[1]), int(m[2] or 0), int(m[3] or 0)


def _semver_term(term: str, v: tuple[int, int, int]) -> bool:
    m = re.fullmatch(r"(>=|<=|!=|=>|=<|>|<|=|~|\^)?\s*(.+)", term)
    op, c = (m[1] or "="), _semver(m[2]) if m else _semver(term)
    if op == "~":
        return c <= v < (c[0], c[1] + 1, 0)
    if op == "^":
        return c <= v < (c[0] + 1, 0, 0) if c[0] else c <= v < (0, c[1] + 1, 0)
    return {"=": v == c, "!=": v != c, ">": v > c, "<": v < c, ">=": v >= c, "=>": v >= c, "<=": v <= c,
            "=<": v <= c}[op]


def _semver_dict(v: Any) -> dict[str, Any]:
    text = _sprig_strval(v).strip()
    m = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?", text)
    if not m:
        raise _RuntimeError(f"Invalid Semantic Version: {text}")
    return {"Major": int(m[1]), "Minor": int(m[2] or 0), "Patch": int(m[3] or 0), "Prerelease": m[4] or "",
            "Metadata": m[5] or "", "Original": text}


def _fail(msg: Any) -> str:
    raise _RuntimeError(_sprig_strval(msg))


def _rand(chars: str) -> Callable[[Any], str]:
    rng = random.SystemRandom()
    return lambda n: "".join(rng.choice(chars) for _ in range(max(0, _cast_int64(n))))


def _json(indent: bool, escape: bool, must: bool) -> Callable[[Any], str]:
    def fn(v: Any) -> str:
        try:
            text = gofmt.json_marshal(v, indent="  ") if indent else gofmt.json_marshal(v)
        except gofmt.MarshalError as exc:
            if must:
                raise _RuntimeError(str(exc)) from None
            return ""
        if not escape:
            text = text.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
        return text
    return fn


def _must_from_json(s: Any) -> Any:
    try:
        return gofmt.json_unmarshal(_sprig_strval(s))
    except ValueError as exc:
        raise _RuntimeError(str(exc)) from None


MORE: dict[str, Callable[..., Any]] = {
    "hello": lambda: "Hello!",
    # dates
    "now": _now,
    "date": lambda fmt, d: _date_in_zone(fmt, d, "Local"),
    "dateInZone": _date_in_zone,
    "htmlDate": lambda d: _date_in_zone("2006-01-02", d, "Local"),
    "htmlDateInZone": lambda d, zone: _date_in_zone("2006-01-02", d, zone),
    "dateModify": _date_modify,
    "mustDateModify": lambda fmt, d: _date_modify(fmt, d, must=True),
    "ago": _ago,
    "duration": _duration,
    "durationRound": _duration_round,
    "toDate": _to_date,
    "mustToDate": lambda fmt, s: _to_date(fmt, s, must=True),
    "unixEpoch": lambda d: str(int(_need_time("unixEpoch", d).timestamp())),
    # strings
    "abbrev": _abbrev,
    "abbrevboth": lambda left, right, s: _abbrev_full(_sprig_strval(s), _cast_int64(left), _cast_int64(right)),
    "trunc": _trunc,
    "untitle": _uncapitalize,
    "trimall": lambda cutset, s: _sprig_strval(s).strip(_sprig_strval(cutset)),
    "initials": _initials,
    "swapcase": _swapcase,
    "snakecase": _snake,
    "camelcase": _pascal,
    "kebabcase": _kebab,
    "wrap": lambda width, s: _wrap(width, s),
    "wrapWith": lambda width, sep, s: _wrap(width, s, _sprig_strval(sep)),
    "cat": _cat,
    "indent": _indent,
    "nindent": lambda n, v: "\n" + _indent(n, v),
    "plural": lambda one, many, count: one if _cast_int64(count) == 1 else many,
    "splitn": _splitn,
    "toStrings": _sprig_strslice,
    "shuffle": lambda s: "".join(random.sample(_sprig_strval(s), len(_sprig_strval(s)))),
    "randAlphaNum": _rand(string.ascii_letters + string.digits),
    "randAlpha": _rand(string.ascii_letters),
    "randAscii": _rand("".join(chr(c) for c in range(32, 127))),
    "randNumeric": _rand(string.digits),
    "uuidv4": lambda: str(uuid.uuid4()),
    "randInt": lambda lo, hi: random.SystemRandom().randrange(_cast_int64(lo), _cast_int64(hi)),
    "randBytes": lambda n: base64.b64encode(random.SystemRandom().randbytes(max(0, _cast_int64(n)))).decode(),
    # numbers
    "seq": _seq,
    "toDecimal": _to_decimal,
    "until": lambda n: _until_step(0, n, -1 if _cast_int64(n) < 0 else 1),
    "untilStep": _until_step,
    "add1f": lambda x: _cast_float(x) + 1,
    "addf": lambda *xs: math.fsum(_cast_float(x) for x in xs) if xs else 0.0,
    "subf": _fold_f(lambda a, b: a - b),
    "mulf": _fold_f(lambda a, b: a * b),
    "divf": _fold_f(_divf),
    "biggest": lambda a, *xs: max([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "maxf": _fold_f(max),
    "minf": _fold_f(min),
    "ceil": lambda a: float(math.ceil(_cast_float(a))),
    "floor": lambda a: float(math.floor(_cast_float(a))),
    "round": _round,
    # lists
    "tuple": lambda *xs: list(xs),
    "sortAlpha": lambda v: sorted(_sprig_strslice(v)),
    "coalesce": lambda *xs: next((x for x in xs if not _sprig_empty(x)), None),
    "all": lambda *xs: all(not _sprig_empty(x) for x in xs),
    "any": lambda *xs: any(not _sprig_empty(x) for x in xs),
    "compact": lambda v: [x for x in _list_arg("compact", v) if not _sprig_empty(x)],
    "append": lambda v, x: [*_list_arg("append", v), x],
    "push": lambda v, x: [*_list_arg("push", v), x],
    "prepend": lambda v, x: [x, *_list_arg("prepend", v)],
    "first": _first,
    "rest": lambda v: _list_arg("rest", v)[1:],
    "last": _last,
    "initial": lambda v: _list_arg("initial", v)[:-1],
    "reverse": lambda v: _list_arg("reverse", v)[::-1],
    "uniq": _uniq,
    "without": lambda v, *xs: [x for x in _list_arg("without", v) if x not in xs],
    "has": lambda needle, v: needle in _list_arg("has", v) if v is not None else False,
    "slice": _slice,
    "concat": _concat,
    "chunk": _chunk,
    # dicts
    "get": lambda d, k: _dict_arg("get", d).get(_sprig_strval(k), ""),
    "set": _set,
    "unset": _unset,
    "hasKey": lambda d, k: _sprig_strval(k) in _dict_arg("hasKey", d),
    "pluck": lambda k, *ds: [d[_sprig_strval(k)] for d in ds if _sprig_strval(k) in _dict_arg("pluck", d)],
    "keys": _keys,
    "values": lambda d: list(_dict_arg("values", d).values()),
    "pick": lambda d, *ks: {k: v for k, v in _dict_arg("pick", d).items() if k in {_sprig_strval(x) for x in ks}},
    "omit": lambda d, *ks: {k: v for k, v in _dict_arg("omit", d).items() if k not in {_sprig_strval(x) for x in ks}},
    "merge": _merge(False),
    "mergeOverwrite": _merge(True),
    "dig": _dig,
    "deepCopy": copy.deepcopy,
    "mustDeepCopy": copy.deepcopy,
    # json, reflection
    "toPrettyJson": _json(True, True, False),
    "toRawJson": _json(False, False, False),
    "mustToJson": _json(False, True, True),
    "mustToPrettyJson": _json(True, True, True),
    "mustToRawJson": _json(False, False, True),
    "mustFromJson": _must_from_json,
    "typeOf": _type,
    "typeIs": lambda t, v: _sprig_strval(t) == _type(v),
    "typeIsLike": lambda t, v: _sprig_strval(t) in (_type(v), "*" + _type(v)),
    "kindOf": _kind,
    "kindIs": lambda k, v: _sprig_strval(k) == _kind(v),
    "deepEqual": lambda a, b: type(a) is type(b) and a == b,
    # paths
    "base": lambda p: _go_base(_sprig_strval(p)),
    "dir": lambda p: _go_dir(_sprig_strval(p)),
    "clean": lambda p: _go_clean(_sprig_strval(p)),
    "ext": lambda p: _go_path_ext(_sprig_strval(p)),
    "isAbs": lambda p: _sprig_strval(p).startswith("/"),
    "osBase": lambda p: _go_base(_sprig_strval(p)),
    "osDir": lambda p: _go_dir(_sprig_strval(p)),
    "osClean": lambda p: _go_clean(_sprig_strval(p)),
    "osExt": lambda p: _go_path_ext(_sprig_strval(p)),
    "osIsAbs": lambda p: _sprig_strval(p).startswith("/"),
    # encodings and hashes
    "b64dec": _b64dec,
    "b32enc": lambda s: base64.b32encode(_sprig_strval(s).encode()).decode(),
    "b32dec": _b32dec,
    "sha1sum": lambda s: hashlib.sha1(_sprig_strval(s).encode()).hexdigest(),
    "sha256sum": lambda s: hashlib.sha256(_sprig_strval(s).encode()).hexdigest(),
    "sha512sum": lambda s: hashlib.sha512(_sprig_strval(s).encode()).hexdigest(),
    "adler32sum": lambda s: str(zlib.adler32(_sprig_strval(s).encode())),
    # semver, urls, errors
    "semver": _semver_dict,
    "semverCompare": _semver_compare,
    "urlParse": _url_parse,
    "urlJoin": _url_join,
    "fail": _fail,
}
# sprig's `must…` twins of list functions differ only in returning errors instead of panicking
for _name in ("compact", "first", "rest", "last", "initial", "reverse", "uniq", "without", "has", "slice",
              "chunk", "append", "prepend"):
    MORE["must" + _name[0].upper() + _name[1:]] = MORE[_name]
MORE["mustPush"] = MORE["push"]
MORE["mustMerge"], MORE["mustMergeOverwrite"] = MORE["merge"], MORE["mergeOverwrite"]

# in sprig's map, but not reproduced here (cluster DNS, secrets and certificates, keyed crypto)
NOT_SUPPORTED = frozenset({
    "getHostByName", "bcrypt", "htpasswd", "genPrivateKey", "derivePassword", "buildCustomCert", "genCA",
    "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
    "encryptAES", "decryptAES",
})
# sprig's regex functions (lang/regex.py owns their RE2 semantics)
REGEX = frozenset({
    "regexMatch", "mustRegexMatch", "regexFindAll", "mustRegexFindAll", "regexFind", "mustRegexFind",
    "regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral",
    "regexSplit", "mustRegexSplit", "regexQuoteMeta",
})
