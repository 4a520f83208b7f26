"""Dagu DAG YAML → IR.

Accepts the three dialects found in the wild (research/dagu.md §0): V1 camelCase (keys
matched case-insensitively, as Dagu 1.x's mapstructure does), V2 snake_case, and the V3
`run:` form. Keys are normalised by lower-casing and dropping underscores, so `handlerOn`,
`handler_on` and `HandlerOn` are one key. Everything not implemented is reported with its
location; nothing is silently ignored.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..model import (
    ContinueOn,
    DagRetry,
    Handlers,
    Param,
    Precondition,
    Repeat,
    Retry,
    Semantics,
    Shell,
    Step,
    SubDag,
    Where,
    Workflow,
    Container,
    DAG_CONTAINER,
)
from .dagu_actions import apply_action, exec_argv
from .dagu_calls import call_action, call_target
from .dagu_docker import (SPLIT_HINT, command_argv, container_field, executor_container, split_problem,
                          split_words)
from .dagu_http import http_action
from .dagu_mail import mail_action, mail_settings
from .dagu_outputs import artifacts_dir, mentions_artifacts_dir, redirect, structured_output
from .dagu_secrets import secret_refs
from .dagu_sql import sqlite_action
from .fields import Fields, Reader, dependency_cycle, kind_of
from .source import Document, Mark, Problem, Problems, format_path, unknown_key_hint

Path_ = tuple  # a key path inside the document


def norm(key: Any) -> str:
    return str(key).lower().replace("_", "").replace("-", "")


# canonical (snake_case) key -> what we do with it. "ok": implemented; "ignored": accepted,
# no effect under Prefect (reported by `plan`); "unsupported": rejected by `validate`.
DAG_KEYS: dict[str, str] = {
    "name": "ok", "description": "ok", "group": "ignored", "tags": "ok", "labels": "ok",
    "type": "ok", "schedule": "ok", "params": "ok", "env": "ok", "dotenv": "ok",
    "working_dir": "ok", "shell": "ok", "timeout_sec": "ok", "max_active_steps": "ok",
    "delay_sec": "ok", "max_clean_up_time_sec": "ok", "preconditions": "ok",
    "precondition": "ok", "handler_on": "ok", "steps": "ok",
    "log_dir": "ignored", "hist_retention_days": "ignored", "hist_retention_runs": "ignored",
    "max_active_runs": "ignored", "skip_if_successful": "ignored", "restart_wait_sec": "ignored",
    "catchup_window": "ignored", "overlap_policy": "ignored", "max_output_size": "ignored",
    "queue": "ignored", "worker_selector": "ignored", "run_config": "ignored", "otel": "ignored",
    "log_output": "ignored", "artifacts": "ok", "resources": "ignored", "shell_args": "ok",
    "mail_on": "ok", "smtp": "ok", "error_mail": "ok",
    "info_mail": "ok", "wait_mail": "unsupported", "container": "ok",
    "registry_auths": "unsupported", "ssh": "unsupported", "secrets": "ok",
    "s3": "unsupported", "redis": "unsupported", "llm": "unsupported", "defaults": "ok",
    "retry_policy": "ok", "consts": "unsupported", "webhook": "unsupported",
    "kubernetes": "unsupported", "harness": "unsupported", "harnesses": "unsupported",
    "step_types": "unsupported", "actions": "unsupported", "tools": "unsupported",
    "tasks": "unsupported",
}
STEP_KEYS: dict[str, str] = {
    "name": "ok", "id": "ok", "description": "ok", "command": "ok", "script": "ok",
    "shell": "ok", "dir": "ok", "working_dir": "ok", "env": "ok", "output": "ok",
    "outputs": "ok", "depends": "ok", "preconditions": "ok", "precondition": "ok",
    "continue_on": "ok", "retry_policy": "ok", "timeout_sec": "ok", "signal_on_stop": "ok",
    "stdout": "ok", "stderr": "ok", "run": "ok", "exec": "ok", "executor": "ok", "type": "ok",
    "log_output": "ignored", "worker_selector": "ignored", "shell_packages": "unsupported",
    "call": "ok", "params": "ok", "parallel": "ok",
    "repeat_policy": "ok", "mail_on_error": "ok", "container": "ok",
    "config": "ok", "with": "ok", "action": "ok",
    "llm": "unsupported", "messages": "unsupported", "agent": "unsupported",
    "approval": "unsupported", "value": "unsupported", "routes": "unsupported",
    "shell_args": "ok", "dependencies": "ignored", "foreach": "unsupported", "inputs": "unsupported",
    "output_schema": "unsupported", "tools": "unsupported",
}
# a `schedule:` list entry written as a mapping (Dagu ≥ 2.13)
SCHEDULE_ENTRY_KEYS = {"kind": "ok", "expression": "ok", "at": "unsupported", "profile": "unsupported"}
# a V2/V3 `params:` list entry with a name; the value checks Dagu runs on a param are not run
PARAM_ENTRY_KEYS = {"name": "ok", "default": "ok", "description": "ok", "type": "ignored",
                    "required": "ignored", "enum": "ignored", "eval": "ignored", "min_length": "ignored",
                    "max_length": "ignored", "minimum": "ignored", "maximum": "ignored", "pattern": "ignored"}
# Dagu's `defaults:` (spec/defaults.go): applied to every step and handler that does not set
# the key itself; `env` and `preconditions` are put before the step's own.
DEFAULTS_KEYS = {k: "ok" for k in ("continue_on", "retry_policy", "repeat_policy", "timeout_sec",
                                   "mail_on_error", "signal_on_stop", "env", "preconditions")}
HANDLER_KEYS = {"success": "success", "failure": "failure", "cancel": "cancel",
                "abort": "cancel", "exit": "exit", "init": "init", "wait": None}
SHELL_EXECUTORS = {"", "command", "shell"}
MAIL_EXECUTORS = {"mail"}
DOCKER_EXECUTORS = {"docker", "container"}
SQL_EXECUTORS = {"sqlite"}
HTTP_EXECUTORS = {"http"}
CONFIGURED = DOCKER_EXECUTORS | MAIL_EXECUTORS | SQL_EXECUTORS | HTTP_EXECUTORS
# V1 spellings shown in hints, so a camelCase user reads camelCase.
CAMEL = {"handler_on": "handlerOn", "working_dir": "workingDir", "timeout_sec": "timeoutSec",
         "max_active_steps": "maxActiveSteps", "delay_sec": "delaySec",
         "max_clean_up_time_sec": "maxCleanUpTimeSec", "continue_on": "continueOn",
         "retry_policy": "retryPolicy", "signal_on_stop": "signalOnStop",
         "mail_on": "mailOn", "error_mail": "errorMail", "info_mail": "infoMail",
         "mail_on_error": "mailOnError", "repeat_policy": "repeatPolicy",
         "exit_code": "exitCode", "mark_success": "markSuccess", "interval_sec": "intervalSec",
         "max_interval_sec": "maxIntervalSec", "log_dir": "logDir"}



class _Ctx(Reader):
    """Translation state for one document; reads keys the Dagu way."""

    key_fold = staticmethod(norm)  # Dagu 1.x's mapstructure: case-insensitive, `_`/`-` ignored
    any_case_bools = True

    def __init__(self, doc: Document, dialect: str) -> None:
        super().__init__(Problems(doc), [])
        self.doc = doc
        self.dialect = dialect
        self.defaults: dict[str, Any] = {}  # `defaults:` as Step field values

    def where(self, path: Path_) -> Where:
        m = self.doc.mark(path)
        return Where(m.file, m.line, m.col)

    def spell(self, key: str) -> str:
        return CAMEL.get(key, key) if self.dialect == "dagu-v1" else key


def detect_dialect(data: dict) -> str:
    """dagu-v1 (camelCase), dagu-v2 (snake_case) or dagu-v3 (`run:` steps), judged from the
    structural keys only (top level, steps, handlers), never from env or param names."""
    v1_markers = {"handlerOn", "mailOn", "errorMail", "infoMail", "retryPolicy", "continueOn",
                  "timeoutSec", "maxActiveSteps", "delaySec", "workingDir", "executor", "dir",
                  "precondition", "command", "mailOnError", "repeatPolicy", "signalOnStop",
                  "histRetentionDays", "logDir", "maxActiveRuns", "maxCleanUpTimeSec"}
    keys: set[str] = {str(k) for k in data}
    steps = data.get("steps")
    items = list(steps.values()) if isinstance(steps, dict) else list(steps or []) if isinstance(steps, list) else []
    v1_call = False  # `run:` + `params:` on one step: a V1 sub-DAG call (V3 `run:` takes no params)
    for item in items:
        for step in item if isinstance(item, list) else [item]:
            if isinstance(step, dict):
                keys.update(str(k) for k in step)
                v1_call = v1_call or {"run", "params"} <= {norm(k) for k in step}
    for name in ("handlerOn", "handler_on", "HandlerOn"):
        handlers = data.get(name)
        if isinstance(handlers, dict):
            for h in handlers.values():
                if isinstance(h, dict):
                    keys.update(str(k) for k in h)
    lowered = {norm(k) for k in keys}
    if keys & v1_markers or any(k != k.lower() for k in keys) or v1_call:
        return "dagu-v1"
    if "run" in lowered or "action" in lowered:
        return "dagu-v3"
    if any("_" in k for k in keys):
        return "dagu-v2"
    return "dagu-v1"


# Over 80 lines on purpose: the DAG's top-level keys, one or two lines each, in the order
# Dagu's spec loader reads them; splitting it would scatter one table over several functions.
def translate_document(doc: Document, *, source_file: str | None = None) -> tuple[Workflow | None, Problems, list[str]]:
    data = doc.data
    if not isinstance(data, dict):
        p = Problems(doc)
        p.error((), f"a Dagu DAG is a mapping of keys, got {kind_of(data)}")
        return None, p, []
    dialect = detect_dialect(data)
    cx = _Ctx(doc, dialect)
    top = cx.fields(data, (), DAG_KEYS, "DAG")
    file = source_file or doc.file
    name = Path(file).stem
    if "name" in top:
        name = cx.string(*top["name"]) or name

    workdir = _workdir(cx, top, file)

    shell: tuple[str, ...] = ()
    if "shell" in top:
        shell = _shell(cx, *top["shell"])
    shell = _shell_args(cx, top, shell)

    params, params_text = _params(cx, *top["params"]) if "params" in top else ((), None)
    env = _env(cx, *top["env"]) if "env" in top else ()
    dotenv = tuple(cx.strings(*top["dotenv"])) if "dotenv" in top else ()
    preconditions = ()
    for key in ("preconditions", "precondition"):
        if key in top:
            preconditions += _preconditions(cx, *top[key])

    steps_value, steps_path = top.get("steps", ([], ("steps",)))
    raw_steps = _flatten_steps(cx, steps_value, steps_path)
    chain = _is_chain(cx, top, raw_steps)

    container = None
    container_shell: tuple[str, ...] = ()
    if "container" in top:
        container, container_shell = container_field(cx, *top["container"], dag_level=True)
    if "defaults" in top:
        cx.defaults = _defaults(cx, *top["defaults"])
    steps = _steps(cx, raw_steps, chain=chain, dialect=dialect)
    handlers = _handlers(cx, *top["handler_on"]) if "handler_on" in top else Handlers()
    if container is not None:
        steps = [_in_dag_container(cx, s, container, container_shell) for s in steps]
        handlers = Handlers(**{k: _in_dag_container(cx, h, container, container_shell) for k, h in handlers.items()})

    timeout, max_active, delay, grace = _limits(cx, top)
    dag_retry = _dag_retry(cx, *top["retry_policy"]) if "retry_policy" in top else None
    secrets = secret_refs(cx, *top["secrets"]) if "secrets" in top else ()
    schedule, tags = _schedule_and_tags(cx, top)
    nodes = [*steps, *(h for _, h in handlers.items())]
    uses_artifacts = any(n.stdout_artifact or n.stderr_artifact for n in nodes) or mentions_artifacts_dir(data)
    artifacts = artifacts_dir(cx, top, uses_artifacts)
    if cx.problems:
        return None, cx.problems, cx.ignored
    wf = Workflow(
        name=name,
        dialect=dialect,
        source_file=file,
        workdir=workdir,
        steps=tuple(steps),
        params=params,
        params_text=params_text,
        env=env,
        dotenv=dotenv,
        handlers=handlers,
        preconditions=preconditions,
        timeout=timeout,
        max_active_steps=max_active,
        delay=delay,
        shell=shell,
        container=container,
        container_shell=container_shell,
        mail=mail_settings(cx, top),
        retry=dag_retry,
        secrets=secrets,
        artifacts_dir=artifacts,
        schedule=schedule,
        description=cx.string(*top["description"]) if "description" in top else None,
        tags=tags,
        semantics=Semantics(
            vocabulary="dagu",
            stop_grace_seconds=5.0 if grace is None else grace,
            run_backticks=dialect != "dagu-v3",
        ),
        ignored=tuple(cx.ignored),
    )
    return wf, cx.problems, cx.ignored


def _workdir(cx: _Ctx, top: Fields, file: str) -> str:
    workdir = str(Path(file).resolve().parent)
    if "working_dir" in top:
        wd = cx.string(*top["working_dir"])
        if wd:
            # relative to the DAG file; `${VAR}` / `~` are resolved at run time by the engine
            workdir = wd if ("$" in wd or wd.startswith("~") or Path(wd).is_absolute()) else str(Path(workdir, wd).resolve())
    return workdir


def _is_chain(cx: _Ctx, top: Fields, raw_steps: list[tuple[Any, Path_, int | None]]) -> bool:
    """`type: chain` (each step depends on the one before) or `type: graph`."""
    has_depends = any(isinstance(s, dict) and any(norm(k) == "depends" for k in s) for s, _, _ in raw_steps)
    if "type" in top:
        kind = cx.string(*top["type"])
        if kind not in ("chain", "graph", None):
            cx.problems.error(top["type"][1], f"unknown DAG type {kind!r}", hint="use 'chain' or 'graph'")
        return kind == "chain"
    return not has_depends  # research/dagu.md §2.5: any `depends` means the author meant a graph


def _limits(cx: _Ctx, top: Fields) -> tuple[float | None, int, float, float | None]:
    """timeoutSec, maxActiveSteps, delaySec and maxCleanUpTimeSec."""
    def seconds(key: str) -> float | None:
        return cx.number(*top[key]) if key in top else None

    timeout = seconds("timeout_sec") or None
    max_active = int(cx.number(*top["max_active_steps"], integer=True) or 0) if "max_active_steps" in top else 0
    delay = seconds("delay_sec") or 0.0
    grace = seconds("max_clean_up_time_sec")
    return timeout, max_active, delay, grace


def _schedule_and_tags(cx: _Ctx, top: Fields) -> tuple[tuple[str, ...], tuple[str, ...]]:
    schedule: tuple[str, ...] = ()
    if "schedule" in top:
        value, path = top["schedule"]
        if isinstance(value, dict):
            cx.problems.unsupported(path, "schedule with start/stop/restart")
        elif isinstance(value, list):
            entries = []
            for i, item in enumerate(value):
                if isinstance(item, dict):  # {expression: "0 * * * *", kind: cron}
                    e = cx.fields(item, (*path, i), SCHEDULE_ENTRY_KEYS, "schedule entry")
                    if "kind" in e and cx.string(*e["kind"]) not in ("cron", None):
                        cx.problems.unsupported(e["kind"][1], f"schedule entry kind {e['kind'][0]!r}")
                    if "expression" in e:
                        entries.append(cx.string(*e["expression"]) or "")
                else:
                    entries.extend(cx.strings(item, (*path, i)))
            schedule = tuple(entries)
        else:
            schedule = tuple(cx.strings(value, path))
    tags: tuple[str, ...] = ()
    for key in ("tags", "labels"):
        if key in top:
            value, path = top[key]
            items = value.split(",") if isinstance(value, str) else cx.strings(value, path)
            tags += tuple(t.strip() for t in items if str(t).strip())
    return schedule, tags


# ---------------------------------------------------------------- pieces


def _shell(cx: _Ctx, value: Any, path: Path_) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(cx.strings(value, path))
    s = cx.string(value, path)
    return tuple(split_words(cx, s, path)) if s else ()


def _shell_args(cx: _Ctx, f: Fields, shell: tuple[str, ...]) -> tuple[str, ...]:
    """`shell_args`: arguments appended to the `shell` they go with."""
    if "shell_args" not in f:
        return shell
    value, path = f["shell_args"]
    if not shell:
        cx.problems.unsupported(path, "`shell_args` without a `shell` next to it", key=True,
                                hint="name the shell too, e.g. `shell: bash`")
        return shell
    return (*shell, *(cx.str_list(value, path) or ()))


def _params(cx: _Ctx, value: Any, path: Path_) -> tuple[tuple[Param, ...], str | None]:
    if value is None:
        return (), None
    if isinstance(value, str):
        return (), value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (), str(value)
    out: list[Param] = []
    if isinstance(value, dict) and _schema_params(value):
        if "properties" in value:  # Dagu's inline JSON schema
            cx.problems.unsupported(path, "params given as a JSON schema (`type: object` + `properties`)")
            return (), None
        cx.ignored.append(f"{format_path((*path, 'schema'))}: no effect under Prefect")
        value = value.get("values") or {}
        if not isinstance(value, dict):
            cx.problems.error((*path, "values"), f"params `values` must be a mapping, got {kind_of(value)}")
            return (), None
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(Param(str(k), _scalar(v)))
        return tuple(out), None
    if not isinstance(value, list):
        cx.problems.error(path, f"params must be a string, a mapping or a list, got {kind_of(value)}")
        return (), None
    position = 0
    for i, item in enumerate(value):
        ipath = (*path, i)
        if isinstance(item, dict) and "name" in item and not (len(item) == 1):
            # V2/V3 schema form: {name, default, description, type, required, enum}
            e = cx.fields(item, ipath, PARAM_ENTRY_KEYS, "param")
            default = e["default"][0] if "default" in e else None
            description = e["description"][0] if "description" in e else None
            out.append(Param(str(item["name"]), None if default is None else _scalar(default), description))
        elif isinstance(item, dict):
            for k, v in item.items():
                out.append(Param(str(k), _scalar(v)))
        elif isinstance(item, str) and "=" in item:
            k, _, v = item.partition("=")
            out.append(Param(k.strip(), v))
        elif isinstance(item, (str, int, float)):
            position += 1
            out.append(Param(str(position), str(item)))
        else:
            cx.problems.error(ipath, f"a parameter is a NAME=VALUE string or a mapping, got {kind_of(item)}")
    return tuple(out), None


def _schema_params(value: dict) -> bool:
    """Dagu's two JSON-schema forms of `params:` (spec/params.go): `{schema, values}` (when
    `values` is there, or `schema` is a mapping, a URL or a path) and `{type: object,
    properties}`; any other mapping names params."""
    if value.get("type") == "object" and isinstance(value.get("properties"), dict):
        return True
    if "schema" not in value or not set(value) <= {"schema", "values"}:
        return False
    schema = value["schema"]
    return "values" in value or isinstance(schema, dict) or (
        isinstance(schema, str) and ("://" in schema or any(c in schema for c in "./\\")))


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _env(cx: _Ctx, value: Any, path: Path_) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), _scalar(v)) for k, v in value.items())
    if not isinstance(value, list):
        cx.problems.error(path, f"env must be a mapping or a list, got {kind_of(value)}")
        return ()
    for i, item in enumerate(value):
        if isinstance(item, dict):
            out.extend((str(k), _scalar(v)) for k, v in item.items())
        elif isinstance(item, str) and "=" in item:
            k, _, v = item.partition("=")
            out.append((k.strip(), v))
        else:
            cx.problems.error((*path, i), "an env entry is KEY=VALUE or a mapping", hint="e.g. `- LOG_DIR=/tmp/logs`")
    return tuple(out)


def _preconditions(cx: _Ctx, value: Any, path: Path_) -> tuple[Precondition, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        ipath = (*path, i) if isinstance(value, list) else path
        if isinstance(item, str):
            out.append(Precondition(condition=item))
        elif isinstance(item, dict):
            known = {"condition": "ok", "expected": "ok", "negate": "ok", "eval": "unsupported"}
            f = cx.fields(item, ipath, known, "precondition")
            if "condition" not in f:
                cx.problems.error(ipath, "a precondition needs `condition`")
                continue
            cond = cx.string(*f["condition"]) or ""
            expected = cx.string(*f["expected"]) if "expected" in f else None
            negate = cx.boolean(*f["negate"]) if "negate" in f else False
            out.append(Precondition(cond, expected, negate))
        else:
            cx.problems.error(ipath, f"a precondition is a command string or {{condition, expected}}, got {kind_of(item)}")
    return tuple(out)


def _retry(cx: _Ctx, value: Any, path: Path_) -> Retry | None:
    if not isinstance(value, dict):
        cx.problems.error(path, f"retryPolicy must be a mapping, got {kind_of(value)}")
        return None
    known = {"limit": "ok", "interval_sec": "ok", "exit_code": "ok", "backoff": "ok", "max_interval_sec": "ok"}
    f = cx.fields(value, path, known, "retryPolicy")
    limit = cx.number(*f["limit"], integer=True) if "limit" in f else 0
    interval = cx.number(*f["interval_sec"]) if "interval_sec" in f else 0
    backoff = _backoff(cx, *f["backoff"]) or 1.0 if "backoff" in f else 1.0
    max_interval = cx.number(*f["max_interval_sec"]) if "max_interval_sec" in f else None
    codes = cx.int_list(*f["exit_code"]) if "exit_code" in f else ()
    return Retry(int(limit or 0), float(interval or 0), backoff, max_interval, codes)


def _backoff(cx: _Ctx, value: Any, path: Path_) -> float:
    """`backoff: true` = 2.0, a number > 1 = that multiplier; 0 = none."""
    if isinstance(value, bool):
        return 2.0 if value else 0.0
    n = cx.number(value, path)
    if n is not None and n <= 1:
        cx.problems.error(path, f"backoff must be true or a number greater than 1, got {value}")
    return n or 0.0


DAG_RETRY_HINT = "e.g. `retry_policy: {limit: 3, interval_sec: 60, backoff: true}`"


def _dag_retry(cx: _Ctx, value: Any, path: Path_) -> DagRetry | None:
    """The DAG-level `retry_policy` (Dagu spec/dag.go buildDAGRetryPolicy): concrete values
    only, since Dagu's scheduler decides retries from the stored DAG without expanding them."""
    if value is None:
        return None
    if not isinstance(value, dict):
        cx.problems.error(path, f"retry_policy must be a mapping, got {kind_of(value)}", hint=DAG_RETRY_HINT)
        return None
    known = {"limit": "ok", "interval_sec": "ok", "backoff": "ok", "max_interval_sec": "ok"}
    f = cx.fields(value, path, known, "retry_policy")
    if "limit" not in f or f["limit"][0] is None:
        where = f["limit"][1] if "limit" in f else path
        cx.problems.error(where, "limit is required when retry_policy is specified", hint=DAG_RETRY_HINT)
        return None
    limit = _dag_retry_int(cx, *f["limit"], minimum=0)
    interval = _dag_retry_int(cx, *f["interval_sec"], minimum=1) if "interval_sec" in f else 60
    max_interval = _dag_retry_int(cx, *f["max_interval_sec"], minimum=1) if "max_interval_sec" in f else 3600
    backoff = 0.0
    if "backoff" in f and f["backoff"][0] is not None:
        raw, bpath = f["backoff"]
        if isinstance(raw, (bool, int, float)):
            backoff = _backoff(cx, raw, bpath)
        else:
            cx.problems.error(bpath, f"backoff must be true, false or a number greater than 1, got {kind_of(raw)}")
    if limit is None or interval is None or max_interval is None or not limit:
        return None  # a limit of 0 turns DAG retries off (Dagu)
    return DagRetry(limit=limit, interval=float(interval), backoff=backoff, max_interval=float(max_interval))


