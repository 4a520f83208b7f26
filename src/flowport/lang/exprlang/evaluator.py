"""expr-lang evaluation: environment lookup (flat dotted keys and nested maps, as Argo builds
them), operators, calls and predicates; ``Expr`` and ``compile_expr``."""

from __future__ import annotations

from typing import Any, Mapping

from flowport.lang import gofmt
from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang.builtins import _BUILTINS
from flowport.lang.exprlang.lexer import _PREDICATE_BUILTINS
from flowport.lang.exprlang.parser import _fold_paths, _Parser
from flowport.lang.exprlang.runtime import (
    _arith,
    _compare,
    _equal,
    _in,
    _index,
    _is_int,
    _is_number,
    _listarg,
    _need_str,
    _regex,
    _RuntimeError,
    _to_int,
    _type_name,
)
from flowport.lang.exprlang.sprig import _call_sprig

_MISSING = object()
# expr-lang's default vm.MemoryBudget: a range (or anything else counted) reaching it fails
MEMORY_BUDGET = 1_000_000


class _FlatIndex:
    """Dotted prefixes of an environment's flat keys, built on first need (once per evaluation)."""

    __slots__ = ("env", "prefixes")

    def __init__(self, env: Mapping[str, Any]):
        self.env = env
        prefixes: set[str] = set()
        for key in env:
            if isinstance(key, str) and "." in key:
                parts = key.split(".")
                for i in range(1, len(parts)):
                    prefixes.add(".".join(parts[:i]))
        self.prefixes = prefixes

    def nested(self, prefix: str) -> Any:
        """The map Argo's expand.Expand builds under ``prefix`` from keys ``prefix.<rest>``."""
        if prefix not in self.prefixes:
            return _MISSING
        out: dict[str, Any] = {}
        start = prefix + "."
        for key in sorted(k for k in self.env if isinstance(k, str) and k.startswith(start)):
            parts = key[len(start):].split(".")
            node = out
            for part in parts[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            if not isinstance(node.get(parts[-1]), dict):  # a parent never hides its children
                node[parts[-1]] = self.env[key]
        return out


def _lookup_path(ev: "_Evaluator", root: str, keys: tuple[str, ...]) -> Any:
    """Resolve ``root.k1.k2...``: the longest flat dotted key present, then nested walking.

    As in Argo (``util/expand``: a key is dropped when more specific keys exist, then the flat
    map is expanded), a name that is also a prefix of other flat keys -- ``inputs.parameters``
    next to ``inputs.parameters.x`` -- resolves to the map of its children, and a name that only
    exists as a prefix (``tasks`` with ``tasks.A.status`` present) is that map too.
    """
    env = ev.env
    full = root + "." + ".".join(keys) if keys else root
    v = env.get(full, _MISSING)
    if v is not _MISSING:
        nested = ev.flat_index().nested(full)
        return v if nested is _MISSING else nested
    for k in range(len(keys) - 1, -1, -1):
        flat = root + "." + ".".join(keys[:k]) if k else root
        v = env.get(flat, _MISSING)
        if v is not _MISSING:
            for key in keys[k:]:
                v = _index(v, key)
            return v
    nested = ev.flat_index().nested(full)
    return None if nested is _MISSING else nested


class _Evaluator:
    __slots__ = ("env", "ptr", "_flat")

    def __init__(self, env: Mapping[str, Any]):
        self.env = env
        self.ptr: list[Any] = []
        self._flat: _FlatIndex | None = None

    def flat_index(self) -> _FlatIndex:
        if self._flat is None:
            self._flat = _FlatIndex(self.env)
        return self._flat

    def run(self, node) -> Any:
        tag = node[0]
        if tag == "lit":
            return node[1]
        if tag == "path":
            return _lookup_path(self, node[1], node[2])
        if tag == "bin":
            return self.binary(node)
        if tag == "member":
            obj = self.run(node[1])
            key = self.run(node[2])
            return _index(obj, key)
        if tag == "cond":
            c = self.run(node[1])
            if not isinstance(c, bool):
                raise _RuntimeError(f"non-bool expression (type {_type_name(c)}) used as condition")
            return self.run(node[2] if c else node[3])
        if tag == "unary":
            v = self.run(node[2])
            op = node[1]
            if op == "!":
                if not isinstance(v, bool):
                    raise _RuntimeError(f"invalid operation: ! ({_type_name(v)})")
                return not v
            if not _is_number(v):
                raise _RuntimeError(f"invalid operation: {op} ({_type_name(v)})")
            return -v if op == "-" else v
        if tag == "call":
            return self.call(node)
        if tag == "arr":
            return [self.run(x) for x in node[1]]
        if tag == "map":
            return {self.run(k): self.run(v) for k, v in node[1]}
        if tag == "slice":
            obj = self.run(node[1])
            lo = self.run(node[2]) if node[2] is not None else None
            hi = self.run(node[3]) if node[3] is not None else None
            if obj is None:
                return None
            if not isinstance(obj, (list, tuple, str)):
                raise _RuntimeError(f"cannot slice {_type_name(obj)}")
            n = len(obj)
            lo_i = 0 if lo is None else _to_int(lo)
            hi_i = n if hi is None else _to_int(hi)
            lo_i = max(0, lo_i + n if lo_i < 0 else lo_i)
            hi_i = min(n, hi_i + n if hi_i < 0 else hi_i)
            return obj[lo_i:hi_i] if lo_i <= hi_i else obj[0:0]
        if tag == "ptr":
            if not self.ptr:
                raise _RuntimeError("cannot use pointer accessor outside predicate")
            v = self.ptr[-1]
            return _index(v, node[1]) if node[1] is not None else v
        raise _RuntimeError(f"cannot evaluate {tag}")

    def binary(self, node) -> Any:
        op = node[1]
        if op == "&&" or op == "||":
            left = self.run(node[2])
            if not isinstance(left, bool):
                raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(left)} and bool)")
            if op == "&&" and not left:
                return False
            if op == "||" and left:
                return True
            right = self.run(node[3])
            if not isinstance(right, bool):
                raise _RuntimeError(f"invalid operation: {op} (mismatched types bool and {_type_name(right)})")
            return right
        if op == "??":
            left = self.run(node[2])
            return left if left is not None else self.run(node[3])
        if op == "?:":  # expr-lang: `a ?: b` is `a ? a : b`, so `a` must be a bool
            left = self.run(node[2])
            if not isinstance(left, bool):
                raise _RuntimeError(f"non-bool expression (type {_type_name(left)}) used as condition")
            return left if left else self.run(node[3])
        left = self.run(node[2])
        right = self.run(node[3])
        if op == "==":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        if op in ("<", ">", "<=", ">="):
            return _compare(op, left, right)
        if op in ("+", "-", "*", "/", "%", "**"):
            return _arith(op, left, right)
        if op == "in":
            return _in(left, right)
        if op == "not in":
            return not _in(left, right)
        negate = op.startswith("not ")
        base = op[4:] if negate else op
        if base == "matches":
            _need_str(base, left, right)
            result = _regex(right).search(left)
        elif base == "contains":
            _need_str(base, left, right)
            result = right in left
        elif base == "startsWith":
            _need_str(base, left, right)
            result = left.startswith(right)
        elif base == "endsWith":
            _need_str(base, left, right)
            result = left.endswith(right)
        elif base == "..":
            if not (_is_int(left) and _is_int(right)):
                raise _RuntimeError(f"invalid operation: .. (mismatched types {_type_name(left)} and {_type_name(right)})")
            if right - left + 1 >= MEMORY_BUDGET:  # vm OpRange: memGrow(size) against the budget
                raise _RuntimeError("memory budget exceeded")
            return list(range(left, right + 1))
        else:
            raise _RuntimeError(f"unknown operator {op}")
        return not result if negate else result

    def call(self, node) -> Any:
        callee, arg_nodes = node[1], node[2]
        if callee[0] == "name":
            name = callee[1]
            env_fn = self.env.get(name, _MISSING)
            if env_fn is not _MISSING and callable(env_fn):
                return env_fn(*[self.run(a) for a in arg_nodes])
            if name in _PREDICATE_BUILTINS:
                return self.predicate(name, arg_nodes)
            fn = _BUILTINS.get(name)
            if fn is None:
                raise _RuntimeError(f"unknown func {name}")
            return fn([self.run(a) for a in arg_nodes])
        args = [self.run(a) for a in arg_nodes]
        if callee[0] == "path" and callee[1] == "sprig" and len(callee[2]) == 1 and "sprig" not in self.env:
            return _call_sprig(callee[2][0], args)
        fn = self.run(callee)
        if not callable(fn):
            raise _RuntimeError(f"{_describe(callee)} is not callable")
        return fn(*args)

    def predicate(self, name: str, arg_nodes) -> Any:
        if len(arg_nodes) != 2 or arg_nodes[1][0] != "closure":
            raise _RuntimeError(f"{name} expects an array and a predicate")
        items = self.run(arg_nodes[0])
        if items is None:
            items = []
        if isinstance(items, Mapping):
            items = list(items.values())
        items = _listarg(name, items)
        body = arg_nodes[1][1]
        results = []
        for item in items:
            self.ptr.append(item)
            try:
                results.append(self.run(body))
            finally:
                self.ptr.pop()
            if name != "map":
                r = results[-1]
                if not isinstance(r, bool):
                    raise _RuntimeError(f"predicate should return boolean (got {_type_name(r)})")
        if name == "map":
            return results
        if name == "filter":
            return [x for x, r in zip(items, results) if r]
        if name == "all":
            return all(results)
        if name == "any":
            return any(results)
        if name == "none":
            return not any(results)
        if name == "one":
            return sum(1 for r in results if r) == 1
        if name == "count":
            return sum(1 for r in results if r)
        idx = [i for i, r in enumerate(results) if r]
        if name == "find":
            return items[idx[0]] if idx else None
        if name == "findIndex":
            return idx[0] if idx else -1
        if name == "findLast":
            return items[idx[-1]] if idx else None
        return idx[-1] if idx else -1  # findLastIndex


