"""What `flowport cleanup` may remove: the Docker containers and volumes flowport made
(label `flowport.managed=true`) whose run is no longer running.

A resource's run is found by its `flowport.run-id` label. It is still running when its claims
on this host say so (orphans.run_running: started, not ended, owner process alive); when this
host has no record of the run, its Prefect flow run decides (not final: running) if a server
is configured; otherwise its state is unknown and it stays. `everything=True` is the old
behaviour: every flowport container and volume, running runs included.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

from .orphans import run_running
from .runners.docker import MANAGED_LABEL, RUN_ID_LABEL, shared_client


@dataclass
class Leftover:
    kind: str  # "container" | "volume"
    name: str
    run_id: str | None
    reason: str  # why it goes, or why it stays

    def describe(self) -> str:
        run = f"run {self.run_id}" if self.run_id else "no run label"
        return f"{self.kind} {self.name} ({run}; {self.reason})"


def _prefect_running(run_id: str) -> bool | None:
    """Whether the Prefect flow run `run_id` is not final yet; None when no server says."""
    from .server import configured_api_url, local_server_status

    try:
        flow_run_id = uuid.UUID(run_id)
    except ValueError:
        return None
    url = configured_api_url()
    if url is None:
        status = local_server_status()
        url = status.state.url if status.healthy and status.state else None
    if url is None:
        return None
    try:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
        return state is not None and not state.is_final()
    except Exception:  # unreachable server, unknown flow run: nothing to say
        return None


class RunStates:
    """run id → (running?, why), asked once per run."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[bool | None, str]] = {}

    def __call__(self, run_id: str) -> tuple[bool | None, str]:
        if run_id not in self._known:
            running = run_running(run_id)
            if running is not None:
                why = "its flowport process is running" if running else "its run ended"
            else:
                running = _prefect_running(run_id)
                why = {True: "its Prefect flow run is not final", False: "its Prefect flow run is final",
                       None: "no record of its run on this host or server"}[running]
            self._known[run_id] = (running, why)
        return self._known[run_id]


def _container_name(summary: dict) -> str:
    return (summary.get("Names") or [summary["Id"][:12]])[0].lstrip("/")


def find_leftovers(run_id: str | None = None, everything: bool = False,
                   client: Any = None) -> tuple[list[Leftover], list[Leftover]]:
    """(to remove, to keep) among flowport's containers and volumes (of `run_id` only, if
    given). Raises DockerUnavailable when there is no daemon."""
    from .runners.docker import DockerUnavailable

    api = getattr(client, "api", client) if client is not None else shared_client().api
    labels = [f"{MANAGED_LABEL}=true"] + ([f"{RUN_ID_LABEL}={run_id}"] if run_id else [])
    try:
        containers = api.containers(all=True, filters={"label": labels})
        volumes = api.volumes(filters={"label": labels}).get("Volumes") or []
    except Exception as exc:  # requests' ConnectionError and docker's errors alike
        raise DockerUnavailable(str(exc)) from None
    found = [("container", _container_name(c), (c.get("Labels") or {}).get(RUN_ID_LABEL)) for c in containers]
    found += [("volume", v["Name"], (v.get("Labels") or {}).get(RUN_ID_LABEL)) for v in volumes]
    states = RunStates()
    remove, keep = [], []
    for kind, name, rid in found:
        if everything:
            remove.append(Leftover(kind, name, rid, "--all"))
        elif rid is None:
            keep.append(Leftover(kind, name, rid, "no run to check; --all removes it"))
        else:
            running, why = states(rid)
            (keep if running is not False else remove).append(Leftover(kind, name, rid, why))
    return remove, keep


def remove_leftovers(items: list[Leftover], client: Any = None) -> list[Leftover]:
    """Remove `items` (containers first: a volume in use cannot go); returns those removed."""
    import docker.errors

    api = getattr(client, "api", client) if client is not None else shared_client().api
    removed = []
    for item in sorted(items, key=lambda i: i.kind != "container"):
        with contextlib.suppress(docker.errors.NotFound):
            try:
                if item.kind == "container":
                    api.remove_container(item.name, v=True, force=True)
                else:
                    api.remove_volume(item.name, force=True)
            except docker.errors.APIError as exc:
                item.reason = f"could not be removed: {exc.explanation or exc}"
                continue
            removed.append(item)
    return removed
