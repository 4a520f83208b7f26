"""`@workflow`: a Python function whose body declares steps (Dagu) or templates (Argo)
becomes the same `Workflow` a translated YAML file is, wrapped in a Prefect flow that runs
it through the run core (`core.execute`): one engine for YAML and Python alike.

The body runs once, when the module is imported, in declaration mode: each `sh(…)`,
`container(…)`, `steps(…)` … call is recorded. The function's parameters are the workflow's
parameters (Dagu `params`, Argo `spec.arguments.parameters`); inside the body each one is
the reference the source engine resolves at run time (`${NAME}`, or
`{{workflow.parameters.NAME}}`), so `f"echo {NAME}"` means what the YAML means.
"""

from __future__ import annotations

import functools
import inspect
import keyword
import re
import typing
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Callable, Literal

from ..model import ArgoSpec, Handlers, Param, Semantics, Step, SubDag, Workflow
from ..model.argo import Hook, Parameter, Template
from .nodes import RECORDING, Recorder, _ref, _tuple, callee, hook

ENGINES = ("dagu-v1", "dagu-v2", "dagu-v3", "argo")
_SPEC_FIELDS = {f.name for f in fields(ArgoSpec)} - {"entrypoint", "templates", "arguments", "exit_hook", "hooks", "name"}
_WORKFLOW_FIELDS = {f.name for f in fields(Workflow)} - {
    "name", "dialect", "source_file", "workdir", "steps", "params", "handlers", "argo"}
_PAIRS = ("env",)


def default_semantics(engine: str) -> Semantics:
    """What the translator gives a workflow of this engine unless the YAML says otherwise."""
    if engine == "argo":
        return Semantics(vocabulary="argo", stop_ladder="argo", lifecycle_after_crash=True)
    return Semantics(vocabulary="dagu", run_backticks=engine != "dagu-v3")


def python_name(source_name: str) -> str:
    """The flow parameter that stands for a source parameter (`my-param` → `my_param`)."""
    name = re.sub(r"\W", "_", source_name)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"p_{name}"
    return name