def _dag_retry_int(cx: _Ctx, value: Any, path: Path_, *, minimum: int) -> int | None:
    """A whole number ≥ `minimum`, or the same written in digits ("3"); never `${VAR}`."""
    name = str(path[-1])  # as the user spelled it
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number: Any = int(value)
    else:
        number = value
    if isinstance(number, bool) or not isinstance(number, int):
        hint = ("the DAG retry policy is read when the DAG is loaded: Dagu does not expand variables in it"
                if isinstance(value, str) and "$" in value else DAG_RETRY_HINT)
        cx.problems.error(path, f"{name} must be a whole number or a string of digits, got {kind_of(value)} "
                                f"{str(value)[:40]!r}", hint=hint)
        return None
    if number < minimum:
        cx.problems.error(path, f"{name} must be {'>= 0' if minimum == 0 else '> 0'}, got {number}",
                          hint=DAG_RETRY_HINT)
        return None
    return cx.whole(number, path, minimum)


def _repeat(cx: _Ctx, value: Any, path: Path_) -> Repeat | None:
    """`repeatPolicy` (dagucloud/dagu 532c512 `internal/spec/step.go` buildStepRepeatPolicy)."""
    if not isinstance(value, dict):
        cx.problems.error(path, f"repeatPolicy must be a mapping, got {kind_of(value)}")
        return None
    known = {"repeat": "ok", "interval_sec": "ok", "limit": "ok", "condition": "ok", "expected": "ok",
             "exit_code": "ok", "backoff": "ok", "max_interval_sec": "ok"}
    f = cx.fields(value, path, known, "repeatPolicy")
    condition = cx.string(*f["condition"]) or "" if "condition" in f else ""
    expected = cx.string(*f["expected"]) if "expected" in f else None
    codes = cx.int_list(*f["exit_code"]) if "exit_code" in f else ()
    mode = None
    if "repeat" in f:
        repeat, rpath = f["repeat"]
        if isinstance(repeat, bool):
            mode = "while" if repeat else None
        elif repeat in ("while", "until"):
            mode = repeat
            if not condition and not codes:
                cx.problems.error(rpath, f"repeat mode {repeat!r} needs `condition` or `exitCode`")
        else:
            cx.problems.error(rpath, f"repeat must be true, false, 'while' or 'until', got {repeat!r}")
    if mode is None:
        # Dagu's inference when `repeat` is unset (or false): condition+expected → until, else while
        if condition and expected is not None:
            mode = "until"
        elif condition or codes:
            mode = "while"
    if mode is None:
        return None
    return Repeat(
        mode=mode,
        interval=cx.number(*f["interval_sec"]) or 0.0 if "interval_sec" in f else 0.0,
        limit=int(cx.number(*f["limit"], integer=True) or 0) if "limit" in f else 0,
        condition=Precondition(condition, expected) if condition else None,
        exit_codes=codes,
        backoff=_backoff(cx, *f["backoff"]) if "backoff" in f else 0.0,
        max_interval=cx.number(*f["max_interval_sec"]) or None if "max_interval_sec" in f else None,
    )


