"""The error the expression and template languages raise (one class for every language)."""

from __future__ import annotations

from flowport.errors import FlowportError

__all__ = ["ExpressionError"]


class ExpressionError(FlowportError, ValueError):
    """Invalid expression, or an expression that failed to evaluate.

    ``position`` is the 0-based offset in the expression text when known. A ``ValueError`` too,
    so callers that catch ``ValueError`` keep working.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position
