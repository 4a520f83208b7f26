"""The expression languages, as the Argo runtime uses them (implemented in flowport.lang)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from ...lang import depends, exprlang, govaluate
from ...lang.argo_tags import format_value
from ...lang.errors import ExpressionError as _ExpressionError

# a tuple, so that callers can write `except (Unresolved, *expr.ExpressionError)`
ExpressionError = (_ExpressionError,)

__all__ = ["ExpressionError", "TaskResult", "compile_depends", "compile_expr", "depends_operands", "evaluate",
           "evaluate_bool", "evaluate_when", "format_value"]


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> exprlang.Expr:
    return exprlang.compile_expr(text)


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """expr-lang (`{{=…}}`, hook `expression`, `valueFrom.expression`, retry `expression`)."""
    return compile_expr(text).evaluate(env)


def evaluate_bool(text: str, env: Mapping[str, Any]) -> bool:
    value = evaluate(text, env)
    if not isinstance(value, bool):
        raise _ExpressionError(f"expected a boolean from {text!r}, got {format_value(value)}")
    return value


def evaluate_when(text: str) -> bool:
    """govaluate `when` after substitution (bare words are strings)."""
    return govaluate.evaluate_when(text)


def depends_operands(text: str) -> list[tuple[str, str | None]]:
    """Task names a `depends` text refers to (each with result None; kept for callers)."""
    return [(name, None) for name in compile_depends(text).names]


@lru_cache(maxsize=4096)
def _depends(text: str, continue_on: tuple[tuple[str, tuple[str, ...]], ...]):
    return depends.compile_depends(text, continue_on=dict(continue_on))


def compile_depends(text: str, continue_on: dict[str, tuple[str, ...]] | None = None):
    return _depends(text, tuple(sorted((continue_on or {}).items())))


TaskResult = depends.TaskResult