def _continue_on(cx: _Ctx, value: Any, path: Path_) -> ContinueOn:
    if isinstance(value, str):  # V2 shorthand
        if value in ("failed", "failure"):
            return ContinueOn(failure=True)
        if value == "skipped":
            return ContinueOn(skipped=True)
        cx.problems.error(path, f"unknown continueOn value {value!r}", hint="use 'failed' or 'skipped', or a mapping")
        return ContinueOn()
    if not isinstance(value, dict):
        cx.problems.error(path, f"continueOn must be a mapping, got {kind_of(value)}")
        return ContinueOn()
    known = {"failure": "ok", "failed": "ok", "skipped": "ok", "exit_code": "ok", "output": "ok", "mark_success": "ok"}
    f = cx.fields(value, path, known, "continueOn")
    return ContinueOn(
        failure=any(cx.boolean(*f[k]) for k in ("failure", "failed") if k in f),
        skipped=cx.boolean(*f["skipped"]) if "skipped" in f else False,
        exit_codes=cx.int_list(*f["exit_code"]) if "exit_code" in f else (),
        output=tuple(cx.strings(*f["output"])) if "output" in f else (),
        mark_success=cx.boolean(*f["mark_success"]) if "mark_success" in f else False,
    )


def _flatten_steps(cx: _Ctx, value: Any, path: Path_) -> list[tuple[Any, Path_, int | None]]:
    """(raw step, path, parallel group number or None) in document order. A map of
    name -> step is accepted (Dagu `steps` may be a map)."""
    out: list[tuple[Any, Path_, int | None]] = []
    if value is None:
        return out
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, dict) and "name" not in item:
                item = {"name": name, **item}
            out.append((item, (*path, name), None))
        return out
    if not isinstance(value, list):
        cx.problems.error(path, f"steps must be a list or a mapping, got {kind_of(value)}")
        return out
    group = 0
    for i, item in enumerate(value):
        if isinstance(item, list):  # nested list: a parallel group
            group += 1
            for j, member in enumerate(item):
                out.append((member, (*path, i, j), group))
        else:
            out.append((item, (*path, i), None))
    return out


