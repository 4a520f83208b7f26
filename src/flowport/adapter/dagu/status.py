"""Dagu's node and run status rules (runtime/runner.go `isReady` and `Status`).

Phases use the report vocabulary: not_started, running, succeeded, failed, skipped, canceled.
"""

from __future__ import annotations

from ...lang.dagu_vars import output_matches
from ...model import ContinueOn
from ..records import NodeRecord

NOT_STARTED = "not_started"
RUNNING = "running"
SUCCEEDED = "succeeded"
PARTIALLY_SUCCEEDED = "partially_succeeded"
FAILED = "failed"
SKIPPED = "skipped"
CANCELED = "canceled"
WAITING = "waiting"  # an approval step (and the run) waiting for a person
REJECTED = "rejected"  # an approval step a person rejected (and the run it ends)

TERMINAL = {SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED, SKIPPED, CANCELED, REJECTED}


def failure_continues(cont: ContinueOn, exit_code: int | None, log_text: str) -> bool:
    """Does `continueOn` accept this failure? (Dagu node.go shouldContinue)."""
    if cont.failure:
        return True
    if exit_code is not None and exit_code in cont.exit_codes:
        return True
    return any(output_matches(pattern, log_text) for pattern in cont.output)


def readiness(dependencies: list[tuple[NodeRecord, ContinueOn]]) -> tuple[str, str | None]:
    """Decide a node whose dependencies have all ended: ("run", None), or the phase it
    takes without running and why."""
    for dep, cont in dependencies:
        if dep.phase in (SUCCEEDED, PARTIALLY_SUCCEEDED):
            continue
        if dep.phase == FAILED:
            if dep.continued:
                continue
            return CANCELED, f"upstream step {dep.name!r} failed"
        if dep.phase == SKIPPED:
            if cont.skipped:
                continue
            return SKIPPED, f"upstream step {dep.name!r} was skipped"
        return CANCELED, f"upstream step {dep.name!r} was {dep.phase}"
    return "run", None


def run_status(steps: list[NodeRecord], *, canceled: bool, error: bool) -> str:
    """Final Dagu status of the main graph.

    canceled: the run was stopped (signal, Prefect cancel, unmet DAG precondition, init failure).
    error: a run-level error (DAG timeout) besides failed steps.
    """
    if canceled and not all(n.phase in (SUCCEEDED, SKIPPED, PARTIALLY_SUCCEEDED) for n in steps):
        return CANCELED
    if any(n.phase == REJECTED for n in steps):  # Dagu runner.go Status: rejected before failure
        return REJECTED
    hard_failure = any(n.phase == FAILED and not n.continued for n in steps) or any(
        n.phase == CANCELED for n in steps
    )
    if not hard_failure:
        soft = any(n.phase == FAILED and n.continued for n in steps) or any(
            n.phase == PARTIALLY_SUCCEEDED for n in steps
        )
        if soft and any(n.phase == SUCCEEDED for n in steps):
            return PARTIALLY_SUCCEEDED
    if error or hard_failure or any(n.phase == FAILED for n in steps):
        return FAILED
    return SUCCEEDED
