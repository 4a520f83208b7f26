"""expr-lang's builtin functions (``builtin/builtin.go``) and Argo's additions
(``util/expr/env/env.go``: asInt, asFloat, jsonpath, toJson)."""

from __future__ import annotations

import base64
import math
from typing import Any, Callable, Mapping

from flowport.lang import gofmt
from flowport.lang.exprlang.runtime import (
    _equal,
    _index,
    _is_number,
    _json_loads,
    _listarg,
    _need_args,
    _RuntimeError,
    _strarg,
    _to_float,
    _to_int,
    _type_name,
)
from flowport.lang.paths import PathError, jsonpath_lookup

def _go_split(s: str, sep: str, n: int = -1) -> list[str]:
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            return chars[: n - 1] + ["".join(chars[n - 1:])]
        return chars
    if n < 0:
        return s.split(sep)
    return s.split(sep, n - 1)


def _go_trim(s: str, cutset: str) -> str:
    return s.strip(cutset) if cutset else s


def _b_len(args):
    _need_args("len", args, 1)
    v = args[0]
    if isinstance(v, (str, list, tuple, Mapping)):
        return len(v)
    raise _RuntimeError(f"invalid argument for len (type {_type_name(v)})")


def _b_trim(args):
    _need_args("trim", args, 1, 2)
    s = _strarg("trim", args[0])
    return s.strip(" \t\n\r\v\f\u0085\u00a0") if len(args) == 1 else _go_trim(s, _strarg("trim", args[1]))


def _b_split(args):
    _need_args("split", args, 2, 3)
    n = _to_int(args[2]) if len(args) == 3 else -1
    return _go_split(_strarg("split", args[0]), _strarg("split", args[1]), n)


def _b_join(args):
    _need_args("join", args, 1, 2)
    sep = _strarg("join", args[1]) if len(args) == 2 else ""
    return sep.join(_strarg("join", x) for x in _listarg("join", args[0]))


def _b_replace(args):
    _need_args("replace", args, 3)
    return _strarg("replace", args[0]).replace(_strarg("replace", args[1]), _strarg("replace", args[2]))


def _b_max_min(name, args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = list(args[0])
    if not args:
        raise _RuntimeError(f"not enough arguments to call {name}")
    best = args[0]
    for v in args:
        if not _is_number(v):
            raise _RuntimeError(f"invalid argument for {name} (type {_type_name(v)})")
        if (name == "max" and v > best) or (name == "min" and v < best):
            best = v
    return best


def _b_round(args):
    _need_args("round", args, 1)
    f = _to_float(args[0], "round")
    if math.isnan(f) or math.isinf(f):
        return f
    return float(math.floor(abs(f) + 0.5)) * (1 if f >= 0 else -1)


def _b_to_json(args):
    _need_args("toJSON", args, 1)
    return gofmt.json_marshal(args[0], indent="  ")


def _b_from_json(args):
    _need_args("fromJSON", args, 1)
    return _json_loads(_strarg("fromJSON", args[0]))


def _b_first_last(name, args):
    _need_args(name, args, 1)
    v = args[0]
    if v is None:
        return None
    seq = _listarg(name, v)
    if not seq:
        return None
    return seq[0] if name == "first" else seq[-1]


def _b_get(args):
    _need_args("get", args, 2)
    obj, key = args
    try:
        return _index(obj, key)
    except _RuntimeError:
        return None


def _b_keys_values(name, args):
    _need_args(name, args, 1)
    v = args[0]
    if not isinstance(v, Mapping):
        raise _RuntimeError(f"cannot get {name} from {_type_name(v)}")
    return list(v.keys()) if name == "keys" else list(v.values())


def _b_type(args):
    _need_args("type", args, 1)
    v = args[0]
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, Mapping):
        return "map"
    return "unknown"


def _b_abs(args):
    _need_args("abs", args, 1)
    v = args[0]
    if not _is_number(v):
        raise _RuntimeError(f"invalid argument for abs (type {_type_name(v)})")
    return abs(v)


def _b_sum(args):
    _need_args("sum", args, 1)
    total: Any = 0
    for v in _listarg("sum", args[0]):
        if not _is_number(v):
            raise _RuntimeError(f"invalid argument for sum (type {_type_name(v)})")
        total += v
    return total


def _b_concat(args):
    out: list = []
    for v in args:
        out.extend(_listarg("concat", v))
    return out


def _b_flatten(args):
    _need_args("flatten", args, 1)
    out: list = []

    def walk(v):
        for x in v:
            if isinstance(x, (list, tuple)):
                walk(x)
            else:
                out.append(x)

    walk(_listarg("flatten", args[0]))
    return out


def _b_uniq(args):
    _need_args("uniq", args, 1)
    out: list = []
    for v in _listarg("uniq", args[0]):
        if not any(_equal(v, x) for x in out):
            out.append(v)
    return out


