"""Which lifecycle handlers run after the main graph, and what they do to the status.

DESIGN.md §4 (Dagu table): the status handler, then `exit`; `exit` runs even when the
status handler failed; a failing handler turns `succeeded` into `failed` while
`partially_succeeded` and `canceled` stay as they are.
"""

from __future__ import annotations

from typing import Callable

from ...model import Handlers
from .status import CANCELED, FAILED, PARTIALLY_SUCCEEDED, REJECTED, SUCCEEDED

STATUS_HANDLER = {
    SUCCEEDED: "success",
    PARTIALLY_SUCCEEDED: "success",  # Dagu: "PartialSuccess is treated as success"
    FAILED: "failure",
    CANCELED: "cancel",
    REJECTED: "failure",  # Dagu runner.go: a rejected run runs the failure handler
}


def handler_order(status: str) -> list[str]:
    return [STATUS_HANDLER[status], "exit"]


def status_after_failed_handler(status: str) -> str:
    return FAILED if status == SUCCEEDED else status


def run_handlers(
    handlers: Handlers,
    status: str,
    run_one: Callable[[str, str], bool],
    *,
    failure_fails_run: bool = True,
) -> str:
    """Run the handlers for `status` in order; `run_one(key, status_now)` returns True when
    the handler succeeded (or was skipped). Returns the final status."""
    for key in handler_order(status):
        if getattr(handlers, key) is None:
            continue
        ok = run_one(key, status)
        if not ok and failure_fails_run:
            status = status_after_failed_handler(status)
    return status
