"""Source phase → Prefect state, in one place (as Prefect's own `states.py` builds states).

A run's final state carries the source status as its name (DESIGN.md §4): Dagu
`succeeded`/`partially_succeeded` and Argo `Succeeded` are Completed, Dagu `canceled` is
Cancelled, everything else is Failed (named `Failed`, or Argo's `Error`).
"""

from __future__ import annotations

from typing import Any

from prefect.states import Cancelled, Completed, Failed, State

# source status -> (Prefect state constructor, state name)
_RUN_STATES = {
    "succeeded": (Completed, "Succeeded"),
    "Succeeded": (Completed, "Succeeded"),
    "partially_succeeded": (Completed, "PartiallySucceeded"),
    "canceled": (Cancelled, "Cancelled"),
    "failed": (Failed, "Failed"),
    "Failed": (Failed, "Failed"),
    "Error": (Failed, "Error"),
    "rejected": (Failed, "Rejected"),
}

# node phase -> (constructor, name); other phases are Failed named after the phase
_NODE_STATES = {
    "succeeded": (Completed, "Succeeded"),
    "Succeeded": (Completed, "Succeeded"),
    "skipped": (Completed, "Skipped"),
    "Skipped": (Completed, "Skipped"),
    "Omitted": (Completed, "Omitted"),
    "waiting": (Completed, "Waiting"),  # a Dagu approval step: its command ran, a person decides
    "canceled": (Cancelled, "Cancelled"),
    "not_started": (Cancelled, "NotStarted"),  # never ran: the run ended or was stopped first
    "Pending": (Cancelled, "NotStarted"),
    "Running": (Cancelled, "NotStarted"),  # an Argo parent node a stop left unfinished
    "running": (Cancelled, "NotStarted"),
}


def run_message(workflow: str, status: str, message: str | None) -> str:
    return f"{workflow}: {status}" + (f" ({message})" if message else "")


def run_state(workflow: str, status: str, message: str | None) -> State:
    """The flow run's final state for a source status."""
    make, name = _RUN_STATES.get(status, (Failed, "Failed"))
    return make(name=name, message=run_message(workflow, status, message))


def node_state(phase: str, message: str | None, data: Any = None) -> State:
    """A node's task-run state; `data` rides along on failures (the retry condition reads it)."""
    make, name = _NODE_STATES.get(phase, (Failed, phase if phase[:1].isupper() else "Failed"))
    if make is Failed:
        return Failed(name=name, message=message or phase, data=data)
    return make(name=name, message=message)
