"""The two path languages into decoded JSON/YAML: jq-style paths (Dagu) and JSONPath (Argo).

* jq subset, as Dagu uses it for ``${NAME.path}`` references (after gojq) and for an output's
  ``select:``: :func:`select_path`, :func:`is_select_path`, :func:`json_path` (the value rendered
  as Dagu renders it).
* JSONPath, as Argo's expr ``jsonpath(json, path)`` uses it (``json.Unmarshal`` then
  github.com/evilmonkeyinc/jsonpath ``Query``; oliveagle/jsonpath in older releases): paths and
  filters ``[?(…)]`` with ``== != < <= > >= && || !``, parentheses and existence (``?(@.key)``),
  no scripts ``[(…)]`` and no ``=~``: :func:`jsonpath_lookup`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from flowport.lang import gofmt
from flowport.lang.errors import ExpressionError

__all__ = ["PathError", "is_select_path", "json_path", "jsonpath_lookup", "select_path"]


class PathError(ExpressionError):
    """A JSONPath that cannot be read or does not apply to the data."""


# --------------------------------------------------------------------------- jq (Dagu)

# One jq path step: .name  ."name"  .[0]  [0]  .["name"]  ["name"]
_PATH_STEP = re.compile(
    r'\.([A-Za-z_][A-Za-z0-9_]*)'
    r'|\."((?:[^"\\]|\\.)*)"'
    r'|\.?\[\s*(-?[0-9]+)\s*\]'
    r'|\.?\[\s*"((?:[^"\\]|\\.)*)"\s*\]'
)


def _unescape_json_str(s: str) -> str:
    return json.loads('"' + s + '"')


def select_path(data: object, path: str) -> tuple[bool, object]:
    """The value at a jq path inside decoded JSON/YAML ``data``: ``(True, value)``, the value
    being None (jq ``null``) for a missing key or index; ``(False, None)`` when the path is not
    in the supported subset or steps into the wrong type. Subset: ``.name``, ``."name"``,
    ``.[N]`` (negative N counts from the end), ``[N]``, ``.["name"]``, ``["name"]``; a path not
    starting with ``.`` or ``[`` gets a leading ``.``."""
    if path and path[0] not in ".[":
        path = "." + path
    if not path or path == ".":
        return True, data
    pos = 0
    while pos < len(path):
        m = _PATH_STEP.match(path, pos)
        if m is None:
            return False, None
        pos = m.end()
        ident, qkey, index, bkey = m.groups()
        if index is not None:
            if data is None:
                continue
            if not isinstance(data, list):
                return False, None
            i = int(index)
            if i < 0:
                i += len(data)
            data = data[i] if 0 <= i < len(data) else None
            continue
        if ident is not None:
            key = ident
        else:
            try:
                key = _unescape_json_str(qkey if qkey is not None else bkey)
            except ValueError:
                return False, None
        if data is None:
            continue
        if not isinstance(data, dict):
            return False, None
        data = data.get(key)
    return True, data


def is_select_path(path: str) -> bool:
    """Whether ``path`` is in the jq subset ``json_path`` and ``select_path`` understand."""
    return select_path(None, path)[0]


def _render(data: object) -> str:
    """Dagu ``stringifyResolvedValue``: strings unquoted, objects/arrays compact JSON (sorted
    keys), other values Go %v (a JSON null is ``<nil>``)."""
    if isinstance(data, str):
        return data
    if isinstance(data, (dict, list)):
        return gofmt.json_marshal(data, default=str)
    return gofmt.format_v(data)


def json_path(value: str, path: str) -> str | None:
    """Value at a jq path (``.a.b[0].c``, ``.items.[1]``, ``."k"``, ``.["k"]``) inside the JSON
    text ``value``, rendered as Dagu renders it; None when Dagu would leave the reference as written
    (``value`` is not JSON, the path is not a supported jq path, or a step applies to the wrong type).

    Rendering (Dagu ``stringifyResolvedValue`` after gojq): strings unquoted; numbers as Go %v of
    a float64 (``8080``, ``1.5``, ``1.234567e+06``); ``true``/``false``; objects and arrays as
    compact JSON with sorted keys. A missing key or out-of-range index is jq ``null``, which
    Dagu prints as ``<nil>`` (it does NOT leave the reference untouched)."""
    try:
        data = gofmt.json_unmarshal(value)
    except ValueError:
        return None
    ok, data = select_path(data, path)
    return _render(data) if ok else None


# --------------------------------------------------------------------------- JSONPath (Argo)

_JP_TOKEN = re.compile(
    r"""\.\.(?P<deep>[A-Za-z_$][\w$-]*|\*)
      | \.(?P<name>[A-Za-z_$@][\w$@-]*|\*)
      | \[\s*(?P<bracket>[^\]]*)\s*\]""",
    re.VERBOSE,
)


def jsonpath_lookup(data: Any, path: str) -> Any:
    """Evaluate a simple JSONPath (``$``, ``.a``, ``['a']``, ``[0]``, ``[-1]``, ``[*]``, ``[0:2]``,
    ``[0,2]``, ``..a``) on decoded JSON. A wildcard/slice/deep step yields a list. Raises
    PathError."""
    path = path.strip()
    if not path.startswith("$"):
        raise PathError(f"jsonpath: path must start with $: {path!r}")
    pos = 1
    values: list[Any] = [data]
    multi = filtered = False
    while pos < len(path):
        if path.startswith("[?(", pos):
            end = _filter_end(path, pos + 3)
            test = _Filter(path[pos + 3:end], data)
            values = [c for v in values for c in _jp_filter_children(v) if test.keeps(c)]
            pos, multi, filtered = end + 2, True, True
            m = _JP_TOKEN.match(path, pos)
            if m and m["bracket"] is not None and re.fullmatch(r"\s*-?\d+\s*", m["bracket"]):
                # an index right after a filter picks from the filtered list (evilmonkeyinc)
                pos, multi, values = m.end(), False, [_jp_index(values, m["bracket"].strip())]
            continue
        m = _JP_TOKEN.match(path, pos)
        if not m:
            raise PathError(f"jsonpath: cannot parse {path[pos:]!r} in {path!r}")
        pos = m.end()
        if filtered:  # after a filter, elements the rest of the path does not apply to drop out
            kept = []
            for v in values:
                try:
                    kept.extend(_jp_step(m, [v])[1])
                except PathError:
                    pass
            values = kept
            continue
        step_multi, values = _jp_step(m, values)
        multi = multi or step_multi
    return values if multi else values[0]


def _filter_end(path: str, pos: int) -> int:
    """Where the `)]` that closes a filter opened before `pos` starts."""
    depth, quote = 0, ""
    for i in range(pos, len(path)):
        ch = path[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                if path.startswith(")]", i):
                    return i
                break
            depth -= 1
    raise PathError(f"jsonpath: unterminated filter in {path!r}")


def _jp_filter_children(v: Any) -> list[Any]:
    if isinstance(v, (list, Mapping)):
        return _jp_children(v)
    raise PathError(f"jsonpath: filter: invalid token target. expected [array map slice] got [{_go_kind(v)}]")


def _go_kind(v: Any) -> str:
    if v is None:
        return "nil"
    return {bool: "bool", str: "string", int: "float64", float: "float64"}.get(type(v), type(v).__name__)


_FILTER_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'[^']*'|"[^"]*")
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<op>==|!=|<=|>=|&&|\|\||<|>|!|\(|\))
      | (?P<path>[@$](?:\.[A-Za-z_$][\w$-]*|\[[^\]]*\])*)
      | (?P<word>true|false|null|nil))""",
    re.VERBOSE,
)


