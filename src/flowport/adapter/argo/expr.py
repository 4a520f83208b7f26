"""The expression languages, as the Argo runtime uses them (implemented in flowport.lang)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Mapping

from ...lang import exprlang, govaluate

ExpressionError = (exprlang.ExpressionError, govaluate.ExpressionError)


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> exprlang.Expr:
    return exprlang.compile_expr(text)


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """expr-lang (`{{=…}}`, hook `expression`, `valueFrom.expression`, retry `expression`)."""
    return compile_expr(text).evaluate(env)


def evaluate_bool(text: str, env: Mapping[str, Any]) -> bool:
    value = evaluate(text, env)
    if not isinstance(value, bool):
        raise exprlang.ExpressionError(f"expected a boolean from {text!r}, got {format_value(value)}")
    return value


def evaluate_when(text: str) -> bool:
    """govaluate `when` after substitution (bare words are strings)."""
    return govaluate.evaluate_when(text)


def format_value(value: Any) -> str:
    """How Argo inserts an expression result: strings raw, everything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    try:
        return exprlang.go_json(value)
    except Exception:  # pragma: no cover - go_json handles every JSON-like value
        return json.dumps(value, separators=(",", ":"))


# ---------------------------------------------------------------- depends

_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z]+)?)")
RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")


def depends_operands(text: str) -> list[tuple[str, str | None]]:
    out, pos = [], 0
    while pos < len(text) and text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if not m:
            raise exprlang.ExpressionError(f"invalid depends {text!r} at {text[pos:].strip()[:10]!r}")
        pos = m.end()
        tok = m.group(1)
        if tok not in ("(", ")", "&&", "||", "!"):
            task, _, result = tok.partition(".")
            out.append((task, result or None))
    return out


def evaluate_depends(text: str, result_of) -> bool:
    """`result_of(task, result)` → bool for an explicit result; a bare `T` means
    `T.Succeeded || T.Skipped || T.Daemoned` (+ Failed/Errored with continueOn), which the
    caller answers for result None. Rewritten to booleans and evaluated with expr-lang, as
    Argo does."""
    parts, pos = [], 0
    while pos < len(text) and text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if not m:
            raise exprlang.ExpressionError(f"invalid depends {text!r}")
        pos = m.end()
        tok = m.group(1)
        if tok in ("(", ")", "&&", "||", "!"):
            parts.append(tok)
        else:
            task, _, result = tok.partition(".")
            parts.append("true" if result_of(task, result or None) else "false")
    return evaluate_bool(" ".join(parts), {})
