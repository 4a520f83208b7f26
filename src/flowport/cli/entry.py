"""The static flow every flowport deployment runs: `flowport.cli.entry:run_workflow`.

It takes the workflow's YAML text (so nothing has to ship beside a deployment) and its
parameters, translates the text, and runs it through the same run core as `flowport run`.
Being an ordinary module-level flow, `prefect deploy`, `flow.deploy`, `flow.serve`, workers
and Prefect's hook runner load it like any other flow (a flow built at run time by a factory
would break Prefect's entrypoint loading).

Prefect entrypoint strings: `flowport.cli.entry.run_workflow` (module path, what
`flowport deploy` registers) or `<site-packages>/flowport/cli/entry.py:run_workflow`.
It sits with the CLI because it translates YAML (the adapter never does).

Absolute imports on purpose: Prefect may load this file by its path, as a script.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner

from flowport.adapter import core, notify, prefect_hooks
from flowport.adapter.options import load_run_options
from flowport.model import Workflow

prefect_hooks.CRASH_NOTIFIERS.append(notify.crash_alert)  # a killed run still alerts (config `notify:`)

ENTRYPOINT = "flowport.cli.entry.run_workflow"
FLOW_NAME = "flowport"
_NAMED = "workflow_"  # entrypoint attribute: the static flow, named after one workflow


def entrypoint_for(workflow_name: str) -> str:
    """The entrypoint whose flow carries the workflow's name, so that `flowport run`, deployed
    and served runs of one workflow share one Prefect flow (its run history). The name is
    hex-encoded: Prefect splits module entrypoints at dots."""
    return f"flowport.cli.entry.{_NAMED}{core.flow_name(workflow_name).encode().hex()}"


def __getattr__(attribute: str) -> Any:
    """`workflow_<hex name>` (see entrypoint_for): `run_workflow` renamed."""
    if attribute.startswith(_NAMED):
        try:
            name = bytes.fromhex(attribute[len(_NAMED):]).decode()
        except ValueError:
            raise AttributeError(attribute) from None
        return run_workflow.with_options(name=core.flow_name(name))
    raise AttributeError(attribute)


def decode_source(source: str) -> str:
    """The workflow's YAML from the `source` parameter: `flowport-workflow:<block>` (what
    `flowport deploy` and `serve` register), `base64:<text>` (how prefect.yaml carries texts
    with `{{…}}`) or the text itself."""
    from flowport.cli.workflow_blocks import is_reference, read_source

    if is_reference(source):
        return read_source(source)
    if source.startswith("base64:"):
        import base64

        return base64.b64decode(source[len("base64:"):]).decode("utf-8")
    return source


# (flow run id, `source` parameter) -> the text: the run's name and its body both need it,
# one block read serves both (the body pops it). Keyed by run: a long-lived process (a worker
# running hooks) never gets a text read for another run.
_RUN_TEXTS: dict[tuple[str, str], str] = {}


def _run_key(source: str) -> tuple[str, str] | None:
    from flowport.cli.workflow_blocks import is_reference
    from prefect.runtime import flow_run

    return (str(flow_run.id), source) if is_reference(source) and flow_run.id else None


def workflow_name_of(source: str, path: str | None = None) -> str:
    """The workflow's name without translating it (for run names): Dagu `name:` / Argo
    `metadata.name|generateName`, else the file's stem."""
    import yaml

    try:
        data = yaml.safe_load(decode_source(source))
    except Exception:
        data = None
    if isinstance(data, dict):
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        for value in (data.get("name"), meta.get("name"), meta.get("generateName")):
            if isinstance(value, str) and value.strip():
                return value.strip().rstrip("-")
    return Path(path).stem if path else "workflow"


def source_name(path: str | None) -> str:
    """The name the translator sees: the original path when its folder exists on this
    machine (relative `dir:`, dotenv files and handler outputs land there, as with
    `flowport run`), else a bare file name (relative paths resolve in the current folder)."""
    if path:
        p = Path(path)
        if p.is_absolute() and p.parent.is_dir():
            return str(p)
        return p.name or "workflow.yaml"
    return "workflow.yaml"


