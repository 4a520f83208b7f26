"""Docker volumes and bind mounts a run creates for its steps, and their removal.

Dialect-neutral: a program decides which volumes it needs and what removes them; this module
creates them with flowport's labels, turns them into Engine API `Mounts`, and removes them
by label — at the end of a step, at the end of a run (the core), and for runs whose process
was killed (`orphans.py`, `flowport cleanup`).

A volume's `flowport.volume-gc` label says when the end of its run removes it, in Argo's
words (`volumeClaimGC`): `OnWorkflowCompletion` always, `OnWorkflowSuccess` only when the
run succeeded (a failed run's data stays for inspection, as Argo keeps the PVC) — but a
run that was stopped or crashed leaves none behind: nobody asked to inspect it, and a
cancelled run must leave no trace (its `OnWorkflowSuccess` volumes go too) —, `Never`
(kept on purpose: `keep_volumes`). Volumes flowport did not create (an existing
`persistentVolumeClaim.claimName`) carry no run label and are never removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable

import docker.errors
import requests
from docker.types import Mount

from .docker import MANAGED_LABEL, RUN_ID_LABEL, WORKFLOW_LABEL, _api, _clients, _describe

GC_LABEL = "flowport.volume-gc"
VOLUME_LABEL = "flowport.volume"  # the name the workflow gives the volume
ON_COMPLETION, ON_SUCCESS, NEVER = "OnWorkflowCompletion", "OnWorkflowSuccess", "Never"
_INVALID = re.compile(r"[^a-zA-Z0-9_.-]+")


class VolumeError(RuntimeError):
    """A volume or bind mount cannot be made; the message says which and why."""


def volume_name(*parts: str) -> str:
    """Parts joined by `-` under Docker's volume name rule `[a-zA-Z0-9][a-zA-Z0-9_.-]+`."""
    name = _INVALID.sub("-", "-".join(p for p in parts if p)).lstrip("_.-")
    return name[:200] or "volume"


def volume_labels(run_id: str, workflow: str, volume: str, gc: str) -> dict[str, str]:
    return {MANAGED_LABEL: "true", RUN_ID_LABEL: run_id, WORKFLOW_LABEL: workflow[:63],
            VOLUME_LABEL: volume[:63], GC_LABEL: gc}


def create_volume(name: str, labels: dict[str, str] | None = None, client=None) -> None:
    """Create the named volume; an existing one is used as it is (Docker's own rule: its
    labels are not changed). Raises VolumeError."""
    try:
        _api(client).create_volume(name, labels=labels or None)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise VolumeError(f"volume {name!r} could not be created: {_describe(exc)}") from None


def remove_volume(name: str, client=None) -> bool:
    """Remove one volume; False when it is still in use (a container kept on purpose) or the
    Engine refuses. A volume already gone counts as removed."""
    try:
        _api(client).remove_volume(name)
        return True
    except docker.errors.NotFound:
        return True
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return False


def volume_mount(target: str, source: str, *, read_only: bool, bind: bool = False) -> dict:
    """One Engine API `Mounts` entry (a named volume, or a bind of a host folder/file)."""
    return Mount(target=target, source=source, type="bind" if bind else "volume", read_only=read_only)


def volume_folder(name: str, sub_path: str, client=None) -> str:
    """The host folder `<volume>/<sub_path>`, created as the kubelet creates a missing subPath.
    Docker Engines before API 1.45 cannot mount part of a volume, so flowport binds that
    folder; it must be reachable from here (the Engine runs on this machine, as this user may
    write its volume folders). Raises VolumeError otherwise."""
    try:
        mountpoint = _api(client).inspect_volume(name).get("Mountpoint") or ""
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise VolumeError(f"volume {name!r}: {_describe(exc)}") from None
    if not mountpoint or not os.path.isdir(mountpoint) or not os.access(mountpoint, os.W_OK):
        raise VolumeError(
            f"subPath {sub_path!r} of volume {name!r} needs the volume's folder ({mountpoint or '?'}) to be "
            "reachable from flowport: run flowport on the Docker host as a user that may write it, or mount "
            "the whole volume")
    return _sub_folder(mountpoint, sub_path)


