"""The project's own errors: one base class, mixed with the builtin a caller expects where
one fits (as docker-py's `errors.py` and Prefect's `exceptions.py` do)."""

from __future__ import annotations


class FlowportError(Exception):
    """Base of every error flowport raises on purpose."""


class WorkflowError(FlowportError, ValueError):
    """A workflow (or its configuration) that cannot be run as written."""


class RunError(FlowportError, RuntimeError):
    """A run that could not go on: a service or resource it needs failed."""