def _steps(cx: _Ctx, raw_steps: list[tuple[Any, Path_, int | None]], *, chain: bool, dialect: str) -> list[Step]:
    built: list[tuple[Step, Path_, int | None, bool]] = []  # step, path, group, explicit depends
    raw_steps_by_path = {path: {norm(k): v for k, v in raw.items()} for raw, path, _ in raw_steps if isinstance(raw, dict)}
    names: dict[str, Path_] = {}
    ids: dict[str, str] = {}
    for n, (raw, path, group) in enumerate(raw_steps, start=1):
        step, explicit = _step(cx, raw, path, n, dialect=dialect)
        if step is None:
            continue
        if step.name in names:
            cx.problems.error((*path, "name") if isinstance(raw, dict) and "name" in raw else path,
                              f"step name {step.name!r} is used twice (first at {format_path(names[step.name])})")
            continue
        names[step.name] = path
        if step.id:
            ids[step.id] = step.name
        built.append((step, path, group, explicit))

    # resolve `depends` (by name or id) and the implicit chain order
    result: list[Step] = []
    previous: list[str] = []  # what the next chain step waits for
    i = 0
    while i < len(built):
        step, path, group, explicit = built[i]
        members = [built[i]]
        if group is not None:
            while i + 1 < len(built) and built[i + 1][2] == group:
                i += 1
                members.append(built[i])
        current = []
        for step, path, g, explicit in members:
            deps = []
            raw_depends = raw_steps_by_path.get(path, {}).get("depends") if explicit else None
            for j, dep in enumerate(step.depends):
                target = dep if dep in names else ids.get(dep)
                if target is None:
                    where = (*path, "depends", j) if isinstance(raw_depends, list) else (*path, "depends")
                    cx.problems.error(where, f"step {step.name!r} depends on unknown step {dep!r}",
                                      hint=unknown_key_hint(dep, list(names) + list(ids)))
                    continue
                deps.append(target)
            if not explicit and (chain or g is not None):
                deps = list(previous)
            result.append(replace(step, depends=tuple(dict.fromkeys(deps))))
            current.append(step.name)
        previous = current
        i += 1
    _check_cycles(cx, result, names)
    return result


