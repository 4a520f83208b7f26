"""Dagu's container steps → `Container` actions (research/dagu.md §3).

- `executor: docker` (V1 `config:`) / `type: docker` (V2 `with:`): a fresh container per step,
  the step's command becomes the container Cmd (the image ENTRYPOINT is kept), kept after it
  exits unless `autoRemove`; with `containerName` and no image: `docker exec` into it.
- step-level `container:` (object: own container per step; string: exec into that container).
- DAG-level `container:`: one keep-alive container per run, every step `docker exec`'d into it.
Keys are matched case-insensitively in every dialect, as Dagu's decoders do.
"""

from __future__ import annotations

import shlex
from typing import Any, Literal

from ..model import Container

Path_ = tuple
PullPolicy = Literal["missing", "always", "never"]

# executor config (V1 `config`, V2 `with`): canonical key -> state, as in dagu.py's tables
EXECUTOR_KEYS = {
    "image": "ok", "container_name": "ok", "pull": "ok", "auto_remove": "ok", "platform": "ok",
    "container": "ok", "host": "ok", "exec": "ok", "network": "unsupported",
}
# Docker's container.Config / HostConfig / exec options, as Dagu passes them through
CONFIG_KEYS = {"env": "ok", "entrypoint": "ok", "cmd": "ok", "user": "ok", "working_dir": "ok",
               "image": "ok", "labels": "ignored", "hostname": "ignored", "tty": "ignored",
               "attach_stdout": "ignored", "attach_stderr": "ignored"}
HOST_KEYS = {"binds": "ok", "network_mode": "ok", "auto_remove": "ok", "privileged": "unsupported",
             "mounts": "unsupported", "port_bindings": "unsupported", "resources": "unsupported",
             "memory": "unsupported", "cap_add": "unsupported", "dns": "unsupported",
             "extra_hosts": "unsupported", "shm_size": "unsupported", "ipc_mode": "unsupported"}
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
    f = cx.fields(config, cpath, EXECUTOR_KEYS, "docker executor")
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
    if "host" in f:
        h = _sub(cx, f["host"], HOST_KEYS, "host config")
        volumes = tuple(cx.strings(*h["binds"])) if "binds" in h else ()
        network = cx.string(*h["network_mode"]) if "network_mode" in h else None
        if "auto_remove" in h and cx.boolean(*h["auto_remove"]):
            keep = False
    if "exec" in f:
        e = _sub(cx, f["exec"], EXEC_KEYS, "exec options")
        env += _env_pairs(cx, *e["env"]) if "env" in e else []
        user = cx.string(*e["user"]) if "user" in e else user
        workdir = cx.string(*e["working_dir"]) if "working_dir" in e else workdir
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


def _sub(cx: Any, item: tuple[Any, Path_], table: dict[str, str], what: str) -> dict[str, tuple[Any, Path_]]:
    value, path = item
    if not isinstance(value, dict):
        cx.problems.error(path, f"{what} must be a mapping")
        return {}
    return cx.fields(value, path, table, what)


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

