"""The statements of a workflow body: each call declares one node of the workflow being
defined (a Dagu step, or an Argo template) and returns it, so later calls can name it.

Outside a workflow body (a handler given to `@workflow(on_exit=…)`, a template shared by
several workflows) the call only builds the node. The nodes are the IR itself
(`flowport.model`): what a body declares is exactly what a translated YAML file holds.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Sequence

from ..lang import gofmt
from ..model import Container, Fanout, Http, Mail, Noop, PythonCall, Retry, Shell, Sql, Step, SubDag, Where, Workflow
from ..model.argo import Call, Hook, Loop, Parameter, Template


@dataclass
class Recorder:
    """What one workflow body declared, in the order written."""

    engine: str  # "dagu" or "argo"
    steps: list[Step] = field(default_factory=list)
    templates: dict[str, Template] = field(default_factory=dict)


RECORDING: ContextVar[Recorder | None] = ContextVar("flowport_sdk_recording", default=None)

_STEP_FIELDS = {f.name for f in fields(Step)} - {"name", "action", "depends", "where"}
_CONTAINER_FIELDS = {f.name for f in fields(Container)}
_TEMPLATE_FIELDS = {f.name for f in fields(Template)} - {"name", "kind", "where"}


def _engine() -> str | None:
    rec = RECORDING.get()
    return rec.engine if rec else None


def _caller(depth: int = 3) -> Where:
    """The line of the user's call: runtime messages point at the Python statement."""
    frame = sys._getframe(depth)
    return Where(frame.f_code.co_filename, frame.f_lineno, 1)


def _names(after: Iterable[Step | str] | Step | str) -> tuple[str, ...]:
    if isinstance(after, (Step, str)):
        after = (after,)
    return tuple(a if isinstance(a, str) else a.name for a in after)


def _retry(retries: int | Retry | None) -> Retry | None:
    return Retry(limit=retries) if isinstance(retries, int) and not isinstance(retries, bool) else retries


def _step(action: Any, name: str | None, after: Any, retries: Any, extra: dict[str, Any]) -> Step:
    unknown = set(extra) - _STEP_FIELDS
    if unknown:
        raise TypeError(f"unknown step field(s): {', '.join(sorted(unknown))}")
    for key in ("env", "preconditions", "declared_outputs", "structured_output"):
        if key in extra:
            extra[key] = _tuple(extra[key], pairs=key == "env")
    step = Step(name=name or "", action=action, depends=_names(after), retry=_retry(retries),
                where=_caller(), **extra)
    rec = RECORDING.get()
    if rec is not None and rec.engine == "dagu":
        if not name:
            raise TypeError("a step of a workflow body needs a name=")
        rec.steps.append(step)
    return step


def _tuple(value: Any, pairs: bool = False) -> tuple:
    if pairs and isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    return tuple(tuple(v) if pairs and isinstance(v, list) else v for v in value)


def _template(kind: str, name: str, extra: dict[str, Any], **parts: Any) -> Template:
    unknown = set(extra) - _TEMPLATE_FIELDS
    if unknown:
        raise TypeError(f"unknown template field(s): {', '.join(sorted(unknown))}")
    if "inputs" in extra:
        extra["inputs"] = tuple(Parameter(p) if isinstance(p, str) else p for p in extra["inputs"])
    for key in ("outputs", "volumes", "volume_mounts", "mutexes", "input_artifacts", "output_artifacts"):
        if key in extra:
            extra[key] = tuple(extra[key])
    tpl = Template(name=name, kind=kind, where=_caller(), **parts, **extra)
    rec = RECORDING.get()
    if rec is not None:
        if rec.engine != "argo":
            raise TypeError(f"{kind} templates belong to an Argo workflow (@workflow(engine='argo'))")
        rec.templates[name] = tpl
    return tpl