def _check_cycles(cx: _Ctx, steps: list[Step], paths: dict[str, Path_]) -> None:
    cycle = dependency_cycle({s.name: s.depends for s in steps})
    if cycle:
        cx.problems.error((*paths[cycle[-2]], "depends"), "dependency cycle: " + " -> ".join(cycle),
                          hint="remove one of these `depends`, or set `type: graph` if the chain order caused it")


def _defaults(cx: _Ctx, value: Any, path: Path_) -> dict[str, Any]:
    if value is None:
        return {}
    d = cx.fields(value, path, DEFAULTS_KEYS, "defaults")
    out: dict[str, Any] = {}
    if "retry_policy" in d:
        out["retry"] = _retry(cx, *d["retry_policy"])
    if "repeat_policy" in d:
        out["repeat"] = _repeat(cx, *d["repeat_policy"])
    if "timeout_sec" in d:
        out["timeout"] = cx.number(*d["timeout_sec"]) or None
    if "continue_on" in d:
        out["continue_on"] = _continue_on(cx, *d["continue_on"])
    if "mail_on_error" in d:
        out["mail_on_error"] = cx.boolean(*d["mail_on_error"])
    if "signal_on_stop" in d:
        out["signal_on_stop"] = cx.string(*d["signal_on_stop"])
    if "env" in d:
        out["env"] = _env(cx, *d["env"])
    if "preconditions" in d:
        out["preconditions"] = _preconditions(cx, *d["preconditions"])
    return out


