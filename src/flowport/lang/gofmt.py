"""Go's text renderings, once: ``fmt`` ``%v``, ``encoding/json`` Marshal/Unmarshal and
``strconv.Quote``/``Unquote``, for the values the expression and template languages handle
(``None``, bools, ints, floats, strings, lists/tuples, mappings).

Sources read: Go ``strconv/ftoa.go`` (shortest 'g' formatting), ``strconv/quote.go``
(``appendEscapedRune``), ``encoding/json/encode.go`` (``appendString``, ``floatEncoder``: Go
1.22+ writes ``\\b`` and ``\\f`` short), ``fmt/print.go`` (``%v`` of maps sorts keys).

Python strings that came from undecodable bytes (``surrogateescape``, U+DC80..U+DCFF) stand for
those bytes; other lone surrogates stand for their (invalid) UTF-8 encoding. Go sees both as
invalid UTF-8: ``strconv.Quote`` writes each byte as ``\\xNN``, ``json.Marshal`` writes
``\\ufffd``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Mapping

from flowport.lang.errors import ExpressionError

__all__ = [
    "MarshalError", "NIL", "float_v", "format_v", "json_marshal", "json_unmarshal", "quote",
    "unquote",
]

NIL = "<nil>"  # Go's %v of a nil interface


class MarshalError(ExpressionError):
    """``json.Marshal`` refuses the value (NaN, ±Inf, a type JSON has no form for): Go's
    ``UnsupportedValueError`` / ``UnsupportedTypeError``. An ExpressionError (so a
    FlowportError and a ValueError)."""


# --------------------------------------------------------------------------- floats


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) > 0, and the decimal point position."""
    mantissa, _, exponent = repr(abs(f)).partition("e")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = whole + frac
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0") or "0", point


def _fixed(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _sci(digits: str, point: int, min_exp_digits: int) -> str:
    exp = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{head}e{'-' if exp < 0 else '+'}{abs(exp):0{min_exp_digits}d}"


def float_v(f: float) -> str:
    """Go ``%v`` / ``strconv.FormatFloat(f, 'g', -1, 64)``: shortest digits, exponent form when
    the decimal exponent is < -4 or >= 6 (ftoa.go: ``eprec = 6`` for the shortest precision):
    8080 -> ``8080``, 1234567 -> ``1.234567e+06``, 1e-05 -> ``1e-05``."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    digits, point = _shortest_digits(f)
    exp = point - 1
    body = _sci(digits, point, 2) if exp < -4 or exp >= 6 else _fixed(digits, point)
    return ("-" if f < 0 else "") + body


def _json_float(f: float) -> str:
    """``encoding/json`` floatEncoder: 'f' for 1e-6 <= |f| < 1e21, else 'e' with a short exponent."""
    if math.isnan(f) or math.isinf(f):
        raise MarshalError(f"json: unsupported value: {float_v(f)}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    digits, point = _shortest_digits(f)
    a = abs(f)
    body = _sci(digits, point, 1) if a < 1e-6 or a >= 1e21 else _fixed(digits, point)
    return ("-" if f < 0 else "") + body


# --------------------------------------------------------------------------- %v


def format_v(v: Any) -> str:
    """Go ``fmt.Sprintf("%v", v)`` of a decoded value: ``<nil>``, ``true``, ``8080``, ``1.5``,
    strings as they are, ``[a b]``, ``map[k:v]`` (keys sorted as %v prints them). A value
    nested deeper than Python can recurse (or containing itself) is an ExpressionError."""
    try:
        return _format_v(v)
    except RecursionError:
        raise ExpressionError("value nested too deeply to format") from None


def _format_v(v: Any) -> str:
    if v is None:
        return NIL
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return float_v(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_format_v(x) for x in v) + "]"
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _format_v(kv[0]))
        return "map[" + " ".join(f"{_format_v(k)}:{_format_v(x)}" for k, x in items) + "]"
    if isinstance(v, re.Pattern):
        return v.pattern
    if hasattr(v, "utcoffset") and hasattr(v, "hour"):  # a time.Time (sprig dates)
        from flowport.lang.gotime import time_string

        return time_string(v)
    return str(v)


# --------------------------------------------------------------------------- json.Marshal

_JSON_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
             "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_SPECIAL = re.compile('["\\\\<>&\u2028\u2029\x00-\x1f\ud800-\udfff]')


def _json_char(m: re.Match[str]) -> str:
    c = m.group(0)
    esc = _JSON_ESC.get(c)
    if esc is not None:
        return esc
    if c < " ":
        return f"\\u{ord(c):04x}"
    return "\\ufffd"  # a surrogate: invalid UTF-8 in Go


def _json_string(s: str) -> str:
    return '"' + _JSON_SPECIAL.sub(_json_char, s) + '"'


def json_marshal(
    v: Any,
    *,
    indent: str | None = None,
    sort_keys: bool = True,
    default: Callable[[Any], Any] | None = None,
    _level: int = 0,
) -> str:
    """Go ``json.Marshal`` (``MarshalIndent(v, "", indent)`` with ``indent``): compact, HTML
    characters and U+2028/U+2029 escaped, non-ASCII kept, map keys sorted (Go sorts
    ``map[string]…``; ``sort_keys=False`` keeps a struct's or a ``json.RawMessage``'s order).
    A value JSON has no form for raises MarshalError unless ``default`` converts it; so does
    one nested too deeply (Go: ``encountered a cycle``)."""
    if _level == 0:
        try:
            return _marshal(v, indent, sort_keys, default, 0)
        except RecursionError:
            raise MarshalError("json: unsupported value: encountered a cycle or nesting too deep") from None
    return _marshal(v, indent, sort_keys, default, _level)


def _marshal(v: Any, indent: str | None, sort_keys: bool, default: Callable[[Any], Any] | None, _level: int) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _json_float(v)
    if isinstance(v, str):
        return _json_string(v)
    nl = end = sep = ""
    if indent is not None:
        nl, end, sep = "\n" + indent * (_level + 1), "\n" + indent * _level, " "

    def inner(x: Any) -> str:
        return _marshal(x, indent, sort_keys, default, _level + 1)

    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        return "[" + ",".join(nl + inner(x) for x in v) + end + "]"
    if isinstance(v, Mapping):
        if not v:
            return "{}"
        items = [(str(k), x) for k, x in v.items()]
        if sort_keys:
            items.sort(key=lambda kv: kv[0])
        return "{" + ",".join(f"{nl}{_json_string(k)}:{sep}{inner(x)}" for k, x in items) + end + "}"
    if hasattr(v, "utcoffset") and hasattr(v, "hour"):  # a time.Time marshals as RFC 3339 (nanoseconds)
        from flowport.lang.gotime import format_time

        return _json_string(format_time(v, "2006-01-02T15:04:05.999999999Z07:00"))
    if default is not None:
        return _marshal(default(v), indent, sort_keys, None, _level)
    raise MarshalError(f"json: unsupported type: {type(v).__name__}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def json_unmarshal(text: str) -> Any:
    """Go ``json.Unmarshal`` into ``interface{}``: every number is a float64, NaN/Infinity are
    refused. Raises ExpressionError (a ValueError) on invalid JSON."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except RecursionError:
        raise ExpressionError("invalid JSON: nested too deeply") from None
    except TypeError as exc:
        raise ExpressionError(f"invalid JSON: {exc}") from None
    except ValueError as exc:  # json.JSONDecodeError, a refused NaN/Infinity
        raise ExpressionError(str(exc)) from None


# --------------------------------------------------------------------------- strconv.Quote

_QUOTE_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
              '"': '\\"', "\\": "\\\\"}