def _split_container(image: str, kw: dict[str, Any], own: Iterable[str]) -> Container:
    """Container fields out of `kw`; `container_name`/`container_env`/… name the container's
    own field where the step or template has one of the same name."""
    spec: dict[str, Any] = {"image": image}
    for key in list(kw):
        target = key.removeprefix("container_") if key.startswith("container_") else key
        if key.startswith("container_") or (target in _CONTAINER_FIELDS and target not in own):
            value = kw.pop(key)
            if target == "env":
                value = _tuple(value, pairs=True)
            elif target == "host" and isinstance(value, dict):
                value = tuple(value.items())
            spec[target] = tuple(value) if isinstance(value, list) else value
    return Container(**spec)


# ---------------------------------------------------------------- the statements


def sh(command: str | Sequence[str], *, name: str | None = None, shell: Sequence[str] = (),
       after: Any = (), retries: int | Retry | None = None, **step: Any) -> Step:
    """A local command (Dagu): a string runs through the shell, a list runs without one."""
    action = (Shell(command=command, shell=tuple(shell)) if isinstance(command, str)
              else Shell(argv=tuple(command), shell=tuple(shell)))
    return _step(action, name, after, retries, step)


def script(source: str, *, name: str | None = None, image: str | None = None,
           shell: Sequence[str] = (), after: Any = (), retries: int | Retry | None = None,
           **fields_: Any) -> Any:
    """A script: in a Dagu workflow a local script run by `shell` (or its shebang); in an
    Argo workflow a script template (`image` + `entrypoint`, `source` mounted as a file)."""
    if _engine() == "argo" or image is not None:
        container = _split_container(image or "", fields_, own=("volumes",))
        container = Container(**{**_fields(container), "script": source})
        return _template("script", _need(name, "script"), fields_, container=container)
    return _step(Shell(script=source, shell=tuple(shell)), name, after, retries, fields_)


def container(image: str, cmd: Sequence[str] | None = None, *, name: str | None = None,
              entrypoint: Sequence[str] | None = None, after: Any = (),
              retries: int | Retry | None = None, **fields_: Any) -> Any:
    """A container on the Docker Engine, in Docker's terms (`entrypoint` is Argo's
    `command`, `cmd` its `args`): a Dagu step, or an Argo container template."""
    fields_.update(cmd=tuple(cmd) if cmd is not None else None,
                   entrypoint=tuple(entrypoint) if entrypoint is not None else None)
    if _engine() == "argo":
        spec = _split_container(image, fields_, own=("volumes",))
        return _template("container", _need(name, "container"), fields_, container=spec)
    spec = _split_container(image, fields_, own=("env", "workdir"))
    return _step(spec, name, after, retries, fields_)


def http(url: str, *, name: str | None = None, method: str = "GET", after: Any = (),
         retries: int | Retry | None = None, **fields_: Any) -> Any:
    """An HTTP request: a Dagu http step, or an Argo http template (Http's fields;
    `request_timeout` is the request's timeout, `timeout` the step's or template's)."""
    own = {f.name for f in fields(Http)} - {"url", "method", "timeout"}
    request = {k: fields_.pop(k) for k in list(fields_) if k in own}
    if "request_timeout" in fields_:  # the request's own; `timeout=` is the step's
        request["timeout"] = fields_.pop("request_timeout")
    for key in ("headers", "query"):
        if key in request:
            request[key] = _tuple(request[key], pairs=True)
    action = Http(url=url, method=method, **request)
    if _engine() == "argo":
        return _template("http", _need(name, "http"), fields_, http=action)
    return _step(action, name, after, retries, fields_)


def mail(to: str | Sequence[str], subject: str, message: str, *, sender: str, name: str | None = None,
         attachments: Sequence[str] = (), after: Any = (), retries: int | Retry | None = None,
         **step: Any) -> Step:
    """A mail step (Dagu's mail executor), sent through the workflow's SMTP settings."""
    to = (to,) if isinstance(to, str) else tuple(to)
    return _step(Mail(to=to, sender=sender, subject=subject, message=message,
                      attachments=tuple(attachments)), name, after, retries, step)


