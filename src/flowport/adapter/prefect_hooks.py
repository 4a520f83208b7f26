"""Prefect state hooks for the stop paths the flow body cannot handle itself (DESIGN.md §4),
for both dialects.

The flow body runs the lifecycle nodes itself in every case it survives: success, failure,
SIGTERM/SIGINT, a cancel seen by its own watcher (adapter/cancel.py). Two cases are left:

* `on_cancellation`: a Prefect runner (worker or `serve`) runs it in *its* process after the
  flow process is gone (it sent SIGTERM, waited, then SIGKILL). The lifecycle nodes the body
  did not claim run here (core.replay_lifecycle): Dagu cancel + exit handlers, Argo onExit.
* `on_crashed`: the flow process died hard (SIGKILL, OOM). Argo's exit handler still runs
  (its controller runs onExit whatever happened to the pods); Dagu runs no handler for a
  killed process. The failure path's notifications go out (`CRASH_NOTIFIERS`), once.

Exactly once: every lifecycle node is claimed before it runs (runfiles.claim); a hook runs
only the nodes nobody claimed. The same claim guards the crash notification, which Prefect
may call both in the dying process and in the runner.

The hooks need the run's workflow: `StateHooks(load)` takes the function that rebuilds it
from the flow run (the deployed entry's, which translates YAML; the adapter never does).
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any, Callable

from ..model import Workflow
from .core import replay_lifecycle
from .runfiles import claim, existing_run_dir

# Called with (workflow, summary dict) when a run crashed; the notification code registers
# here (summary keys: workflow, status, message, run_id, flow_run_url, failed_nodes, …).
CRASH_NOTIFIERS: list[Callable[[Workflow, dict[str, Any]], None]] = []

# flow run -> (workflow, parameter overrides)
WorkflowLoader = Callable[[Any], "tuple[Workflow, list[tuple[str, str]]]"]


def leftover_processes(run_id: str) -> list[int]:
    """Pids of processes started for the run (steps, handlers: they carry DAG_RUN_ID) that
    outlived it: steps run in their own sessions, so killing the flow process leaves them.
    Linux /proc only; elsewhere an empty list."""
    needle = f"DAG_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.name == str(os.getpid()):
                continue
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def kill_leftovers(run_id: str, logger: Any = None) -> list[int]:
    """SIGKILL the process groups of the run's leftover processes; returns their pids."""
    import signal

    pids = leftover_processes(run_id)
    for pid in pids:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if pids and logger is not None:
        logger.warning("flowport: killed %d process(es) the run left behind: %s", len(pids), pids)
    return pids


def remove_containers(wf: Workflow, run_id: str, logger: Any) -> None:
    """The run's containers (found by their flowport.run-id label), when it used any."""
    if not wf.uses_containers():
        return
    try:
        from .runners.docker import cleanup

        removed = cleanup(run_id)
        if removed:
            logger.warning("flowport: removed container(s) the run left behind: %s", removed)
    except Exception as exc:
        logger.warning("flowport: could not remove the run's containers: %s", exc)


def _logger(flow: Any, flow_run: Any) -> logging.Logger | logging.LoggerAdapter:
    try:
        from prefect.logging.loggers import flow_run_logger

        return flow_run_logger(flow_run, flow)
    except Exception:
        return logging.getLogger("flowport")


class StateHooks:
    """`on_cancellation` / `on_crashed` of a flow whose runs can be rebuilt with `load`."""

    def __init__(self, load: WorkflowLoader) -> None:
        self.load = load

    def _clear_leftovers(self, flow: Any, flow_run: Any):
        """What both hooks do first: load the run's workflow, then kill the step processes and
        containers the dead flow process left. None when the workflow cannot be loaded."""
        logger = _logger(flow, flow_run)
        try:
            wf, params = self.load(flow_run)
        except Exception as exc:
            logger.error("flowport: cannot load the workflow of this run: %s", exc)
            return None
        kill_leftovers(str(flow_run.id), logger)
        remove_containers(wf, str(flow_run.id), logger)
        return wf, params, logger

    def on_cancellation(self, flow: Any, flow_run: Any, state: Any) -> None:
        loaded = self._clear_leftovers(flow, flow_run)
        if loaded is None:
            return
        wf, params, logger = loaded
        replay_lifecycle(wf, str(flow_run.id), params, "canceled", logger, name=flow_run.name)
        keep_final_message(flow_run.id, wf.name, logger)

    def on_crashed(self, flow: Any, flow_run: Any, state: Any) -> None:
        loaded = self._clear_leftovers(flow, flow_run)
        if loaded is None:
            return
        wf, params, logger = loaded
        run_id = str(flow_run.id)
        if not claim(existing_run_dir(wf.name, run_id), "crashed"):
            return
        message = getattr(state, "message", None) or "the flow process crashed"
        logger.error("flowport: %s crashed (%s)", wf.name, message)
        replay_lifecycle(wf, run_id, params, "crashed", logger, name=flow_run.name)
        summary = {
            "workflow": wf.name,
            "dialect": wf.dialect,
            "status": "failed",
            "message": f"crashed: {message}",
            "run_id": run_id,
            "failed_nodes": [],
            "flow_run_url": _flow_run_url(run_id),
        }
        for notify in list(CRASH_NOTIFIERS):
            try:
                notify(wf, summary)
            except Exception as exc:  # a notifier must not hide the others
                logger.error("flowport: crash notifier %r failed: %s", notify, exc)


def keep_final_message(flow_run_id: Any, workflow: str, logger: Any, wait: float = 30.0) -> None:
    """A Prefect runner finalizes a cancelled run with its own message ("Flow run was
    cancelled successfully.", set with force) right after this hook returns, over the
    Cancelled state the flow body set with the source status. A small detached process
    puts ours back once that happened (a thread would not do: under a worker the hook runs
    in a `prefect flow-run execute` supervisor that exits right after finalizing)."""
    import subprocess
    import sys

    from prefect.client.orchestration import get_client

    prefix = f"{workflow}: "
    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
    except Exception:
        return
    if state is not None and state.is_cancelled() and (state.message or "").startswith(prefix):
        ours = state.message
    else:  # the body never set its final state (killed): say what happened ourselves
        ours = f"{prefix}canceled (stopped by Prefect; the flow process was stopped)"
    try:
        subprocess.Popen(
            [sys.executable, "-m", "flowport.adapter.prefect_hooks", "restore-message", str(flow_run_id), prefix, ours,
             str(wait)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        logger.warning("flowport: could not keep the run's final message: %s", exc)


def restore_message(flow_run_id: str, prefix: str, ours: str, wait: float) -> None:
    """Wait for the runner's final Cancelled state, then set ours (same type, our message)."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    run_uuid = uuid.UUID(flow_run_id)
    deadline = time.monotonic() + wait
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_uuid).state
            if state is not None:
                if state.is_cancelled() and not (state.message or "").startswith(prefix):
                    client.set_flow_run_state(run_uuid, Cancelled(name="Cancelled", message=ours), force=True)
                    return
                if state.is_final() and not state.is_cancelled():
                    return
            time.sleep(0.1)


def _flow_run_url(run_id: str) -> str | None:
    try:
        from prefect.settings import PREFECT_UI_URL

        base = PREFECT_UI_URL.value()
        return f"{base.rstrip('/')}/runs/flow-run/{run_id}" if base else None
    except Exception:
        return None


if __name__ == "__main__":  # python -m flowport.adapter.prefect_hooks restore-message RUN PREFIX MESSAGE WAIT
    import sys

    if len(sys.argv) == 6 and sys.argv[1] == "restore-message":
        restore_message(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