def _b_sort(args):
    _need_args("sort", args, 1, 2)
    items = _listarg("sort", args[0])
    desc = len(args) == 2 and args[1] == "desc"
    if all(_is_number(x) for x in items) or all(isinstance(x, str) for x in items):
        return sorted(items, reverse=desc)
    raise _RuntimeError("sort: mixed or unsupported element types")


def _b_index_of(name, args):
    _need_args(name, args, 2)
    s, sub = _strarg(name, args[0]), _strarg(name, args[1])
    return s.find(sub) if name == "indexOf" else s.rfind(sub)


def _b_string(args):
    _need_args("string", args, 1)
    return gofmt.format_v(args[0])


def _b_base64(name, args):
    _need_args(name, args, 1)
    s = _strarg(name, args[0])
    if name == "toBase64":
        return base64.b64encode(s.encode()).decode()
    try:
        return base64.b64decode(s.encode(), validate=True).decode()
    except Exception as exc:  # noqa: BLE001 - binascii.Error / UnicodeDecodeError
        raise _RuntimeError(f"illegal base64 data: {exc}") from None


def _argo_jsonpath(args):
    _need_args("jsonpath", args, 2)
    try:
        return jsonpath_lookup(_json_loads(_strarg("jsonpath", args[0])), _strarg("jsonpath", args[1]))
    except PathError as exc:
        raise _RuntimeError(str(exc)) from None


def _argo_to_json(args):
    _need_args("toJson", args, 1)
    return gofmt.json_marshal(args[0])



def _repeat_count(v: Any) -> int:
    """expr-lang ``repeat``: more than 1e6 repetitions is over the memory budget."""
    n = _to_int(v)
    if n > 1_000_000:
        raise _RuntimeError("memory budget exceeded")
    return max(0, n)

_BUILTINS: dict[str, Callable[[list], Any]] = {
    "len": _b_len,
    "abs": _b_abs,
    "ceil": lambda a: (_need_args("ceil", a, 1), float(math.ceil(_to_float(a[0], "ceil"))))[1],
    "floor": lambda a: (_need_args("floor", a, 1), float(math.floor(_to_float(a[0], "floor"))))[1],
    "round": _b_round,
    "int": lambda a: (_need_args("int", a, 1), _to_int(a[0]))[1],
    "float": lambda a: (_need_args("float", a, 1), _to_float(a[0]))[1],
    "string": _b_string,
    "trim": _b_trim,
    "trimPrefix": lambda a: (_need_args("trimPrefix", a, 2), _strarg("trimPrefix", a[0]).removeprefix(_strarg("trimPrefix", a[1])))[1],
    "trimSuffix": lambda a: (_need_args("trimSuffix", a, 2), _strarg("trimSuffix", a[0]).removesuffix(_strarg("trimSuffix", a[1])))[1],
    "upper": lambda a: (_need_args("upper", a, 1), _strarg("upper", a[0]).upper())[1],
    "lower": lambda a: (_need_args("lower", a, 1), _strarg("lower", a[0]).lower())[1],
    "split": _b_split,
    "replace": _b_replace,
    "repeat": lambda a: (_need_args("repeat", a, 2), _strarg("repeat", a[0]) * _repeat_count(a[1]))[1],
    "join": _b_join,
    "indexOf": lambda a: _b_index_of("indexOf", a),
    "lastIndexOf": lambda a: _b_index_of("lastIndexOf", a),
    "hasPrefix": lambda a: (_need_args("hasPrefix", a, 2), _strarg("hasPrefix", a[0]).startswith(_strarg("hasPrefix", a[1])))[1],
    "hasSuffix": lambda a: (_need_args("hasSuffix", a, 2), _strarg("hasSuffix", a[0]).endswith(_strarg("hasSuffix", a[1])))[1],
    "max": lambda a: _b_max_min("max", a),
    "min": lambda a: _b_max_min("min", a),
    "sum": _b_sum,
    "toJSON": _b_to_json,
    "fromJSON": _b_from_json,
    "toBase64": lambda a: _b_base64("toBase64", a),
    "fromBase64": lambda a: _b_base64("fromBase64", a),
    "first": lambda a: _b_first_last("first", a),
    "last": lambda a: _b_first_last("last", a),
    "get": _b_get,
    "keys": lambda a: _b_keys_values("keys", a),
    "values": lambda a: _b_keys_values("values", a),
    "type": _b_type,
    "reverse": lambda a: (_need_args("reverse", a, 1), _listarg("reverse", a[0])[::-1])[1],
    "concat": _b_concat,
    "flatten": _b_flatten,
    "uniq": _b_uniq,
    "sort": _b_sort,
    # Argo additions (util/expr/env/env.go)
    "asInt": lambda a: (_need_args("asInt", a, 1), _to_int(a[0], "asInt"))[1],
    "asFloat": lambda a: (_need_args("asFloat", a, 1), _to_float(a[0], "asFloat"))[1],
    "jsonpath": _argo_jsonpath,
    "toJson": _argo_to_json,
}