def sql(dsn: str, query: str | None = None, *, name: str | None = None, after: Any = (),
        retries: int | Retry | None = None, **fields_: Any) -> Step:
    """A SQLite query (Dagu's sqlite executor); Sql's fields (`script`, `output_format`…)."""
    own = {f.name for f in fields(Sql)} - {"dsn", "query", "timeout"}
    spec = {k: fields_.pop(k) for k in list(fields_) if k in own}
    if "query_timeout" in fields_:  # the query's own; `timeout=` is the step's
        spec["timeout"] = fields_.pop("query_timeout")
    action = Sql(dsn=dsn, query=query, **spec)
    return _step(action, name, after, retries, fields_)


def noop(*, name: str | None = None, after: Any = (), **step: Any) -> Step:
    """A step that does nothing but wait for its dependencies."""
    return _step(Noop(), name, after, None, step)


def subflow(callee: Any, *, name: str | None = None, params: str | dict[str, Any] | Sequence[tuple[str, Any]] | None = None,
            parallel: str | Sequence[Any] | Fanout | None = None, max_concurrent: int = 10, dag: str | None = None,
            after: Any = (), retries: int | Retry | None = None, **step: Any) -> Step:
    """A step that runs another workflow (Dagu `call:`) as a Prefect subflow, through the run
    core as `flowport run` runs a sub-DAG. `callee` is a `@workflow` flow (or its `Workflow`,
    e.g. `flowport.load("child.yaml")`). `params`: Dagu's params string (`"A=1 B=2"`, expanded
    then split) or NAME -> value pairs (each value expanded). `parallel`: one child run per
    item (a list; a mapping item is the child's named params) or a `"${VAR}"` read at run
    time; at most `max_concurrent` at once. `dag`: the name the call gives the child (Dagu's
    `call:` value; default the child's name)."""
    child = getattr(callee, "workflow", callee)
    if not isinstance(child, Workflow) or child.argo is not None:
        raise TypeError("subflow(…) calls a Dagu workflow: a @workflow flow (engine dagu-…) or its Workflow")
    if _engine() == "argo":
        raise TypeError("subflow(…) is a Dagu step; in an Argo workflow a steps or dag template calls another")
    text, pairs = (params, None) if isinstance(params, str) else (None, _param_pairs(params))
    action = SubDag(dag=dag or child.name, params_text=text, params=pairs, parallel=_fanout(parallel, max_concurrent),
                    where=_caller(2))
    CALLEES[id(action)] = (action, child)
    return _step(action, name, after, retries, step)


# SubDag action (by id) -> (the action, the workflow it calls): @workflow fills the
# workflow's `subdags` table from it, for body steps and handlers alike
CALLEES: dict[int, tuple[SubDag, Workflow]] = {}


def callee(action: SubDag) -> Workflow | None:
    found = CALLEES.get(id(action))
    return found[1] if found is not None and found[0] is action else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _param_pairs(params: dict[str, Any] | Sequence[tuple[str, Any]] | None) -> tuple[tuple[str, str], ...] | None:
    if params is None:
        return None
    items = params.items() if isinstance(params, dict) else params
    return tuple((str(k), _text(v)) for k, v in items)


def _fanout(parallel: str | Sequence[Any] | Fanout | None, max_concurrent: int) -> Fanout | None:
    """Items as Dagu keeps them: a scalar as text, a flat mapping as compact JSON, sorted keys."""
    if parallel is None or isinstance(parallel, Fanout):
        return parallel
    if isinstance(parallel, str):
        return Fanout(source=parallel, max_concurrent=max_concurrent)
    items = tuple(gofmt.json_marshal({str(k): _text(v) for k, v in item.items()}) if isinstance(item, dict)
                  else _text(item) for item in parallel)
    return Fanout(items=items, max_concurrent=max_concurrent)


