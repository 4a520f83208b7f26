"""expr-lang's runtime semantics: equality, comparison, arithmetic, membership, indexing and
conversions (expr-lang ``vm/runtime``)."""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from flowport.lang import gofmt
from flowport.lang.errors import ExpressionError
from flowport.lang.regex import GoRegexp, compile_go


class _RuntimeError(Exception):
    """An evaluation error; ``Expr.evaluate`` reports it as ExpressionError."""


def _json_loads(s: str) -> Any:
    """Go ``json.Unmarshal`` into ``interface{}``: every number becomes a float64."""
    try:
        return gofmt.json_unmarshal(s)
    except ValueError as exc:
        raise _RuntimeError(f"invalid JSON: {exc}") from None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def _type_name(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if callable(v):
        return "func"
    return type(v).__name__


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    return a is b


def _deep_equal(a: Any, b: Any) -> bool:
    # reflect.DeepEqual inside collections: int 1 and float 1.0 differ.
    if _is_number(a) and _is_number(b):
        return type(a) is type(b) and a == b
    return _equal(a, b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b) or isinstance(a, str) and isinstance(b, str):
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        return a >= b
    raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(a)} and {_type_name(b)})")


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op == "+" and isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [*a, *b]
    if not (_is_number(a) and _is_number(b)):
        raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(a)} and {_type_name(b)})")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        a, b = float(a), float(b)
        if b == 0:
            if a == 0 or math.isnan(a):
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    if op == "%":
        if not (_is_int(a) and _is_int(b)):
            raise _RuntimeError(f"invalid operation: % (mismatched types {_type_name(a)} and {_type_name(b)})")
        if b == 0:
            raise _RuntimeError("integer divide by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if op == "**":
        try:
            return math.pow(float(a), float(b))
        except ZeroDivisionError:
            return math.inf
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    raise _RuntimeError(f"unknown operator {op}")


def _in(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(_equal(needle, x) for x in haystack)
    if isinstance(haystack, Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    raise _RuntimeError(f'operator "in" not defined on {_type_name(haystack)}')


def _need_str(op: str, a: Any, b: Any) -> None:
    if not (isinstance(a, str) and isinstance(b, str)):
        raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(a)} and {_type_name(b)})")


def _regex(pattern: str) -> GoRegexp:
    """Go ``regexp.Compile`` on RE2 (cached in flowport.lang.regex); expr-lang's message."""
    try:
        return compile_go(pattern)
    except ExpressionError as exc:
        raise _RuntimeError(str(exc)) from None


def _index(obj: Any, key: Any) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        try:
            return obj.get(key)
        except TypeError:
            return None
    if isinstance(obj, (list, tuple, str)):
        if not _is_int(key):
            if isinstance(key, float) and key.is_integer():
                key = int(key)
            else:
                raise _RuntimeError(f"cannot use {_type_name(key)} as index to {_type_name(obj)}")
        i = key + len(obj) if key < 0 else key
        if not 0 <= i < len(obj):
            raise _RuntimeError(f"index out of range: {key} (array length is {len(obj)})")
        return obj[i]
    raise _RuntimeError(f"cannot fetch {gofmt.format_v(key)} from {_type_name(obj)}")


def _to_int(v: Any, fname: str = "int") -> int:
    if isinstance(v, bool):
        raise _RuntimeError(f"invalid operation: {fname}(bool)")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(1 << 63)
        return int(v)
    if isinstance(v, str):
        if re.fullmatch(r"[+-]?[0-9]+", v):
            return int(v)
        raise _RuntimeError(f'invalid operation: {fname}("{v}")')
    raise _RuntimeError(f"invalid operation: {fname}({_type_name(v)})")


_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.?[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9]+)?|[0-9]+\.|inf(?:inity)?|nan)",
    re.IGNORECASE,
)


def _to_float(v: Any, fname: str = "float") -> float:
    if isinstance(v, bool):
        raise _RuntimeError(f"invalid operation: {fname}(bool)")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        if _GO_FLOAT.fullmatch(v):
            try:
                return float(v.replace("_", ""))
            except ValueError:
                pass
        raise _RuntimeError(f'strconv.ParseFloat: parsing "{v}": invalid syntax')
    raise _RuntimeError(f"invalid operation: {fname}({_type_name(v)})")


def _need_args(name: str, args: list, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if len(args) < lo:
        raise _RuntimeError(f"not enough arguments to call {name}")
    if len(args) > hi:
        raise _RuntimeError(f"too many arguments to call {name}")


def _strarg(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise _RuntimeError(f"invalid argument for {name} (type {_type_name(v)})")
    return v


def _listarg(name: str, v: Any) -> list:
    if isinstance(v, (list, tuple)):
        return list(v)
    raise _RuntimeError(f"invalid argument for {name} (type {_type_name(v)})")
