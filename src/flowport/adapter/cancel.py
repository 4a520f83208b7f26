"""Notice a cancellation requested through the Prefect API/UI.

Prefect 3.9 does not interrupt an in-process flow run when its state is set to
Cancelling (DESIGN.md §4), so the run watches its own state and stops itself.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from typing import Callable

POLL_SECONDS = 1.0


def watch_cancellation(run_id: str, on_cancel: Callable[[], None], interval: float = POLL_SECONDS) -> threading.Event:
    """Poll the flow run's state in a daemon thread; call `on_cancel` once when it becomes
    Cancelling/Cancelled. Set the returned event to stop watching."""
    done = threading.Event()
    try:
        flow_run_id = uuid.UUID(run_id)
    except ValueError:
        done.set()
        return done

    def loop() -> None:
        from prefect.client.orchestration import get_client

        try:
            with get_client(sync_client=True) as client:
                while not done.wait(interval):
                    try:
                        state = client.read_flow_run(flow_run_id).state
                    except Exception:  # server hiccup: keep watching, the run goes on
                        continue
                    if state is not None and (state.is_cancelling() or state.is_cancelled()):
                        on_cancel()
                        return
        except Exception:
            return

    # The thread runs in this context: Prefect's settings (the API URL of the server this run
    # uses) live in context variables, and a bare thread would start an ephemeral server.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(loop,), name=f"flowport-cancel-watch-{run_id[:8]}", daemon=True).start()
    return done


def signal_source() -> str:
    """Who sent the SIGTERM/SIGINT being handled: "Prefect" when this flow run is being
    cancelled through the API (a worker or `serve` delivers the cancel as SIGTERM), else
    "signal". Asks the server from a helper thread (never blocks the handler for long)."""
    try:
        from prefect._internal import control_listener

        if control_listener.get_intent() == "cancel":
            return "Prefect"
    except Exception:  # private Prefect API: absent or changed
        pass
    try:
        from prefect.context import FlowRunContext

        flow_ctx = FlowRunContext.get()
        flow_run = flow_ctx.flow_run if flow_ctx else None
    except Exception:
        flow_run = None
    if flow_run is None or getattr(flow_run, "deployment_id", None) is None:
        return "signal"
    found: list[str] = []

    def ask() -> None:
        from prefect.client.orchestration import get_client

        try:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(flow_run.id).state
            if state is not None and (state.is_cancelling() or state.is_cancelled()):
                found.append("Prefect")
        except Exception:
            pass

    context = contextvars.copy_context()  # Prefect's settings, as in watch_cancellation
    helper = threading.Thread(target=context.run, args=(ask,), name="flowport-signal-source", daemon=True)
    helper.start()
    helper.join(timeout=3)
    return found[0] if found else "signal"