def pytask(function: Any, *args: Any, name: str | None = None, kwargs: dict[str, Any] | None = None,
           after: Any = (), retries: int | Retry | None = None, **step: Any) -> Step:
    """A Python function (a Prefect `@task`, or any callable) as a Dagu step: called with
    `args`/`kwargs` (strings expanded as a command is: `"${ROWS}"` is an earlier step's
    output) by the run core, in the step's own task run. What it returns is the step's
    stdout (`output="VAR"` keeps it); an exception fails the step as exit code 1. The name
    defaults to the task's. The step's `retries`/`timeout` apply, not the task's own."""
    if _engine() == "argo":
        raise TypeError("pytask(…) is a Dagu step; an Argo workflow runs templates")
    if hasattr(function, "workflow"):
        raise TypeError("pytask(…) runs a function; a @workflow is called with subflow(…)")
    fn = getattr(function, "fn", function)  # a Prefect Task: the function it wraps
    if not callable(fn):
        raise TypeError(f"pytask(…) runs a function or a Prefect @task, got {type(function).__name__}")
    label = name or getattr(function, "name", None) or getattr(fn, "__name__", None)
    action = PythonCall(function=fn, args=tuple(args), kwargs=tuple((kwargs or {}).items()))
    return _step(action, label, after, retries, step)


def suspend(name: str, duration: str | None = None, **template: Any) -> Template:
    """An Argo suspend template (`duration` text as Argo writes it)."""
    return _template("suspend", name, template, suspend_duration=duration)


def steps(name: str, groups: Sequence[Sequence[Call] | Call], **template: Any) -> Template:
    """An Argo steps template: groups run one after the other, the calls of a group together
    (a bare call is a group of one)."""
    out = tuple((g,) if isinstance(g, Call) else tuple(g) for g in groups)
    return _template("steps", name, template, steps=out)


def dag(name: str, tasks: Sequence[Call], **template: Any) -> Template:
    """An Argo dag template: tasks run as their `depends` (or `after=`) allow."""
    return _template("dag", name, template, tasks=tuple(tasks))


def call(name: str, template: Template | str, *, arguments: dict[str, str] | Sequence[Parameter] = (),
         after: Any = (), items: Sequence[Any] | None = None, on_exit: Template | str | Hook | None = None,
         **fields_: Any) -> Call:
    """One step of a `steps` group or one task of a `dag`: runs `template`. `after=` is a
    DAG task's plain dependencies (`depends: "a && b"`); `items=` is `withItems`."""
    if isinstance(arguments, dict):
        arguments = tuple(Parameter(name=k, value=v) for k, v in arguments.items())
    if after and "depends" not in fields_:
        fields_["depends"] = " && ".join(_names(after))
    if items is not None:
        fields_["loop"] = Loop(items=tuple(items))
    for key in ("hooks", "artifacts"):
        if key in fields_:
            fields_[key] = tuple(fields_[key])
    return Call(name=name, template=_ref(template), arguments=tuple(arguments),
                exit_hook=hook(on_exit) if on_exit is not None else None, **fields_)


task = call  # a DAG's tasks read better as task(…)


def hook(template: Template | str | Hook, *, expression: str | None = None, name: str = "exit",
         arguments: dict[str, str] | Sequence[Parameter] = (), artifacts: Sequence[Any] = ()) -> Hook:
    """A lifecycle hook: the exit hook (default), or a named hook fired once `expression`
    holds; `artifacts` are its `arguments.artifacts`."""
    if isinstance(template, Hook):
        return template
    if isinstance(arguments, dict):
        arguments = tuple(Parameter(name=k, value=v) for k, v in arguments.items())
    return Hook(name=name, template=_ref(template), arguments=tuple(arguments), expression=expression,
                artifacts=tuple(artifacts))


def _ref(template: Template | str) -> str:
    return template if isinstance(template, str) else template.name


def _need(name: str | None, what: str) -> str:
    if not name:
        raise TypeError(f"an Argo {what} template needs a name=")
    return name


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