class _Filter:
    """One filter expression, evaluated against each candidate (`@`) and the document (`$`).
    An element whose test cannot be evaluated (a missing key, `<` on strings) is left out, as
    evilmonkeyinc's filter token leaves it out."""

    def __init__(self, text: str, root: Any) -> None:
        self.root = root
        self.tokens: list[tuple[str, Any]] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            m = _FILTER_TOKEN.match(text, pos)
            if not m:
                raise PathError(f"jsonpath: unsupported filter expression {text!r}")
            pos = m.end()
            kind = m.lastgroup or ""
            raw = m[kind]
            if kind == "str":
                self.tokens.append(("val", raw[1:-1]))
            elif kind == "num":
                self.tokens.append(("val", float(raw)))
            elif kind == "word":
                self.tokens.append(("val", {"true": True, "false": False}.get(raw)))
            else:
                self.tokens.append((kind, raw))
        if not self.tokens:
            raise PathError("jsonpath: invalid expression. is empty")

    def keeps(self, current: Any) -> bool:
        self.current, self.i = current, 0
        try:
            value = self._or()
            if self.i != len(self.tokens):
                raise PathError("jsonpath: invalid filter expression")
        except PathError:
            return False
        return _truthy(value)

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self) -> tuple[str, Any]:
        tok = self._peek()
        if tok is None:
            raise PathError("jsonpath: incomplete filter expression")
        self.i += 1
        return tok

    def _or(self) -> Any:
        return self._logic("||", self._and)

    def _and(self) -> Any:
        return self._logic("&&", self._cmp)

    def _logic(self, op: str, operand: Any) -> Any:
        """`a op b op …`; both sides are evaluated and must be booleans."""
        left = operand()
        while self._peek() == ("op", op):
            self.i += 1
            right = _need_bool(operand())
            left = (_need_bool(left) or right) if op == "||" else (_need_bool(left) and right)
        return left

    def _cmp(self) -> Any:
        left = self._unary()
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            return _compare(tok[1], left, self._unary())
        return left

    def _unary(self) -> Any:
        kind, raw = self._take()
        if (kind, raw) == ("op", "!"):
            return not _need_bool(self._unary())
        if (kind, raw) == ("op", "("):
            value = self._or()
            if self._take() != ("op", ")"):
                raise PathError("jsonpath: missing )")
            return value
        if kind == "val":
            return raw
        if kind == "path":
            return jsonpath_lookup(self.current if raw[0] == "@" else self.root, "$" + raw[1:])
        raise PathError(f"jsonpath: unexpected {raw!r} in filter")