def workflow_from_parameters(parameters: dict[str, Any], text: str | None = None) -> Workflow:
    """The workflow of a deployed run (`text`: its source already decoded). Literal secrets
    travel as `flowport-secret((name))` placeholders (`flowport deploy` moved them to Prefect
    Secret blocks): the text gets its values back here, on the worker, before it is translated."""
    from flowport.cli.secrets import resolve
    from flowport.translators import load_text

    text = resolve(decode_source(parameters["source"]) if text is None else text)
    return load_text(text, source_name(parameters.get("path")))


def declared_params(wf: Workflow) -> list[tuple[str, str | None, str | None]]:
    """(name, default text, description) of the workflow's own parameters, in order.
    Positional Dagu parameters are named by their place among all, "1", "2", …"""
    argo = getattr(wf, "argo", None)
    if argo is not None:  # Argo `spec.arguments.parameters` (value, else default; enum ignored)
        return [(p.name, p.value if p.value is not None else p.default, None)
                for p in getattr(argo, "arguments", ())]
    if wf.params_text is not None:  # named as the run names them: `a K=v b` is 1, K, 3
        from flowport.lang.dagu_vars import numbered_params

        return [(key, value, None) for key, value in numbered_params(wf.params_text)]
    return [(p.name, p.default, p.description) for p in wf.params]


def params_pairs(wf: Workflow, params: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The run's parameter overrides as `flowport run -p` would pass them. A value equal to
    the declared default text is no override: the engine evaluates defaults itself (Dagu
    backticks and `${…}` in defaults run at run time, not at deploy time)."""
    if not params:
        return []
    defaults = {name: default for name, default, _ in declared_params(wf)}
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else _scalar_text(value)
        if key in defaults and defaults[key] == text:
            continue
        pairs.append((str(key), text))
    return pairs


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value)
    return str(value)


def workflow_of_flow_run(flow_run: Any) -> tuple[Workflow, list[tuple[str, str]]]:
    """The workflow and parameter overrides a deployed flow run was started with."""
    parameters = dict(getattr(flow_run, "parameters", None) or {})
    wf = workflow_from_parameters(parameters)
    return wf, params_pairs(wf, parameters.get("params"))


HOOKS = prefect_hooks.StateHooks(workflow_of_flow_run)


def _flow_run_name() -> str:
    """As the source engine names a run (core.run_name): Argo `metadata.name` or
    `generateName` + suffix, Dagu `<dag>-<date>-<time>`."""
    from prefect.runtime import flow_run

    parameters = flow_run.parameters or {}
    from flowport.translators import load_text

    try:  # the text as stored: secret placeholders need no resolving for a name
        raw = parameters.get("source") or ""
        source = decode_source(raw)
        key = _run_key(raw)
        if key:
            _RUN_TEXTS[key] = source
        return core.run_name(load_text(source, source_name(parameters.get("path"))))
    except Exception:  # the body reports the problem; the name only needs to be a name
        return workflow_name_of(parameters.get("source") or "", parameters.get("path"))


@flow(
    name=FLOW_NAME,
    flow_run_name=_flow_run_name,
    task_runner=ThreadPoolTaskRunner(),
    persist_result=False,
    log_prints=False,
    description="Runs a Dagu DAG or an Argo Workflow given as YAML text, lifecycle handlers included.",
    on_completion=[notify.deployed_alert],
    on_failure=[notify.deployed_alert],
    on_cancellation=[HOOKS.on_cancellation, notify.deployed_alert],
    on_crashed=[HOOKS.on_crashed],
)
def run_workflow(
    source: str,
    params: dict[str, Any] | None = None,
    path: str | None = None,
) -> State:
    """Run the workflow in `source` (YAML text).

    Args:
        source: the workflow file's YAML text.
        params: the workflow's parameters, NAME -> value (positional Dagu parameters are
            "1", "2", …); absent ones take the workflow's defaults.
        path: where the YAML came from; when its folder exists on the machine that runs
            the flow, the workflow runs there (as `flowport run FILE` would).
    """
    key = _run_key(source)
    wf = workflow_from_parameters({"source": source, "path": path}, _RUN_TEXTS.pop(key, None) if key else None)
    options = load_run_options()  # the config file of the host running the flow (images)
    options = dataclasses.replace(options, notify=None)  # alerts: this flow's own state hooks
    return core.execute(wf, options, params_pairs(wf, params))
