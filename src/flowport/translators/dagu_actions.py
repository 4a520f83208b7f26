"""Dagu V3 `action:` + `with:` steps, rewritten into the fields Dagu itself normalizes them to
(dagucloud/dagu 532c512 `internal/spec/step_v2.go` builtinActionNormalizers), so the rest of
the translator treats them like V1/V2 steps. Actions flowport runs: `exec`, `noop`,
`docker.run`, `container.run`, `mail.send`, `sqlite.query`, `http.request`, `dag.run`; the others are
reported as not supported."""

from __future__ import annotations

from typing import Any

Path_ = tuple
Fields = dict[str, tuple[Any, Path_]]

# fields an action step cannot have (Dagu: "action cannot be used together with …")
LEGACY_EXECUTION = ("command", "script", "exec", "type", "executor", "run", "config")
EXECUTORS = {"docker.run": "docker", "container.run": "container", "mail.send": "mail", "sqlite.query": "sqlite",
             "http.request": "http"}
COMMAND_FIELD = {"docker.run": "command", "container.run": "command", "sqlite.query": "query"}


def apply_action(cx: Any, f: Fields) -> str:
    """Rewrite `f` in place; the executor type the action stands for ("" = shell)."""
    value, apath = f["action"]
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        cx.problems.error(apath, "`action:` must name an action", hint="e.g. exec, docker.run, mail.send")
        return ""
    for key in LEGACY_EXECUTION:
        if key in f:
            cx.problems.error(f[key][1], f"`action:` cannot be used together with `{key}:`", key=True)
    with_value, wpath = f.get("with", ({}, (*apath[:-1], "with")))
    if with_value is None:
        with_value = {}
    if not isinstance(with_value, dict):
        cx.problems.error(wpath, "`with:` must be a mapping")
        return ""
    with_ = dict(with_value)
    if name == "exec":
        f.pop("with", None)
        for key in with_:
            if key not in ("command", "args"):
                cx.problems.error((*wpath, key), f"the exec action does not take `with.{key}`", hint="with: {command, args}")
        f["exec"] = (with_, wpath)
        return ""
    if name == "noop":
        if with_:
            cx.problems.error(wpath, "the noop action takes no `with:`")
        f.pop("with", None)
        return ""  # a step with nothing to run succeeds
    if name == "dag.run":  # Dagu normalizeDagRunAction: `with.dag` → call, `with.params` → params
        f.pop("with", None)
        for key in with_:
            if key not in ("dag", "params"):
                cx.problems.error((*wpath, key), f"the dag.run action does not take `with.{key}`", hint="with: {dag, params}")
        if "dag" not in with_:
            cx.problems.error(wpath, "the dag.run action needs `with.dag`", hint="with: {dag: child, params: {A: 1}}")
            return ""
        f["call"] = (with_["dag"], (*wpath, "dag"))
        if "params" in with_:
            if "params" in f:
                cx.problems.error(f["params"][1], "give the params once: in `with.params`", key=True)
            f["params"] = (with_["params"], (*wpath, "params"))
        return ""
    if name in EXECUTORS:
        field = COMMAND_FIELD.get(name)
        if field and field in with_:
            f["command"] = (with_.pop(field), (*wpath, field))
        elif name == "sqlite.query":
            cx.problems.error(wpath, "the sqlite.query action needs `with.query`")
        if name == "http.request":
            for key in ("method", "url"):
                if not isinstance(with_.get(key), str) or not with_[key].strip():
                    cx.problems.error(wpath, f"the http.request action needs `with.{key}`")
        if with_:
            f["with"] = (with_, wpath)
        else:
            f.pop("with", None)
        return EXECUTORS[name]
    cx.problems.unsupported(apath, f"the {name!r} action", hint="flowport runs exec, noop, docker.run, container.run, mail.send, sqlite.query, http.request and dag.run")
    f.pop("with", None)
    return ""


def exec_argv(cx: Any, value: Any, path: Path_) -> tuple[str, ...]:
    """`exec:` — Dagu's `{command, args}` (args: strings or scalars), or an argv list."""
    if isinstance(value, list):
        return tuple(cx.strings(value, path))
    if not isinstance(value, dict):
        cx.problems.error(path, "`exec:` is a mapping {command, args}", hint="exec: {command: python3, args: [-V]}")
        return ()
    command = value.get("command")
    if not isinstance(command, str) or not command.strip():
        cx.problems.error(path, "`exec.command` must be a non-empty string")
        return ()
    args = value.get("args") or []
    if not isinstance(args, list):
        cx.problems.error((*path, "args"), "`exec.args` must be a list")
        return ()
    argv = [command.strip()]
    for i, arg in enumerate(args):
        if isinstance(arg, (dict, list)) or arg is None:
            cx.problems.error((*path, "args", i), "exec args must be strings or scalar values")
        else:
            argv.append(str(arg).lower() if isinstance(arg, bool) else str(arg))
    for key in value:
        if key not in ("command", "args"):
            cx.problems.error((*path, key), f"unknown key {key!r} in `exec:`", hint="exec: {command, args}")
    return tuple(argv)
