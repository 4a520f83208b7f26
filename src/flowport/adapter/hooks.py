"""Prefect state hooks for the stop paths the flow body cannot handle itself (DESIGN.md §4).

The flow body runs the lifecycle handlers itself in every case it survives: success, failure,
SIGTERM/SIGINT, a cancel seen by its own watcher (adapter/cancel.py). Two cases are left:

* `on_cancellation`: a Prefect runner (worker or `serve`) runs it in *its* process after the
  flow process is gone (it sent SIGTERM, waited, then SIGKILL). If the body was killed before
  it ran the cancel/exit handlers, the hook runs the ones that did not run.
* `on_crashed`: the flow process died hard (SIGKILL, OOM). The hook sends the failure path's
  notifications (`CRASH_NOTIFIERS`); Dagu itself runs no handler for a killed process.

Exactly once: every handler is *claimed* before it runs, by creating a file with O_EXCL in
the run's log folder (`<log root>/<workflow>/<flow run id>/claims/`). The engine claims each
handler it runs; a hook runs only the handlers nobody claimed. The same claim guards the
crash notification, which Prefect may call both in the dying process and in the runner.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any, Callable

from ..model import Workflow
from .context import log_root, safe_name
from .status import CANCELED, FAILED, SKIPPED, SUCCEEDED

# Called with (workflow, summary dict) when a run crashed; the notification code registers
# here (summary keys: workflow, status, message, run_id, flow_run_url, failed_nodes, …).
CRASH_NOTIFIERS: list[Callable[[Workflow, dict[str, Any]], None]] = []


def run_dir(workflow_name: str, run_id: str) -> Path:
    """The run's log folder, as RunContext names it."""
    return log_root() / safe_name(workflow_name) / run_id


def claim(folder: Path, what: str) -> bool:
    """True for the first caller only (across processes on this host)."""
    claims = folder / "claims"
    claims.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(claims / what, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")
    return True


def claimed(folder: Path, what: str) -> bool:
    return (folder / "claims" / what).exists()


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


def _workflow(flow_run: Any) -> tuple[Workflow, list[tuple[str, str]]]:
    from .entry import params_pairs, workflow_from_parameters

    parameters = dict(getattr(flow_run, "parameters", None) or {})
    wf = workflow_from_parameters(parameters)
    return wf, params_pairs(wf, parameters.get("params"))


def _logger(flow: Any, flow_run: Any) -> logging.Logger | logging.LoggerAdapter:
    try:
        from prefect.logging.loggers import flow_run_logger

        return flow_run_logger(flow_run, flow)
    except Exception:
        return logging.getLogger("flowport")


def run_missing_handlers(wf: Workflow, run_id: str, params: list[tuple[str, str]], status: str,
                         logger: logging.Logger | logging.LoggerAdapter) -> list[str]:
    """Run the handlers of `status` (then exit) that the flow body did not claim; returns
    the names of those run. Only for a run whose body started (its log folder exists)."""
    from . import lifecycle
    from .context import RunContext
    from .runners.base import StopToken
    from .steps import execute_node

    folder = run_dir(wf.name, run_id)
    if not (folder / "run.log").exists():
        logger.info("flowport: the run never started; no handler to run")
        return []
    pending = [k for k in lifecycle.handler_order(status)
               if getattr(wf.handlers, k) is not None and not claimed(folder, f"handler-{k}")]
    if not pending:
        logger.info("flowport: the flow run already ran its handlers")
        return []
    ctx = RunContext(wf, run_id=run_id, params=params)
    ran: list[str] = []
    try:
        ctx.status = status
        ctx.log(f"the flow process is gone; running {', '.join(pending)} from a Prefect hook")
        stop = StopToken(grace=wf.semantics.stop_grace_seconds)
        for key in pending:
            if not claim(folder, f"handler-{key}"):
                continue
            rec = ctx.handler_record(key)
            execute_node(ctx, getattr(wf.handlers, key), rec, logger=logger, stop=stop,
                         handler=key, status=status)
            ran.append(rec.name)
            logger.info("flowport: handler %s ended %s", rec.name, rec.phase)
            if rec.phase not in (SUCCEEDED, SKIPPED):
                logger.warning("flowport: handler %s failed: %s", rec.name, rec.message)
    finally:
        ctx.close()
    return ran


def _clear_leftovers(flow: Any, flow_run: Any):
    """What both hooks do first: load the run's workflow, then kill the step processes and
    containers the dead flow process left. None when the workflow cannot be loaded."""
    logger = _logger(flow, flow_run)
    try:
        wf, params = _workflow(flow_run)
    except Exception as exc:
        logger.error("flowport: cannot load the workflow of this run: %s", exc)
        return None
    kill_leftovers(str(flow_run.id), logger)
    remove_containers(wf, str(flow_run.id), logger)
    return wf, params, logger


def on_cancellation(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect `on_cancellation` hook of the static flow (see module docstring)."""
    loaded = _clear_leftovers(flow, flow_run)
    if loaded is None:
        return
    wf, params, logger = loaded
    run_missing_handlers(wf, str(flow_run.id), params, CANCELED, logger)
    keep_final_message(flow_run.id, wf.name, logger)


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
        ours = f"{prefix}{CANCELED} (stopped by Prefect; the flow process was stopped)"
    try:
        subprocess.Popen(
            [sys.executable, "-m", "flowport.adapter.hooks", "restore-message", str(flow_run_id), prefix, ours,
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


def on_crashed(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect `on_crashed` hook of the static flow: the failure path's notifications, once."""
    loaded = _clear_leftovers(flow, flow_run)
    if loaded is None:
        return
    wf, _, logger = loaded
    run_id = str(flow_run.id)
    folder = run_dir(wf.name, run_id)
    if not claim(folder, "crashed"):
        return
    message = getattr(state, "message", None) or "the flow process crashed"
    summary = {
        "workflow": wf.name,
        "dialect": wf.dialect,
        "status": FAILED,
        "message": f"crashed: {message}",
        "run_id": run_id,
        "failed_nodes": [],
        "flow_run_url": _flow_run_url(run_id),
    }
    logger.error("flowport: %s crashed (%s); sending the failure notifications", wf.name, message)
    for notify in list(CRASH_NOTIFIERS):
        try:
            notify(wf, summary)
        except Exception as exc:  # a notifier must not hide the others
            logger.error("flowport: crash notifier %r failed: %s", notify, exc)


def _flow_run_url(run_id: str) -> str | None:
    try:
        from prefect.settings import PREFECT_UI_URL

        base = PREFECT_UI_URL.value()
        return f"{base.rstrip('/')}/runs/flow-run/{run_id}" if base else None
    except Exception:
        return None


if __name__ == "__main__":  # python -m flowport.adapter.hooks restore-message RUN PREFIX MESSAGE WAIT
    import sys

    if len(sys.argv) == 6 and sys.argv[1] == "restore-message":
        restore_message(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