def _with_defaults(cx: _Ctx, step: Step, own: Fields | dict, handler: str | None) -> Step:
    """Dagu's applyDefaults: a default fills what the step did not set itself."""
    if not cx.defaults:
        return step
    changes: dict[str, Any] = {}
    for key, field in (("retry_policy", "retry"), ("repeat_policy", "repeat"), ("timeout_sec", "timeout"),
                       ("continue_on", "continue_on"), ("mail_on_error", "mail_on_error"),
                       ("signal_on_stop", "signal_on_stop")):
        if field in cx.defaults and key not in own and not (handler and field == "repeat") and not (
                field == "timeout" and isinstance(step.action, SubDag)):  # a call step has no timeout here
            changes[field] = cx.defaults[field]
    if "env" in cx.defaults:
        changes["env"] = (*cx.defaults["env"], *step.env)
    if "preconditions" in cx.defaults:
        changes["preconditions"] = (*cx.defaults["preconditions"], *step.preconditions)
    return replace(step, **changes)


def _step(cx: _Ctx, raw: Any, path: Path_, n: int, *, dialect: str, handler: str | None = None) -> tuple[Step | None, bool]:
    if isinstance(raw, str):
        step = Step(name=f"cmd_{n}", action=_command_action(cx, raw, path, None), where=cx.where(path))
        return _with_defaults(cx, step, {}, handler), False
    if not isinstance(raw, dict):
        cx.problems.error(path, f"a step is a mapping or a command string, got {kind_of(raw)}")
        return None, False
    f = cx.fields(raw, path, STEP_KEYS, "step")
    sid = cx.string(*f["id"]) if "id" in f else None
    explicit_depends = "depends" in f
    depends: tuple[str, ...] = ()
    if explicit_depends:
        depends = tuple(cx.strings(*f["depends"])) if f["depends"][0] is not None else ()
        if handler:
            cx.problems.error(f["depends"][1], "handlers run after the steps; `depends` has no meaning here", key=True)

    executor_type, executor_config = _executor(cx, f)

    shell = _shell_args(cx, f, _shell(cx, *f["shell"]) if "shell" in f else ())
    target = call_target(f, dialect)
    if target is not None:
        action, kind = call_action(cx, f, target), "dag"  # Dagu names it dag_N (generateTypedStepName)
        if "timeout_sec" in f:
            cx.problems.unsupported(f["timeout_sec"][1], "`timeoutSec` on a step that calls a child DAG", key=True,
                                    hint="set `timeoutSec` in the child DAG: it bounds the child run")
    else:
        for key in ("params", "parallel"):
            if key in f and key == "parallel":
                cx.problems.error(f[key][1], "`parallel:` runs a child DAG per item: it needs `call:`", key=True,
                                  hint="e.g. `call: child` with `parallel: [a, b]`")
            elif key in f:
                cx.ignored.append(f"{format_path(f[key][1])}: no effect under Prefect")
        action, kind = _base_action(cx, f, shell, dialect)
        action = _executor_action(cx, f, path, action, shell, executor_type, executor_config)
    name = cx.string(*f["name"]) if "name" in f else (sid or f"{kind}_{n}")
    if handler:
        name = handler

    output, structured, declared = _outputs(cx, f)

    stdout_path, stdout_artifact = redirect(cx, "stdout", *f["stdout"]) if "stdout" in f else (None, None)
    stderr_path, stderr_artifact = redirect(cx, "stderr", *f["stderr"]) if "stderr" in f else (None, None)
    if stdout_artifact and stdout_artifact == stderr_artifact:
        cx.problems.error(f["stderr"][1], "`stdout.artifact` and `stderr.artifact` name the same file",
                          hint="use two files, or `log_output: merged`")

    preconditions: tuple[Precondition, ...] = ()
    for key in ("preconditions", "precondition"):
        if key in f:
            preconditions += _preconditions(cx, *f[key])
    workdir = None
    for key in ("dir", "working_dir"):
        if key in f:
            workdir = cx.string(*f[key])
    step = Step(
        name=name,
        id=sid,
        description=cx.string(*f["description"], allow_none=True) if "description" in f else None,
        action=action,
        depends=depends,
        preconditions=preconditions,
        retry=_retry(cx, *f["retry_policy"]) if "retry_policy" in f else None,
        repeat=_repeat(cx, *f["repeat_policy"]) if "repeat_policy" in f and not handler else None,
        timeout=(cx.number(*f["timeout_sec"]) or None) if "timeout_sec" in f else None,
        continue_on=_continue_on(cx, *f["continue_on"]) if "continue_on" in f else ContinueOn(),
        output=output,
        structured_output=structured,
        declared_outputs=tuple(declared),
        env=_env(cx, *f["env"]) if "env" in f else (),
        workdir=workdir,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        stdout_artifact=stdout_artifact,
        stderr_artifact=stderr_artifact,
        signal_on_stop=cx.string(*f["signal_on_stop"]) if "signal_on_stop" in f else None,
        mail_on_error=cx.boolean(*f["mail_on_error"]) if "mail_on_error" in f else False,
        where=cx.where(path),
    )
    return _with_defaults(cx, step, f, handler), explicit_depends


