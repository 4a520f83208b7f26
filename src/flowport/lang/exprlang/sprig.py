"""sprig (github.com/Masterminds/sprig/v3) functions as Argo exposes them under ``sprig.``."""

from __future__ import annotations

import base64
import math
import re
from typing import Any, Callable, Mapping

from flowport.lang import gofmt
from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang.runtime import _GO_FLOAT, _arith, _is_number, _RuntimeError, _to_float, _type_name
from flowport.lang.regex import GoRegexp, compile_go, quote_meta

def _sprig_strval(v: Any) -> str:
    if v is None:
        return "<nil>"
    return gofmt.format_v(v)


def _sprig_empty(v: Any) -> bool:
    if v is None or v is False:
        return True
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == 0
    if isinstance(v, (str, list, tuple, Mapping)):
        return len(v) == 0
    return False


#: Longest text `sprig.repeat` builds: a workflow parameter, not a way to fill the memory.
_REPEAT_LIMIT = 10_000_000


def _sprig_repeat(s: str, count: int) -> str:
    if len(s) * count > _REPEAT_LIMIT:
        raise _RuntimeError(f"sprig.repeat: {count} × {len(s)} characters is more than {_REPEAT_LIMIT:,}")
    return s * count


def _cast_int64(v: Any) -> int:
    """spf13/cast ToInt64 (errors give 0)."""
    if v is None or v is False:
        return 0
    if v is True:
        return 1
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return 0
        return int(v)
    if isinstance(v, str):
        s = v
        if "." in s:  # trimZeroDecimal: "12.000" -> "12"
            head, _, tail = s.partition(".")
            if tail.strip("0") == "" and head:
                s = head
        try:
            return int(s, 0)
        except ValueError:
            return 0
    return 0