def _quote_rune(c: str) -> str:
    esc = _QUOTE_ESC.get(c)
    if esc is not None:
        return esc
    if c.isprintable():  # Python's printable classes are Go's unicode.IsPrint (L, M, N, P, S, ' ')
        return c
    o = ord(c)
    if o < 0x20 or o == 0x7F:
        return f"\\x{o:02x}"
    if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    if 0xD800 <= o <= 0xDFFF:  # a lone surrogate: its 3 invalid UTF-8 bytes
        return "".join(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogatepass"))
    return f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def quote(s: str) -> str:
    """Go ``strconv.Quote`` (and ``%q``): ``"\\a"`` for BEL, ``\\x00``-style for other control
    characters and DEL, ``\\u``/``\\U`` for non-printable runes, printable Unicode kept."""
    return '"' + "".join(_quote_rune(c) for c in s) + '"'


_UNQUOTE_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX = frozenset("0123456789abcdefABCDEF")


def unquote(s: str) -> str | None:
    """Go ``strconv.Unquote`` of a double-quoted literal; None where Go returns an error."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return None
    body = s[1:-1]
    if "\n" in body:
        return None
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            return None
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            return None
        e = body[i + 1]
        i += 2
        if e in _UNQUOTE_SIMPLE:
            out.append(_UNQUOTE_SIMPLE[e])
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            h = body[i:i + width]
            if len(h) != width or not set(h) <= _HEX:
                return None
            i += width
            v = int(h, 16)
            if e == "x":
                out.append(v)
            elif v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                return None
            else:
                out += chr(v).encode("utf-8")
        elif e in "01234567":
            o = body[i - 1:i + 2]
            if len(o) != 3 or not all(ch in "01234567" for ch in o) or int(o, 8) > 255:
                return None
            i += 2
            out.append(int(o, 8))
        else:
            return None
    return out.decode("utf-8", "surrogateescape")