def _executor(cx: _Ctx, f: Fields) -> tuple[str, tuple[Any, Path_] | None]:
    """The step's executor type and its config (`executor:`, `type:`, `action:`, `config:`, `with:`)."""
    executor_type = apply_action(cx, f) if "action" in f else ""
    executor_config: tuple[Any, Path_] | None = None
    for key in ("executor", "type"):
        if key in f:
            value, kpath = f[key]
            named = value.get("type", "") if isinstance(value, dict) else value
            if not isinstance(named, (str, type(None))):
                where = (*kpath, "type") if isinstance(value, dict) else kpath
                cx.problems.error(where, f"an executor type is a name, got {kind_of(named)}",
                                  hint="e.g. `executor: docker` or `executor: {type: docker, config: {…}}`")
                return "", None
            executor_type = (named or "").strip()
            if isinstance(value, dict) and "config" in value:
                executor_config = (value["config"], (*kpath, "config"))
            if executor_type not in SHELL_EXECUTORS | CONFIGURED:
                cx.problems.unsupported(kpath, f"the {executor_type!r} executor",
                                        hint="flowport runs shell, docker, mail, sqlite and http steps")
    for key in ("config", "with"):
        if key in f:
            executor_config = f[key]
            if executor_type not in CONFIGURED:
                cx.problems.unsupported(f[key][1], f"`{key}:` for the {executor_type or 'command'!r} executor", key=True)
    return executor_type, executor_config


def _base_action(cx: _Ctx, f: Fields, shell: tuple[str, ...], dialect: str) -> tuple[Shell | None, str]:
    """What a shell step runs (`script`, `command`, `exec`, `run`), and the kind for its default name."""
    action = None
    kind = "cmd"
    if "script" in f:
        script = cx.string(*f["script"]) or ""
        interp = shell
        if "command" in f:  # command + script: the command is the interpreter
            interp = tuple(split_words(cx, cx.string(*f["command"]) or "", f["command"][1]))
        action = Shell(script=script, shell=interp)
        kind = "script"
    elif "command" in f:
        action = _command_action(cx, f["command"][0], f["command"][1], shell)
    elif "exec" in f:
        action = Shell(argv=exec_argv(cx, *f["exec"]))
    elif "run" in f:
        value, rpath = f["run"]
        if isinstance(value, list):
            action = Shell(script="\n".join(cx.strings(value, rpath)) + "\n", shell=shell)
        else:
            action = _command_action(cx, value, rpath, shell)
    return action, kind