def _truthy(v: Any) -> bool:
    """evilmonkeyinc `shouldInclude`: booleans as they are, collections and strings when not
    empty (a quoted empty string is empty), numbers when not zero, nil never."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if len(v) > 1 and v[0] == v[-1] and v[0] in "'\"":
            v = v[1:-1]
        return v != ""
    if isinstance(v, (list, Mapping)):
        return len(v) > 0
    return v != 0


def _need_bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise PathError("jsonpath: invalid parameter. expected boolean")
    return v


def _compare(op: str, a: Any, b: Any) -> bool:
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if op in ("==", "!="):
        same = a == b if numbers or type(a) is type(b) else False
        return same if op == "==" else not same
    if not numbers:
        raise PathError("jsonpath: invalid parameter. expected a number")
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _jp_step(m: re.Match[str], values: list[Any]) -> tuple[bool, list[Any]]:
    """One JSONPath step over every current value: (whether it fans out, the next values)."""
    nxt: list[Any] = []
    if m["deep"] is not None:
        for v in values:
            _jp_deep(v, m["deep"], nxt)
        return True, nxt
    if m["name"] is not None:
        key = m["name"]
        if key == "*":
            return True, [c for v in values for c in _jp_children(v)]
        return False, [_jp_key(v, key) for v in values]
    inner = m["bracket"].strip()
    if inner == "*":
        return True, [c for v in values for c in _jp_children(v)]
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        return False, [_jp_key(v, inner[1:-1]) for v in values]
    if ":" in inner:
        try:
            bounds = [int(p) if p.strip() else None for p in inner.split(":")]
        except ValueError:
            raise PathError(f"jsonpath: bad slice [{inner}]") from None
        for v in values:
            if not isinstance(v, list):
                raise PathError(f"jsonpath: object is not a list: {gofmt.format_v(v)}")
            nxt.extend(v[slice(*bounds)])
        return True, nxt
    if "," in inner:
        return True, [_jp_index(v, part.strip()) for v in values for part in inner.split(",")]
    return False, [_jp_index(v, inner) for v in values]


def _jp_key(v: Any, key: str) -> Any:
    if not isinstance(v, Mapping):
        raise PathError(f"jsonpath: object is not a map: {gofmt.format_v(v)}")
    if key not in v:
        raise PathError(f"key error: {key} not found in object")
    return v[key]


def _jp_index(v: Any, text: str) -> Any:
    try:
        i = int(text)
    except ValueError:
        raise PathError(f"jsonpath: unsupported index [{text}]") from None
    if not isinstance(v, list):
        raise PathError(f"jsonpath: object is not a list: {gofmt.format_v(v)}")
    if i < 0:
        i += len(v)
    if not 0 <= i < len(v):
        raise PathError("index out of range")
    return v[i]


def _jp_children(v: Any) -> list[Any]:
    if isinstance(v, list):
        return list(v)
    if isinstance(v, Mapping):
        return [v[k] for k in sorted(v)]
    return []


def _jp_deep(v: Any, key: str, out: list[Any]) -> None:
    if isinstance(v, Mapping):
        for k in sorted(v):
            if key == "*" or k == key:
                out.append(v[k])
        for k in sorted(v):
            _jp_deep(v[k], key, out)
    elif isinstance(v, list):
        for x in v:
            if key == "*":
                out.append(x)
            _jp_deep(x, key, out)
