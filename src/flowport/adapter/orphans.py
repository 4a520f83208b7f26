"""Runs whose flowport process was killed (SIGKILL, OOM, a lost machine): nothing of them may
outlive the process, and Prefect must not show them Running for ever.

A run's folder holds `claims/started` (written by the process that runs it: its pid) and,
once it ended, `claims/finished`. A run that started, did not finish, and whose process is
gone is an orphan: `flowport cleanup` and the next `flowport run` end its leftover step
processes (found by the `DAG_RUN_ID` in their environment), containers and volumes (by
label; a claim volume kept for a failed run stays, as Argo keeps its PVC), and mark its flow
run Crashed.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from .runfiles import claim, fallback_log_root, log_root

log = logging.getLogger("flowport")


def _owner_alive(pid: int) -> bool:
    from .server import process_alive  # a zombie is gone for our purpose

    return process_alive(pid)


def _owner_pid(started: Path) -> int | None:
    try:
        return int(started.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run_folders(run_id: str) -> list[Path]:
    """The folders of run `run_id` on this host (the log root's and the fallback's)."""
    return [claims.parent for root in {log_root(), fallback_log_root()}
            for claims in root.glob(f"*/{glob_escape(run_id)}/claims")]


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def run_running(run_id: str) -> bool | None:
    """Whether run `run_id` is still running, by its claims on this host: True while it
    started, did not end, and its process lives; False once it ended (or its process is
    gone); None when this host has no record of it."""
    found = None
    for folder in run_folders(run_id):
        claims = folder / "claims"
        if (claims / "finished").exists() or (claims / "crashed").exists():
            found = False if found is None else found
            continue
        pid = _owner_pid(claims / "started")
        if pid is not None and _owner_alive(pid):
            return True
        found = False
    return found


def _unfinished() -> list[tuple[Path, str, bool]]:
    """(run folder, run id, its process is alive) of the runs that started here and never
    finished."""
    found = []
    for root in {log_root(), fallback_log_root()}:
        for started in root.glob("*/*/claims/started"):
            claims = started.parent
            if (claims / "finished").exists() or (claims / "crashed").exists():
                continue
            pid = _owner_pid(started)
            if pid is not None:
                found.append((claims.parent, claims.parent.name, _owner_alive(pid)))
    return found


def orphaned_runs() -> list[tuple[Path, str]]:
    """(run folder, run id) of the runs that started here, never finished, and whose
    process is gone."""
    return [(folder, run_id) for folder, run_id, alive in _unfinished() if not alive]


def end_orphans(logger: Any = log) -> list[str]:
    """End what every orphaned run left behind; returns their run ids."""
    from .prefect_hooks import kill_leftovers

    ended = []
    for folder, run_id in orphaned_runs():
        if not claim(folder, "crashed"):  # another sweep or a Prefect hook took it
            continue
        kill_leftovers(run_id, logger)
        try:
            from .runners.docker import cleanup
            from .runners.volumes import release_run_volumes

            cleanup(run_id)
            release_run_volumes(run_id, succeeded=False, stopped=True)  # once its containers are gone
        except Exception:  # no Docker Engine: no containers, no volumes
            pass
        mark_crashed(run_id, logger)
        ended.append(run_id)
    return ended


def mark_crashed(run_id: str, logger: Any = log) -> None:
    """Set the flow run Crashed if it is still not final (best effort: the server may be gone)."""
    try:
        flow_run_id = uuid.UUID(run_id)
    except ValueError:
        return
    try:
        from prefect.client.orchestration import get_client
        from prefect.states import Crashed

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
            if state is None or not state.is_final():
                client.set_flow_run_state(flow_run_id, Crashed(message="the flowport process was killed"),
                                          force=True)
                logger.warning("flowport: flow run %s marked Crashed (its flowport process was killed)", run_id)
    except Exception as exc:
        logger.info("flowport: could not mark flow run %s Crashed: %s", run_id, exc)
