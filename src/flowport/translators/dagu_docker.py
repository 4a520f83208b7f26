"""Dagu's container steps → `Container` actions (research/dagu.md §3).

- `executor: docker` (V1 `config:`) / `type: docker` (V2 `with:`): a fresh container per step,
  the step's command becomes the container Cmd (the image ENTRYPOINT is kept), kept after it
  exits unless `autoRemove`; with `containerName` and no image: `docker exec` into it.
- step-level `container:` (object: own container per step; string: exec into that container).
- DAG-level `container:`: one keep-alive container per run, every step `docker exec`'d into it.
Keys are matched case-insensitively in every dialect, as Dagu's decoders do.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Literal

from ..model import Container
from .fields import kind_of

Path_ = tuple
PullPolicy = Literal["missing", "always", "never"]

# executor config (V1 `config`, V2 `with`): canonical key -> state, as in dagu.py's tables
EXECUTOR_KEYS = {
    "image": "ok", "container_name": "ok", "pull": "ok", "auto_remove": "ok", "platform": "ok",
    "container": "ok", "host": "ok", "exec": "ok", "network": "unsupported",
    "volumes": "ok", "working_dir": "ok", "command": "ok",  # Dagu's shortcuts for host.Binds/Mounts and container.WorkingDir
}
# Docker's container.Config / HostConfig / exec options, as Dagu passes them through
CONFIG_KEYS = {"env": "ok", "entrypoint": "ok", "cmd": "ok", "user": "ok", "working_dir": "ok",
               "image": "ok", "labels": "ignored", "hostname": "ignored", "tty": "ignored",
               "attach_stdout": "ignored", "attach_stderr": "ignored"}
# `host:` is Docker's HostConfig (moby's container.HostConfig, decoded by Dagu with
# mapstructure: field names, any case). Keys are Docker's JSON names and go to the Engine as
# such; the value kinds say how YAML is read (research: dagucloud/dagu docker/config.go).
_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}  # docker's sizes (`--shm-size 64m`)
_BOOL, _INT, _BYTES, _STR, _STRS, _MAP = "bool", "int", "bytes", "str", "strs", "map"
HOST_FIELDS: dict[str, str] = {
    "Privileged": _BOOL, "ReadonlyRootfs": _BOOL, "OomKillDisable": _BOOL, "Init": _BOOL,
    "ShmSize": _BYTES, "Memory": _BYTES, "MemoryReservation": _BYTES, "MemorySwap": _BYTES,
    "KernelMemory": _BYTES, "KernelMemoryTCP": _BYTES,
    "NanoCpus": _INT, "CpuShares": _INT, "CpuPeriod": _INT, "CpuQuota": _INT,
    "CpuRealtimePeriod": _INT, "CpuRealtimeRuntime": _INT, "CpuCount": _INT, "CpuPercent": _INT,
    "BlkioWeight": _INT, "MemorySwappiness": _INT, "OomScoreAdj": _INT, "PidsLimit": _INT,
    "IOMaximumIOps": _INT, "IOMaximumBandwidth": _INT,
    "IpcMode": _STR, "PidMode": _STR, "UTSMode": _STR, "UsernsMode": _STR, "CgroupnsMode": _STR,
    "Cgroup": _STR, "CgroupParent": _STR, "CpusetCpus": _STR, "CpusetMems": _STR,
    "Runtime": _STR, "Isolation": _STR, "VolumeDriver": _STR,
    "CapAdd": _STRS, "CapDrop": _STRS, "Dns": _STRS, "DnsOptions": _STRS, "DnsSearch": _STRS,
    "ExtraHosts": _STRS, "GroupAdd": _STRS, "SecurityOpt": _STRS, "VolumesFrom": _STRS,
    "Links": _STRS, "DeviceCgroupRules": _STRS, "MaskedPaths": _STRS, "ReadonlyPaths": _STRS,
    "Tmpfs": _MAP, "Sysctls": _MAP, "StorageOpt": _MAP, "Annotations": _MAP,
}
# structured HostConfig values: Docker's field names of each element (matched in any case)
HOST_STRUCTS: dict[str, tuple[bool, tuple[str, ...]]] = {  # key -> (a list of them?, fields)
    "Ulimits": (True, ("Name", "Soft", "Hard")),
    "Devices": (True, ("PathOnHost", "PathInContainer", "CgroupPermissions")),
    "DeviceRequests": (True, ("Driver", "Count", "DeviceIDs", "Capabilities", "Options")),
    "Mounts": (True, ("Type", "Source", "Target", "ReadOnly", "Consistency", "BindOptions",
                      "VolumeOptions", "TmpfsOptions", "ImageOptions")),
    "BlkioWeightDevice": (True, ("Path", "Weight")),
    "BlkioDeviceReadBps": (True, ("Path", "Rate")), "BlkioDeviceWriteBps": (True, ("Path", "Rate")),
    "BlkioDeviceReadIOps": (True, ("Path", "Rate")), "BlkioDeviceWriteIOps": (True, ("Path", "Rate")),
    "LogConfig": (False, ("Type", "Config")),
}
HOST_KEYS = {
    "Binds": "ok", "NetworkMode": "ok", "AutoRemove": "ok", "Resources": "ok",
    **{k: "ok" for k in HOST_FIELDS}, **{k: "ok" for k in HOST_STRUCTS},
    "ContainerIDFile": "ignored", "ConsoleSize": "ignored",  # the docker CLI's, not the Engine's
    "PortBindings": "unsupported", "PublishAllPorts": "unsupported", "RestartPolicy": "unsupported",
}
# Docker's API names for Resources (embedded in HostConfig; Dagu also reads it nested)
RESOURCE_KEYS = {k: "ok" for k in (
    "Memory", "MemoryReservation", "MemorySwap", "KernelMemory", "KernelMemoryTCP", "NanoCpus",
    "CpuShares", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpuCount",
    "CpuPercent", "BlkioWeight", "MemorySwappiness", "OomKillDisable", "PidsLimit",
    "IOMaximumIOps", "IOMaximumBandwidth", "CgroupParent", "CpusetCpus", "CpusetMems",
    "DeviceCgroupRules", "Ulimits", "Devices", "DeviceRequests", "BlkioWeightDevice",
    "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps")}
EXEC_KEYS = {"user": "ok", "working_dir": "ok", "env": "ok"}
# the `container:` field (DAG- or step-level)
CONTAINER_KEYS = {
    "image": "ok", "name": "ok", "pull_policy": "ok", "env": "ok", "volumes": "ok", "user": "ok",
    "working_dir": "ok", "workdir": "ok", "platform": "ok", "network": "ok", "keep_container": "ok",
    "shell": "ok", "exec": "ok", "startup": "ok", "wait_for": "ok",
    "ports": "unsupported", "log_pattern": "unsupported", "restart_policy": "unsupported",
    "healthcheck": "unsupported", "command": "unsupported",
}


def executor_container(cx: Any, config: Any, cpath: Path_, cmd: tuple[str, ...] | None) -> Container | None:
    """`executor: {type: docker, config: …}` or `type: docker` + `with: …`."""
    if not isinstance(config, dict):
        cx.problems.error(cpath, "the docker executor needs a mapping with at least `image`")
        return None
    # Dagu decodes the whole executor config with mapstructure, unknown keys dropped
    # (runtime/builtin/docker/config.go): a file Dagu runs is not refused for one
    f = cx.fields(config, cpath, EXECUTOR_KEYS, "docker executor", unknown_ignored=True)
    image = cx.string(*f["image"]) if "image" in f else None
    name = cx.string(*f["container_name"]) if "container_name" in f else None
    if not image and not name:
        cx.problems.error(cpath, "the docker executor needs `image` (or `containerName` to exec into a running container)")
        return None
    keep = True  # Dagu's executor keeps the container unless autoRemove (research/dagu.md §3.1)
    if "auto_remove" in f:
        keep = not cx.boolean(*f["auto_remove"])
    env: list[tuple[str, str]] = []
    entrypoint = user = workdir = network = None
    image_cmd: tuple[str, ...] | None = None
    volumes: tuple[str, ...] = ()
    if "container" in f:
        c = _sub(cx, f["container"], CONFIG_KEYS, "container config")
        env += _env_pairs(cx, *c["env"]) if "env" in c else []
        entrypoint = tuple(_argv(cx, *c["entrypoint"])) if "entrypoint" in c else None
        image_cmd = tuple(_argv(cx, *c["cmd"])) if "cmd" in c else None
        user = cx.string(*c["user"]) if "user" in c else None
        workdir = cx.string(*c["working_dir"]) if "working_dir" in c else None
    host: dict[str, Any] = {}
    if "host" in f:
        h = _sub(cx, f["host"], HOST_KEYS, "host config")
        volumes = tuple(cx.strings(*h.pop("Binds"))) if "Binds" in h else ()
        network = cx.string(*h.pop("NetworkMode")) if "NetworkMode" in h else None
        if "AutoRemove" in h and cx.boolean(*h.pop("AutoRemove")):
            keep = False
        if "Resources" in h:  # the legacy nested form; flat keys win, as in Dagu
            for key, item in _sub(cx, h.pop("Resources"), RESOURCE_KEYS, "host resources").items():
                h.setdefault(key, item)
        host = {key: _host_value(cx, key, *item) for key, item in h.items()}
    if "working_dir" in f and not workdir:
        workdir = cx.string(*f["working_dir"])
    if "volumes" in f:
        volumes += tuple(cx.strings(*f["volumes"]))
    if "exec" in f:
        e = _sub(cx, f["exec"], EXEC_KEYS, "exec options")
        env += _env_pairs(cx, *e["env"]) if "env" in e else []
        user = cx.string(*e["user"]) if "user" in e else user
        workdir = cx.string(*e["working_dir"]) if "working_dir" in e else workdir
    if not cmd and "command" in f:  # the container command when the step has none (Dagu ≥ 2.7)
        cmd = tuple(_argv(cx, *f["command"]))
    exec_in = name if not image else None
    return Container(
        image=image or "",
        entrypoint=entrypoint,
        cmd=cmd if cmd else image_cmd,
        env=tuple(env),
        volumes=volumes,
        workdir=workdir,
        user=user,
        network=network,
        platform=cx.string(*f["platform"]) if "platform" in f else None,
        pull_policy=_pull(cx, *f["pull"]) if "pull" in f else "missing",
        keep=keep,
        name=name if image else None,
        exec_in=exec_in,
        host=tuple(sorted(host.items())),
    )


def container_field(cx: Any, value: Any, path: Path_, *, dag_level: bool) -> tuple[Container | None, tuple[str, ...]]:
    """The `container:` field → (container, its shell). A string means exec into it."""
    if isinstance(value, str):
        return Container(image="", exec_in=value), ()
    if not isinstance(value, dict):
        cx.problems.error(path, "`container:` is a mapping with `image`, or the name of a running container")
        return None, ()
    f = cx.fields(value, path, CONTAINER_KEYS, "container")
    image = cx.string(*f["image"]) if "image" in f else None
    exec_in = cx.string(*f["exec"]) if "exec" in f else None
    if bool(image) == bool(exec_in):
        cx.problems.error(path, "`container:` needs exactly one of `image` or `exec`")
        return None, ()
    if "startup" in f and (cx.string(*f["startup"]) or "keepalive") != "keepalive":
        cx.problems.unsupported(f["startup"][1], f"container startup {f['startup'][0]!r}", hint="the default `keepalive` is supported")
    if "wait_for" in f and (cx.string(*f["wait_for"]) or "running") != "running":
        cx.problems.unsupported(f["wait_for"][1], f"waitFor {f['wait_for'][0]!r}", hint="the default `running` is supported")
    workdir = None
    for key in ("working_dir", "workdir"):
        if key in f:
            workdir = cx.string(*f[key])
    shell = tuple(_argv(cx, *f["shell"])) if "shell" in f else ()
    keep = cx.boolean(*f["keep_container"]) if "keep_container" in f else False
    return Container(
        image=image or "",
        env=tuple(_env_pairs(cx, *f["env"])) if "env" in f else (),
        volumes=tuple(cx.strings(*f["volumes"])) if "volumes" in f else (),
        workdir=workdir,
        user=cx.string(*f["user"]) if "user" in f else None,
        network=cx.string(*f["network"]) if "network" in f else None,
        platform=cx.string(*f["platform"]) if "platform" in f else None,
        pull_policy=_pull(cx, *f["pull_policy"]) if "pull_policy" in f else "missing",
        keep=keep,
        name=cx.string(*f["name"]) if "name" in f else None,
        exec_in=exec_in,
    ), shell


def command_argv(text: str, shell: tuple[str, ...]) -> tuple[str, ...]:
    """How Dagu turns a step command into a container Cmd: split like a shell would, but no
    shell runs unless one is configured (then the whole string is its last argument).
    ValueError when a quote is not closed (`split_problem` words it)."""
    if shell:
        return (*shell, text) if shell[-1] == "-c" else (*shell, "-c", text)
    return tuple(shlex.split(text))


SPLIT_HINT = "close the quote, or escape a literal quote with a backslash"


def split_problem(error: ValueError) -> str:
    """The message for a command that cannot be split into words."""
    return f"cannot split the command into words: {str(error)[:1].lower()}{str(error)[1:]}"


def split_words(cx: Any, text: str, path: Path_) -> list[str]:
    """`shlex.split`, reporting an unclosed quote at `path` (then no words)."""
    try:
        return shlex.split(text)
    except ValueError as e:
        cx.problems.error(path, split_problem(e), hint=SPLIT_HINT)
        return []


# ---------------------------------------------------------------- readers


def _host_value(cx: Any, key: str, value: Any, path: Path_) -> Any:
    """A HostConfig value as the Engine API takes it (numbers as numbers, Docker's field
    names inside structures). Byte sizes also take docker's `64m`-style text."""
    kind = HOST_FIELDS.get(key)
    if kind == _BOOL:
        return cx.boolean(value, path)
    if kind == _BYTES and isinstance(value, str) and value.strip()[-1:].lower() in _UNITS:
        m = re.fullmatch(r"([0-9]+)([bkmg])", value.strip().lower())
        if m is None:
            cx.problems.error(path, f"expected a size in bytes (or like 64m), got {value!r}")
            return None
        return int(m.group(1)) * _UNITS[m.group(2)]
    if kind in (_INT, _BYTES):
        n = cx.number(value, path, integer=True, minimum=-(2**63))
        return int(n) if n is not None else None
    if kind == _STR:
        return cx.string(value, path)
    if kind == _STRS:
        return list(cx.strings(value, path))
    if kind == _MAP:
        if not isinstance(value, dict):
            cx.problems.error(path, f"host config {key} must be a mapping, got {kind_of(value)}")
            return None
        return {str(k): cx.string(v, (*path, k)) for k, v in value.items()}
    many, names = HOST_STRUCTS[key]
    table = {name: "ok" for name in names}
    if not many:
        return {k: v for k, (v, _) in _sub(cx, (value, path), table, f"host config {key}").items()}
    if not isinstance(value, list):
        cx.problems.error(path, f"host config {key} must be a list, got {kind_of(value)}")
        return None
    return [{k: v for k, (v, _) in _sub(cx, (item, (*path, i)), table, f"host config {key}").items()}
            for i, item in enumerate(value)]


def _sub(cx: Any, item: tuple[Any, Path_], table: dict[str, str], what: str) -> dict[str, tuple[Any, Path_]]:
    value, path = item
    if not isinstance(value, dict):
        cx.problems.error(path, f"{what} must be a mapping")
        return {}
    return cx.fields(value, path, table, what, unknown_ignored=True)


def _pull(cx: Any, value: Any, path: Path_) -> PullPolicy:
    if isinstance(value, bool):
        return "always" if value else "never"
    text = str(value).strip().lower()
    if text in ("always", "missing", "never"):
        return text  # type: ignore[return-value]
    if text in ("true", "false"):
        return "always" if text == "true" else "never"
    cx.problems.error(path, f"unknown pull policy {value!r}", hint="use always, missing or never")
    return "missing"


def _argv(cx: Any, value: Any, path: Path_) -> list[str]:
    if isinstance(value, str):
        return split_words(cx, value, path)
    return cx.strings(value, path)


def _env_pairs(cx: Any, value: Any, path: Path_) -> list[tuple[str, str]]:
    """`KEY=VALUE` list, `{KEY: VALUE}` map or a list of one-key maps; order kept."""
    from .dagu import _env

    return list(_env(cx, value, path))