def _executor_action(cx: _Ctx, f: Fields, path: Path_, action: Any, shell: tuple[str, ...],
                     executor_type: str, executor_config: tuple[Any, Path_] | None) -> Any:
    """The action for the step's executor; a shell action stays as it is."""
    executor_where = f.get("executor", f.get("type", f.get("action", (None, path))))[1]
    if executor_type in MAIL_EXECUTORS:
        action = mail_action(cx, executor_config, executor_where)
    elif executor_type in SQL_EXECUTORS:
        action = sqlite_action(cx, executor_config, executor_where, f.get("command"), f.get("script"))
    elif executor_type in HTTP_EXECUTORS:
        if "script" in f:
            cx.problems.unsupported(f["script"][1], "the http executor's config given as `script:`",
                                    hint="give it as `config:` (V1) or `with:`", key=True)
        action = http_action(cx, executor_config, executor_where, f.get("command"))
    elif executor_type in DOCKER_EXECUTORS or "container" in f:
        action = _container_action(cx, f, action, shell, executor_config, executor_type in DOCKER_EXECUTORS)
    elif action is None:
        action = Shell(command="true")  # Dagu: a step with nothing to run succeeds
    return action


def _outputs(cx: _Ctx, f: Fields) -> tuple[str | None, tuple, list[str]]:
    """`output:` (a variable name or structured outputs) and the names `outputs:` declares."""
    output = None
    structured = ()
    if "output" in f:
        value, opath = f["output"]
        if isinstance(value, dict):
            structured = structured_output(cx, value, opath)
        elif isinstance(value, str):
            output = value.strip().lstrip("$") or None
        elif value is not None:
            cx.problems.error(opath, "`output:` must be a variable name or a mapping of outputs")
    declared: list[str] = []
    if "outputs" in f:
        value, opath = f["outputs"]
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            ipath = (*opath, i) if isinstance(value, list) else opath
            if isinstance(item, dict) and set(item) <= {"name", "description"} and "name" in item:
                declared.append(str(item["name"]))
            elif isinstance(item, str):
                declared.append(item)
            else:
                cx.problems.unsupported(ipath, "`outputs:` entries other than `{name: …}`")
    return output, structured, declared


def _container_action(cx: _Ctx, f: dict, action: Shell | None, shell: tuple[str, ...],
                      executor_config: tuple[Any, Path_] | None, is_executor: bool) -> Container | None:
    """The step runs in a container: its command (if any) becomes the container Cmd."""
    if is_executor and "container" in f:
        cx.problems.error(f["container"][1], "use either the docker executor or `container:`, not both", key=True)
        return None
    own_shell: tuple[str, ...] = ()
    if is_executor:
        if executor_config is None:
            where = f.get("executor", f.get("type", f.get("action")))[1]
            cx.problems.error(where, "the docker executor needs `config:` (V1) or `with:` (V2) with an `image`")
            return None
        spec = executor_container(cx, *executor_config, None)
    else:
        spec, own_shell = container_field(cx, *f["container"], dag_level=False)
    if spec is None:
        return None
    try:
        cmd = _container_cmd(action, shell or own_shell)
    except ValueError as e:
        where = (f.get("command") or f.get("executor") or f.get("type") or f.get("container") or (None, ()))[1]
        cx.problems.error(where, split_problem(e), hint=SPLIT_HINT)
        return None
    return replace(spec, cmd=cmd if cmd is not None else spec.cmd)


def _in_dag_container(cx: _Ctx, step: Step, dag: Container, shell: tuple[str, ...]) -> Step:
    """Dagu runs every shell step of a DAG with a `container:` by `docker exec` in it."""
    if not isinstance(step.action, Shell):
        return step
    try:
        cmd = _container_cmd(step.action, shell)
    except ValueError as e:
        w = step.where
        mark = Mark(w.file, w.line, w.col) if w is not None else None
        cx.problems.add(Problem(split_problem(e), mark, (), SPLIT_HINT))
        return step
    spec = Container(image=dag.image, cmd=cmd, workdir=dag.workdir,
                     user=dag.user, exec_in=DAG_CONTAINER)
    return replace(step, action=spec)


def _container_cmd(action: Shell | None, shell: tuple[str, ...]) -> tuple[str, ...] | None:
    if action is None:
        return None
    if action.argv is not None:
        return action.argv
    if action.script is not None:
        return (*(action.shell or shell or ("sh",)), "-c", action.script)
    return command_argv(action.command or "", action.shell or shell)


def _command_action(cx: _Ctx, value: Any, path: Path_, shell: tuple[str, ...] | None) -> Shell:
    if isinstance(value, list):
        return Shell(argv=tuple(cx.strings(value, path)))
    text = cx.string(value, path) or ""
    if "\n" in text.strip():  # a multi-line command runs as an inline script
        return Shell(script=text, shell=shell or ())
    return Shell(command=text, shell=shell or ())


def _handlers(cx: _Ctx, value: Any, path: Path_) -> Handlers:
    if value is None:
        return Handlers()
    if not isinstance(value, dict):
        cx.problems.error(path, f"handlerOn must be a mapping, got {kind_of(value)}")
        return Handlers()
    found: dict[str, Step] = {}
    seen_key: dict[str, Any] = {}
    for raw_key, raw in value.items():
        kpath = (*path, raw_key)
        key = str(raw_key).lower()
        if key not in HANDLER_KEYS:
            cx.problems.error(kpath, f"unknown handler {raw_key!r}",
                              hint=unknown_key_hint(str(raw_key), ["success", "failure", "cancel", "abort", "exit", "init"]),
                              key=True)
            continue
        target = HANDLER_KEYS[key]
        if target is None:
            cx.problems.unsupported(kpath, f"the {raw_key!r} handler (approval steps)", key=True)
            continue
        if target in found:
            cx.problems.error(kpath, f"{raw_key!r} and {seen_key[target]!r} are the same handler; keep one", key=True)
            continue
        if isinstance(raw, dict) and norm(raw.get("action", "")) == norm("human.task"):
            cx.problems.error((*kpath, "action"), "a human.task action is not allowed in a handler")
            continue
        step, _ = _step(cx, raw, kpath, 0, dialect=cx.dialect, handler={
            "success": "onSuccess", "failure": "onFailure", "cancel": "onCancel",
            "exit": "onExit", "init": "onInit"}[target])
        if step is not None:
            found[target] = step
            seen_key[target] = raw_key
    return Handlers(**found)