def _sub_folder(root: str, sub_path: str) -> str:
    folder = os.path.normpath(os.path.join(root, sub_path))
    if os.path.commonpath([root, folder]) != os.path.normpath(root):
        raise VolumeError(f"subPath {sub_path!r} leaves its volume")
    if not os.path.exists(folder):
        os.makedirs(folder, mode=0o755, exist_ok=True)
    return folder


# Kubernetes' hostPath `type` checks (pkg/volume/hostpath/host_path.go `checkType`)
_HOST_TYPES = {
    "Directory": ("directory", stat.S_ISDIR), "File": ("file", stat.S_ISREG),
    "Socket": ("socket", stat.S_ISSOCK), "CharDevice": ("character device", stat.S_ISCHR),
    "BlockDevice": ("block device", stat.S_ISBLK),
}
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "FileOrCreate", *_HOST_TYPES)


def host_path(path: str, kind: str, sub_path: str | None) -> str:
    """The host path to bind for a `hostPath` volume (+ a mount's subPath), checked and created
    as the kubelet does; raises VolumeError with the kubelet's words."""
    if not os.path.isabs(path):
        raise VolumeError(f"hostPath {path!r} must be an absolute path")
    try:
        if kind == "DirectoryOrCreate" and not os.path.exists(path):
            os.makedirs(path, mode=0o755, exist_ok=True)
        elif kind == "FileOrCreate" and not os.path.exists(path):
            with open(path, "a", encoding="utf-8"):
                os.chmod(path, 0o644)
        elif kind in _HOST_TYPES:
            what, test = _HOST_TYPES[kind]
            try:
                mode = os.stat(path).st_mode
            except FileNotFoundError:
                raise VolumeError(f"hostPath type check failed: {path} is not a {what}") from None
            if not test(mode):
                raise VolumeError(f"hostPath type check failed: {path} is not a {what}")
        if sub_path:
            if not os.path.isdir(path):
                raise VolumeError(f"subPath {sub_path!r}: hostPath {path} is not a directory")
            return _sub_folder(path, sub_path)
    except OSError as exc:
        raise VolumeError(f"hostPath {path}: {exc.strerror or exc}") from None
    return path


# ---------------------------------------------------------------- removal by label

def _managed_volumes(api, run_id: str | None) -> list[dict]:
    filters = [f"{MANAGED_LABEL}=true"] + ([f"{RUN_ID_LABEL}={run_id}"] if run_id else [])
    return api.volumes(filters={"label": filters}).get("Volumes") or []


def release_run_volumes(run_id: str, succeeded: bool, client=None, stopped: bool = False) -> list[str]:
    """At the end of a run (after its containers are gone): remove its volumes as their
    `flowport.volume-gc` label says; returns the names removed. Best effort, never raises. A
    process that never talked to Docker created none, so this costs nothing then."""
    if client is None and not _clients:
        return []
    removed = []
    try:
        api = _api(client)
        for v in _managed_volumes(api, run_id):
            gc = (v.get("Labels") or {}).get(GC_LABEL, ON_COMPLETION)
            if gc == ON_COMPLETION or (gc == ON_SUCCESS and (succeeded or stopped)):
                if remove_volume(v["Name"], api):
                    removed.append(v["Name"])
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        pass
    return removed


def cleanup_volumes(run_id: str | None = None, spare_runs: Iterable[str] = (), client=None) -> list[str]:
    """`flowport cleanup`: remove every flowport volume (of one run when given), those kept
    on purpose included, except the volumes of the runs in `spare_runs` (still running).
    Returns the names removed; volumes still in use stay."""
    spare = set(spare_runs)
    api = _api(client)
    removed = []
    for v in _managed_volumes(api, run_id):
        if (v.get("Labels") or {}).get(RUN_ID_LABEL) in spare:
            continue
        if remove_volume(v["Name"], api):
            removed.append(v["Name"])
    return removed


def run_volume_names(run_id: str, client=None) -> list[str]:
    """The names of the volumes flowport made for a run and that are still there."""
    with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
        return sorted(v["Name"] for v in _managed_volumes(_api(client), run_id))
    return []