def _sprig_strslice(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [_sprig_strval(x) for x in v if x is not None]
    return [_sprig_strval(v)]


def _go_is_separator(ch: str) -> bool:
    # strings.Title's isSeparator
    if ord(ch) <= 0x7F:
        return not (ch.isascii() and (ch.isalnum() or ch == "_"))
    if ch.isalpha() or ch.isdecimal():
        return False
    return ch.isspace()


def _sprig_title(s: str) -> str:
    """Go ``strings.Title`` (sprig ``title``): upper-case the first letter after a separator."""
    out = []
    prev = " "
    for ch in s:
        out.append(ch.upper() if _go_is_separator(prev) and len(ch.upper()) == 1 else ch)
        prev = ch
    return "".join(out)


def _sprig_substr(start: Any, end: Any, s: Any) -> str:
    st, en, text = _cast_int64(start), _cast_int64(end), _sprig_strval(s)
    b = text.encode()
    if st < 0:
        return b[:en].decode(errors="replace")
    if en < 0 or en > len(b):
        return b[st:].decode(errors="replace")
    if st > en:
        raise _RuntimeError(f"slice bounds out of range [{st}:{en}]")
    return b[st:en].decode(errors="replace")


def _sprig_from_json(s: Any) -> Any:
    try:
        return gofmt.json_unmarshal(_sprig_strval(s))
    except ValueError:
        return None


def _sprig_to_json(v: Any) -> str:
    try:
        return gofmt.json_marshal(v)
    except gofmt.MarshalError:
        return ""


def _sprig_atoi(s: Any) -> int:
    text = _sprig_strval(s)
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else 0


def _sprig_div(a: Any, b: Any) -> int:
    x, y = _cast_int64(a), _cast_int64(b)
    if y == 0:
        raise _RuntimeError("integer divide by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _sprig_split(sep: Any, s: Any) -> dict[str, str]:
    parts = _sprig_strval(s).split(_sprig_strval(sep)) if _sprig_strval(sep) else list(_sprig_strval(s))
    return {f"_{i}": p for i, p in enumerate(parts)}


def _sprig_split_list(sep: Any, s: Any) -> list[str]:
    sep_s, text = _sprig_strval(sep), _sprig_strval(s)
    return text.split(sep_s) if sep_s else list(text)


_SPRIG: dict[str, Callable[..., Any]] = {
    "trim": lambda s: _sprig_strval(s).strip(" \t\n\r\v\f\u0085\u00a0"),
    "upper": lambda s: _sprig_strval(s).upper(),
    "lower": lambda s: _sprig_strval(s).lower(),
    "replace": lambda old, new, src: _sprig_strval(src).replace(_sprig_strval(old), _sprig_strval(new)),
    "contains": lambda substr, s: _sprig_strval(substr) in _sprig_strval(s),
    "hasPrefix": lambda prefix, s: _sprig_strval(s).startswith(_sprig_strval(prefix)),
    "hasSuffix": lambda suffix, s: _sprig_strval(s).endswith(_sprig_strval(suffix)),
    "split": _sprig_split,
    "splitList": _sprig_split_list,
    "join": lambda sep, v: _sprig_strval(sep).join(_sprig_strslice(v)),
    "default": lambda d, *given: d if (not given or _sprig_empty(given[0])) else given[0],
    "toString": _sprig_strval,
    "atoi": _sprig_atoi,
    "int": _cast_int64,
    "int64": _cast_int64,
    "float64": lambda v: float(v) if _is_number(v) else (_to_float(v) if isinstance(v, str) and _GO_FLOAT.fullmatch(v) else 0.0),
    "add": lambda *xs: sum(_cast_int64(x) for x in xs),
    "add1": lambda x: _cast_int64(x) + 1,
    "sub": lambda a, b: _cast_int64(a) - _cast_int64(b),
    "mul": lambda a, *xs: math.prod([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "div": _sprig_div,
    "mod": lambda a, b: _arith("%", _cast_int64(a), _cast_int64(b)),
    "max": lambda a, *xs: max([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "min": lambda a, *xs: min([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "quote": lambda *xs: " ".join(gofmt.quote(_sprig_strval(x)) for x in xs if x is not None),
    "squote": lambda *xs: " ".join(f"'{_sprig_strval(x)}'" for x in xs if x is not None),
    "trimSuffix": lambda suffix, s: _sprig_strval(s).removesuffix(_sprig_strval(suffix)),
    "trimPrefix": lambda prefix, s: _sprig_strval(s).removeprefix(_sprig_strval(prefix)),
    "trimAll": lambda cutset, s: _sprig_strval(s).strip(_sprig_strval(cutset)),
    "title": lambda s: _sprig_title(_sprig_strval(s)),
    "substr": _sprig_substr,
    "repeat": lambda count, s: _sprig_repeat(_sprig_strval(s), max(0, _cast_int64(count))),
    "toJson": _sprig_to_json,
    "fromJson": _sprig_from_json,
    "empty": _sprig_empty,
    "list": lambda *xs: list(xs),
    "dict": lambda *xs: {_sprig_strval(xs[i]): (xs[i + 1] if i + 1 < len(xs) else "") for i in range(0, len(xs), 2)},
    "len": lambda v: len(v) if isinstance(v, (str, list, tuple, Mapping)) else 0,
    "b64enc": lambda s: base64.b64encode(_sprig_strval(s).encode()).decode(),
    "nospace": lambda s: re.sub(r"\s", "", _sprig_strval(s)),
    "ternary": lambda a, b, cond: a if cond else b,
}


def sprig_function(name: str) -> Callable[..., Any] | None:
    """sprig's function `name` as flowport runs it, or None."""
    fn = _SPRIG.get(name)
    if fn is None:
        from flowport.lang.exprlang.sprig_more import MORE  # the rest of sprig's map

        fn = MORE.get(name)
    return fn


def _call_sprig(name: str, args: list) -> Any:
    fn = sprig_function(name)
    if fn is None:
        raise _RuntimeError(f"unknown function sprig.{name}")
    try:
        return fn(*args)
    except TypeError as exc:
        raise _RuntimeError(f"wrong number of arguments to sprig.{name}: {exc}") from None


# ---------------------------------------------------------------- regular expressions
# sprig v3 regex.go, on RE2 (flowport.lang.regex). The plain functions compile with
# regexp.MustCompile: an invalid pattern panics, which expr-lang reports as the evaluation's
# error (`regexp: Compile(…)`); regexMatch ignores the error (false); the must… forms return it.
# Arguments are Go `string`/`int` parameters: another type fails the reflect call.


def _go_arg(fn: str, v: Any, kind: type) -> Any:
    if kind is int and _is_number(v) and float(v).is_integer() and not isinstance(v, float):
        return v
    if kind is str and isinstance(v, str):
        return v
    go = "string" if kind is str else "int"
    raise _RuntimeError(f"sprig.{fn}: reflect: Call using {_type_name(v)} as type {go}")


def _must_compile(fn: str, pattern: Any) -> GoRegexp:
    pattern = _go_arg(fn, pattern, str)
    try:
        return compile_go(pattern)
    except ExpressionError as exc:
        raise _RuntimeError(f"regexp: Compile({gofmt.quote(pattern)}): {exc}") from None


def _compile_or_error(fn: str, pattern: Any) -> GoRegexp:
    pattern = _go_arg(fn, pattern, str)
    try:
        return compile_go(pattern)
    except ExpressionError as exc:
        raise _RuntimeError(str(exc)) from None


def _regex_match(pattern: Any, s: Any) -> bool:
    text = _go_arg("regexMatch", s, str)
    try:
        return compile_go(_go_arg("regexMatch", pattern, str)).search(text)
    except ExpressionError:
        return False


def _regex_funcs(name: str, compile_: Callable[[str, Any], GoRegexp]) -> dict[str, Callable[..., Any]]:
    prefix = name + "Regex" if name else "regex"
    return {
        f"{prefix}Find": lambda r, s: compile_(f"{prefix}Find", r).find(_go_arg(f"{prefix}Find", s, str)),
        f"{prefix}FindAll": lambda r, s, n: compile_(f"{prefix}FindAll", r).find_all(
            _go_arg(f"{prefix}FindAll", s, str), _go_arg(f"{prefix}FindAll", n, int)),
        f"{prefix}ReplaceAll": lambda r, s, repl: compile_(f"{prefix}ReplaceAll", r).replace_all(
            _go_arg(f"{prefix}ReplaceAll", s, str), _go_arg(f"{prefix}ReplaceAll", repl, str)),
        f"{prefix}ReplaceAllLiteral": lambda r, s, repl: compile_(f"{prefix}ReplaceAllLiteral", r).replace_all(
            _go_arg(f"{prefix}ReplaceAllLiteral", s, str), _go_arg(f"{prefix}ReplaceAllLiteral", repl, str),
            literal=True),
        f"{prefix}Split": lambda r, s, n: compile_(f"{prefix}Split", r).split(
            _go_arg(f"{prefix}Split", s, str), _go_arg(f"{prefix}Split", n, int)),
    }


_SPRIG.update(_regex_funcs("", _must_compile))
_SPRIG.update(_regex_funcs("must", _compile_or_error))
_SPRIG.update({
    "regexMatch": _regex_match,
    "mustRegexMatch": lambda r, s: _compile_or_error("mustRegexMatch", r).search(_go_arg("mustRegexMatch", s, str)),
    "regexQuoteMeta": lambda s: quote_meta(_go_arg("regexQuoteMeta", s, str)),
})