def workflow(name: str | None = None, *, engine: str = "dagu-v3",
             on_success: Step | None = None, on_failure: Step | None = None,
             on_cancel: Step | None = None, on_exit: Step | Template | str | Hook | None = None,
             on_init: Step | None = None, on_wait: Step | None = None, entrypoint: Template | str | None = None,
             hooks: typing.Sequence[Hook] = (), param_names: dict[str, str] | None = None,
             workdir: str = ".", options: Any = None, **settings: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a workflow; the decorated function becomes a Prefect flow.

    Dagu (`engine="dagu-v1" | "dagu-v2" | "dagu-v3"`): the body calls `sh`, `script`,
    `container`, `http`, `mail`, `sql`, `noop`; the handlers are `on_success`, `on_failure`,
    `on_cancel`, `on_exit` (and `on_init`, `on_wait`), each a step built outside the body.
    Argo (`engine="argo"`): the body declares templates (`container`, `script`, `http`,
    `suspend`, `steps`, `dag`); `entrypoint` names the first, `on_exit` the exit handler
    template, `hooks` the workflow's named hooks; `name=` is `metadata.name`, or pass
    `generate_name=`.
    `param_names` maps a flow parameter to a source parameter name that is no Python name;
    `workdir` is relative to the module's folder. Any other keyword is a field of the
    `Workflow` (Dagu) or of its `ArgoSpec` (Argo), by its name there.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")

    def decorate(fn: Callable[..., Any]) -> Any:
        signature = inspect.signature(fn)
        sources = {p: (param_names or {}).get(p, p) for p in signature.parameters}
        refs = {p: (f"{{{{workflow.parameters.{src}}}}}" if engine == "argo" else f"${{{src}}}")
                for p, src in sources.items()}
        recorder = Recorder("argo" if engine == "argo" else "dagu")
        token = RECORDING.set(recorder)
        try:
            fn(**refs)
        finally:
            RECORDING.reset(token)
        module_dir = Path(inspect.getfile(fn)).resolve().parent
        base = dict(name=name or fn.__name__, dialect=engine, source_file=inspect.getfile(fn),
                    workdir=_workdir(module_dir, workdir), description=inspect.getdoc(fn),
                    semantics=default_semantics(engine))
        params = _parameters(signature, sources)
        if engine == "argo":
            wf = _argo(base, recorder, params, entrypoint, on_exit, hooks, name, settings)
        else:
            handlers = Handlers(success=_handler(on_success, "onSuccess"), failure=_handler(on_failure, "onFailure"),
                                cancel=_handler(on_cancel, "onCancel"), exit=_handler(on_exit, "onExit"),
                                init=_handler(on_init, "onInit"), wait=_handler(on_wait, "onWait"))
            fields_ = _workflow_fields(settings)
            declared = () if "params_text" in fields_ else tuple(Param(n, d, desc) for n, d, desc, _ in params)
            if "params_text" in fields_:
                _check_string_params(fields_["params_text"], sources)
            wf = Workflow(steps=tuple(recorder.steps), params=declared, handlers=handlers,
                          subdags=_subdags([*recorder.steps, *(h for _, h in handlers.items())]),
                          **{**base, **fields_})
        return _flow(fn, wf, signature, sources, options)

    return decorate


def _workdir(module_dir: Path, workdir: str) -> str:
    if "$" in workdir or workdir.startswith("~") or Path(workdir).is_absolute():
        return workdir  # resolved by the engine at run time, as the YAML's would be
    return str((module_dir / workdir).resolve())


def _parameters(signature: inspect.Signature, sources: dict[str, str]) -> list[tuple[str, str | None, str | None, tuple]]:
    """(source name, default text or None, description, enum) per flow parameter."""
    out = []
    for p in signature.parameters.values():
        default, description = p.default, None
        if hasattr(default, "description") and hasattr(default, "default"):  # pydantic Field(…)
            default, description = default.default, default.description
        if default is inspect.Parameter.empty:
            default = None
        enum: tuple = ()
        annotation = p.annotation
        if typing.get_origin(annotation) is Literal:
            enum = tuple(str(v) for v in typing.get_args(annotation))
        out.append((sources[p.name], None if default is None else _text(default), description, enum))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _handler(step: Step | None, node: str) -> Step | None:
    if step is None:
        return None
    if not isinstance(step, Step):
        raise TypeError(f"a Dagu handler is a step (sh(…), container(…) …), got {type(step).__name__}")
    return step if step.name else replace(step, name=node)


def _subdags(nodes: list[Step]) -> tuple[tuple[str, Workflow], ...]:
    """The workflows the call steps (`subflow(…)`) run, by the name each call gives."""
    found: dict[str, Workflow] = {}
    for node in nodes:
        if not isinstance(node.action, SubDag):
            continue
        child = callee(node.action)
        if child is None:
            raise TypeError(f"step {node.name!r}: a call step is built by subflow(…)")
        if found.setdefault(node.action.dag, child) is not child:
            raise TypeError(f"two different workflows are called as {node.action.dag!r}: give one another dag=")
    return tuple(found.items())


def _check_string_params(text: str, sources: dict[str, str]) -> None:
    """`params_text=` (Dagu's params string, resolved as Dagu does at run time): each flow
    parameter stands for one of its params, a positional one by its position ("1", "2", …
    among all params, as Dagu numbers them)."""
    from ..lang.dagu_vars import numbered_params

    names = {name for name, _ in numbered_params(text)}
    unknown = [src for src in sources.values() if src not in names]
    if unknown:
        raise TypeError(f"flow parameter(s) {', '.join(unknown)} are no param of params_text={text!r}")


def _workflow_fields(settings: dict[str, Any]) -> dict[str, Any]:
    unknown = set(settings) - _WORKFLOW_FIELDS
    if unknown:
        raise TypeError(f"unknown workflow field(s): {', '.join(sorted(unknown))}")
    out = {}
    for key, value in settings.items():
        if key in _PAIRS:
            value = _tuple(value, pairs=True)
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


def _argo(base: dict[str, Any], recorder: Recorder, params: list, entrypoint: Any, on_exit: Any,
          hooks: typing.Sequence[Hook], name: str | None, settings: dict[str, Any]) -> Workflow:
    spec_settings = {k: settings.pop(k) for k in list(settings) if k in _SPEC_FIELDS}
    arguments = settings.pop("arguments", None)  # explicit: then the flow's parameters may be more
    for key in ("labels", "annotations"):
        if isinstance(spec_settings.get(key), dict):
            spec_settings[key] = tuple(spec_settings[key].items())
    if "volumes" in spec_settings:
        spec_settings["volumes"] = tuple(spec_settings["volumes"])
    if entrypoint is None:
        if not recorder.templates:
            raise TypeError("an Argo workflow needs at least one template")
        entrypoint = next(iter(recorder.templates))
    spec = ArgoSpec(
        entrypoint=_ref(entrypoint), templates=dict(recorder.templates), name=name,
        arguments=tuple(arguments) if arguments is not None else tuple(
            Parameter(n, value=d, enum=enum) for n, d, _, enum in params),
        exit_hook=hook(on_exit) if on_exit is not None else None, hooks=tuple(hooks), **spec_settings)
    generate = spec.generate_name
    description = dict(spec.annotations).get("workflows.argoproj.io/description")
    derived = dict(
        name=str(name or (generate or "argo-workflow").rstrip("-") or "argo-workflow"),
        description=description.strip() if description else base["description"],
        timeout=spec.active_deadline, max_active_steps=spec.parallelism or 0)
    return Workflow(steps=(), argo=spec, **{**base, **derived, **_workflow_fields(settings)})


def _flow(fn: Callable[..., Any], wf: Workflow, signature: inspect.Signature, sources: dict[str, str],
          options: Any) -> Any:
    """The Prefect flow: its parameters are the function's, its body the run core."""
    from prefect import Flow
    from prefect.task_runners import ThreadPoolTaskRunner

    from ..adapter import core, notify
    from ..adapter.core import flow_name, run_name
    from ..adapter.options import RunOptions

    options = options or RunOptions()
    declared = {p.name: d for p, (_, d, _, _) in zip(signature.parameters.values(), _parameters(signature, sources))}

    def run_workflow(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind_partial(*args, **kwargs)
        given = [(sources[k], _text(v)) for k, v in bound.arguments.items()
                 if v is not None and _text(v) != declared[k]]
        return core.execute(wf, options, given)

    functools.update_wrapper(run_workflow, fn)
    run_workflow.__signature__ = signature  # type: ignore[attr-defined]
    # Prefect reads the flow's file (version, entrypoint of a __main__ module) from its code
    run_workflow.__code__ = run_workflow.__code__.replace(co_filename=fn.__code__.co_filename)
    flow = Flow(run_workflow, **notify.state_hooks(options.notify), name=flow_name(wf.name),
                flow_run_name=lambda: run_name(wf), task_runner=ThreadPoolTaskRunner(),
                persist_result=False, validate_parameters=False, log_prints=False, description=wf.description)
    flow.workflow = wf  # the IR: plans, tests, `flowport.run(flow.workflow)`
    flow.param_sources = dict(sources)  # flow parameter -> source parameter name
    return flow


def run(flow: Any, **params: Any) -> Any:
    """Run a `@workflow` flow now, as `flowport run` runs a file, and return its RunReport
    (`status`, `nodes`, `outputs`): on the server in PREFECT_API_URL, else on Prefect's
    embedded server started for the run."""
    from ..adapter.core import run_flow

    given = [(flow.param_sources[k], _text(v)) for k, v in params.items()]
    return run_flow(flow.workflow, lambda: flow(**params, return_state=True), given)