def _describe(node) -> str:
    if node[0] == "path":
        return ".".join((node[1], *node[2]))
    return node[0]


class Expr:
    """A compiled expr-lang expression: compile once, ``evaluate(env)`` many times."""

    __slots__ = ("text", "_ast")

    def __init__(self, text: str, ast) -> None:
        self.text = text
        self._ast = ast

    def evaluate(self, env: Mapping[str, Any] | None = None) -> Any:
        """Evaluate against ``env`` (nested mappings and/or flat dotted keys); raises ExpressionError."""
        try:
            return _Evaluator(env or {}).run(self._ast)
        except _RuntimeError as exc:
            raise ExpressionError(f"{exc} (evaluating {self.text!r})") from None
        except RecursionError:
            raise ExpressionError(f"expression too deeply nested: {self.text!r}") from None
        except MemoryError:
            raise ExpressionError(f"memory budget exceeded (evaluating {self.text!r})") from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            if isinstance(exc, ExpressionError):
                raise
            raise ExpressionError(f"{exc} (evaluating {self.text!r})") from None

    def evaluate_bool(self, env: Mapping[str, Any] | None = None) -> bool:
        """Argo's ``argoexpr.EvalBool`` (hook ``expression``, ``retryStrategy.expression``):
        the result must be a bool, else ExpressionError."""
        result = self.evaluate(env)
        if not isinstance(result, bool):
            raise ExpressionError(
                f"unable to cast expression result '{gofmt.format_v(result)}' to bool (evaluating {self.text!r})"
            )
        return result

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def compile_expr(text: str) -> Expr:
    """Parse an expr-lang expression; ExpressionError carries the position (``1:col``)."""
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, got {type(text).__name__}")
    try:
        ast = _Parser(text).parse()
    except RecursionError:
        raise ExpressionError("expression too deeply nested") from None
    return Expr(text, _fold_paths(ast))
