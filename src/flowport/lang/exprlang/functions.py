"""Which functions an expression calls, checked before it runs: every name must be one Argo's
expr-lang environment has (``util/expr/env/env.go``: expr-lang's builtins, ``asInt``,
``asFloat``, ``jsonpath``, ``toJson`` and sprig's generic map without ``env``/``expandenv``)."""

from __future__ import annotations

from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang.builtins import _BUILTINS
from flowport.lang.exprlang.evaluator import Expr
from flowport.lang.exprlang.lexer import _PREDICATE_BUILTINS
from flowport.lang.exprlang.sprig import sprig_function
from flowport.lang.exprlang.sprig_more import NOT_SUPPORTED, REGEX

__all__ = ["check_functions"]

# expr-lang v1.17 builtins flowport does not implement (yet)
_EXPR_LANG_OTHERS = frozenset({
    "splitAfter", "mean", "median", "now", "duration", "date", "timezone", "toPairs", "fromPairs", "sortBy",
    "groupBy", "take", "reduce", "bitand", "bitor", "bitxor", "bitnand", "bitnot", "bitshl", "bitshr", "bitushr",
})


def check_functions(expr: Expr) -> None:
    """ExpressionError (with the name's position) for the first call of a function that does not
    exist in Argo, or that flowport does not run yet."""
    for name, pos in _calls(expr._ast):
        if name.startswith("sprig."):
            fn = name[len("sprig."):]
            if fn in REGEX or sprig_function(fn) is not None:
                continue
            if fn in NOT_SUPPORTED:
                raise ExpressionError(f"function {name} is not supported yet", pos)
            raise ExpressionError(f"unknown function {name}", pos)
        if name in _BUILTINS or name in _PREDICATE_BUILTINS:
            continue
        if name in _EXPR_LANG_OTHERS:
            raise ExpressionError(f"function {name} is not supported yet", pos)
        raise ExpressionError(f"unknown function {name}", pos)


def _calls(node) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(reversed(n))
            continue
        if not isinstance(n, tuple) or not n:
            continue
        if n[0] == "call":
            callee = n[1]
            if callee[0] == "name":
                out.append((callee[1], callee[2] if len(callee) > 2 else None))
            elif callee[0] == "path" and callee[1] == "sprig" and len(callee[2]) == 1:
                out.append((f"sprig.{callee[2][0]}", callee[3] if len(callee) > 3 else None))
        stack.extend(reversed([x for x in n[1:] if isinstance(x, (tuple, list))]))
    out.sort(key=lambda c: c[1] if c[1] is not None else -1)
    return out
