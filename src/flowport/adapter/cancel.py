"""Notice a cancellation requested through the Prefect API/UI.

Prefect 3.9 does not interrupt an in-process flow run when its state is set to
Cancelling (DESIGN.md §4), so the run watches its own state and stops itself.
"""

from __future__ import annotations

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

    threading.Thread(target=loop, name=f"flowport-cancel-watch-{run_id[:8]}", daemon=True).start()
    return done
