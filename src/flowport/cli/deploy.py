"""Workflows as Prefect deployments: `flowport deploy`, `flowport deploy --prefect-yaml`,
`flowport serve`.

Every deployment runs the static flow `flowport.cli.entry.run_workflow`, renamed after the
workflow (entry.entrypoint_for: one Prefect flow per workflow, shared with `flowport run`);
the workflow's YAML text travels as the `source` parameter, so nothing ships beside the
deployment. The deployment is named `<workflow>/<workflow>`, its runs as the source engine
names runs (core.run_name), and it carries the tags `flowport`, the source
(`dagu`/`argo`), the workflow's own tags and `--tag`s. Literal secrets of the text are saved
as Prefect Secret blocks and `source` holds placeholders instead (`secrets.py`).

The parameter schema shown in the Prefect UI: `flowport deploy` and `serve` register a
per-deployment schema whose `params` object lists the workflow's own parameters (title,
default, description); `prefect deploy` (prefect.yaml) always derives the schema from the
flow's signature, so there `params` is a free-form object pre-filled with the defaults.
"""

from __future__ import annotations

import base64
import copy
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..adapter.core import flow_name
from ..model import Workflow
from . import secrets
from .entry import declared_params, entrypoint_for

WORKFLOW_SUFFIXES = (".yaml", ".yml")


class DeployError(ValueError):
    pass


# ------------------------------------------------------------------ schedules


@dataclass(frozen=True)
class Cron:
    cron: str
    timezone: str | None = None
    active: bool = True


_TZ_PREFIX = re.compile(r"^\s*(?:CRON_TZ|TZ)=(\S+)\s+(.*)$")


def local_timezone() -> str:
    """The IANA name of this machine's time zone (Dagu schedules run in local time)."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def _check_cron(expr: str, where: str, timezone: str | None = None) -> str:
    from prefect.client.schemas.schedules import CronSchedule

    expr = expr.strip()
    if expr.startswith("@every"):
        raise DeployError(f"{where}: {expr!r} is an interval, not a cron expression; Prefect "
                          "cron schedules cannot express it (use a cron such as '*/5 * * * *')")
    try:
        CronSchedule(cron=expr, timezone=timezone)  # Prefect's own validation
    except Exception as exc:
        raise DeployError(f"{where}: {expr!r} is not a valid cron schedule: {exc}") from None
    return expr


def dagu_schedules(schedule: Iterable[str], timezone: str | None = None) -> list[Cron]:
    """Dagu `schedule:` (a cron string or a list; `CRON_TZ=Zone ` prefixes allowed) → cron
    schedules in the machine's time zone, as Dagu's scheduler reads them."""
    return _crons(schedule, "schedule", timezone, local_timezone)


def argo_cron_schedules(schedules: Iterable[str] | str, timezone: str | None = None,
                        suspend: bool = False) -> list[Cron]:
    """Argo CronWorkflow `spec.schedule` / `spec.schedules`, `spec.timezone` (default: the
    controller's, UTC here) and `spec.suspend` (the schedules stay, inactive) → cron schedules.
    For the Argo translator: put the result in `Workflow.schedule` form or pass it to
    `DeploymentSpec.schedules`."""
    if isinstance(schedules, str):
        schedules = [schedules]
    return _crons(schedules, "spec.schedules", timezone, lambda: "UTC", active=not suspend)


def _crons(exprs: Iterable[str], where: str, timezone: str | None, default_tz: Callable[[], str],
           active: bool = True) -> list[Cron]:
    """Checked cron schedules; a `CRON_TZ=Zone ` prefix wins over `timezone`, which wins
    over `default_tz()`."""
    out = []
    for expr in exprs:
        tz = timezone
        m = _TZ_PREFIX.match(expr)
        if m:
            tz, expr = m.group(1), m.group(2)
        tz = tz or default_tz()
        out.append(Cron(_check_cron(expr, where, tz), tz, active=active))
    return out


def workflow_schedules(wf: Workflow) -> list[Cron]:
    """The schedules a workflow declares. Argo CronWorkflows may carry theirs as
    `Workflow.cron` (a list of Cron) once the Argo translator sets it."""
    extra = getattr(wf, "cron", None)
    if extra:
        return list(extra)
    if not wf.schedule:
        return []
    if wf.dialect.startswith("argo"):
        return argo_cron_schedules(wf.schedule, suspend=wf.schedule_paused)
    return dagu_schedules(wf.schedule)


# ------------------------------------------------------------------ one deployment


def source_family(wf: Workflow) -> str:
    return "argo" if wf.dialect.startswith("argo") else "dagu"


def params_schema(wf: Workflow) -> dict[str, Any]:
    """JSON schema of the `params` parameter: one string field per workflow parameter."""
    props: dict[str, Any] = {}
    for position, (name, default, description) in enumerate(declared_params(wf)):
        prop: dict[str, Any] = {"type": "string", "title": name, "position": position}
        if default is not None:
            prop["default"] = default
        prop["description"] = description or (
            f"positional parameter ${name}" if name.isdigit() else f"workflow parameter {name}")
        props[name] = prop
    return {
        "type": "object",
        "title": "params",
        "description": f"Parameters of {wf.name} (empty or default: the workflow's default).",
        "position": 1,
        "properties": props,
        "additionalProperties": {"type": "string"},
    }


def parameter_schema(wf: Workflow) -> dict[str, Any]:
    """The deployment's parameter_openapi_schema: the static flow's, with `params` spelled
    out per workflow parameter."""
    schema = copy.deepcopy(_static_flow_schema())
    schema["properties"]["params"] = params_schema(wf)
    schema["properties"]["source"]["description"] = (
        f"The YAML of {wf.name} ({wf.dialect}): `flowport-workflow:<name>` names the Prefect block "
        "that holds it (Blocks page); YAML text here runs a changed workflow once.")
    return schema


@functools.cache
def _static_flow_schema() -> dict[str, Any]:
    """run_workflow's own schema (pydantic builds it in ~10 ms: once per deploy, not per workflow)."""
    from prefect.utilities.callables import parameter_schema as flow_schema

    from .entry import run_workflow

    return flow_schema(run_workflow).model_dump_for_openapi()


def default_params(wf: Workflow) -> dict[str, str]:
    return {name: default for name, default, _ in declared_params(wf) if default is not None}


@dataclass
class DeploymentSpec:
    """What one workflow file becomes."""

    workflow: Workflow
    source: str
    path: str
    name: str
    tags: list[str]
    params: dict[str, str]
    schedules: list[Cron] = field(default_factory=list)
    # Secret block name -> value: the literal secrets `source` holds as placeholders
    # (secrets.py); saved on the server before the deployment is registered.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    # `flowport-workflow:<block>` once `source` is stored in a block on the server
    source_ref: str | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        return {"source": self.source_ref or self.source, "path": self.path, "params": dict(self.params)}

    @property
    def full_name(self) -> str:
        return f"{flow_name(self.workflow.name)}/{self.name}"


def parse_param_options(values: Iterable[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DeployError(f"--param {item!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


def spec_for(file: str | Path, *, name: str | None = None, tags: Iterable[str] = (),
             params: dict[str, str] | None = None) -> DeploymentSpec:
    """Translate `file` (every problem raised as SourceError) and describe its deployment."""
    from ..translators import load_text

    path = Path(file).resolve()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DeployError(f"{file}: cannot read the file: {exc.strerror or exc}") from None
    wf = load_text(text, str(path))
    merged = default_params(wf)
    merged.update(params or {})
    all_tags = ["flowport", source_family(wf), *wf.tags, *tags]
    try:
        stored, secret_values = secrets.scrub(text, name or wf.name)
    except secrets.SecretError as exc:
        raise DeployError(f"{file}: {exc}") from None
    return DeploymentSpec(
        workflow=wf,
        source=stored,
        secrets=secret_values,
        path=str(path),
        name=name or wf.name,
        tags=list(dict.fromkeys(t for t in all_tags if t)),
        params=merged,
        schedules=workflow_schedules(wf),
    )


def workflow_files(folder: str | Path) -> list[Path]:
    """The workflow files of a folder (not recursive), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise DeployError(f"{folder}: not a folder")
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in WORKFLOW_SUFFIXES)


# ------------------------------------------------------------------ register on a server


def save_secrets(specs: list[DeploymentSpec]) -> None:
    """The specs' literal secrets as Prefect Secret blocks on the server (PREFECT_API_URL)."""
    try:
        for spec in specs:
            secrets.save_blocks(spec.secrets)
    except secrets.SecretError as exc:
        raise DeployError(str(exc)) from None


def _schedule_creates(spec: DeploymentSpec) -> list[Any]:
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    return [
        DeploymentScheduleCreate(schedule=CronSchedule(cron=c.cron, timezone=c.timezone), active=c.active)
        for c in spec.schedules
    ]


def register(specs: list[DeploymentSpec], pool: str, *, work_queue: str | None = None,
             paused: bool = False) -> list[tuple[DeploymentSpec, str, bool]]:
    """Create or update one deployment per spec on the server in PREFECT_API_URL, in work
    pool `pool` (which must exist); what the server already holds unchanged is left alone
    (register.py). Returns (spec, deployment id, changed), in order."""
    import asyncio

    from .register import register_specs

    save_secrets(specs)
    done = asyncio.run(register_specs(specs, pool, work_queue, paused, parameter_schema, _schedule_creates))
    return [(r.spec, r.deployment_id, r.changed) for r in done]


# ------------------------------------------------------------------ prefect.yaml


def source_for_prefect_yaml(text: str) -> str:
    """`prefect deploy` templates `{{ name }}` placeholders in every value (and drops the
    unknown ones), which would eat Argo's `{{inputs.parameters.x}}`: such texts are written
    base64-encoded (`base64:` prefix; run_workflow decodes it)."""
    if "{{" in text:
        return "base64:" + base64.b64encode(text.encode()).decode()
    return text


def prefect_yaml(specs: list[DeploymentSpec], pool: str, *, work_queue: str | None = None) -> str:
    import prefect
    import yaml

    deployments = []
    for spec in specs:
        d: dict[str, Any] = {
            "name": spec.name,
            "description": spec.workflow.description or f"{spec.workflow.dialect} workflow {spec.path}",
            "entrypoint": entrypoint_for(spec.workflow.name),
            "tags": spec.tags,
            "parameters": {
                "source": source_for_prefect_yaml(spec.source),
                "path": spec.path,
                "params": dict(spec.params),
            },
            "work_pool": {"name": pool, "work_queue_name": work_queue, "job_variables": {}},
            "schedules": [
                {"cron": c.cron, "timezone": c.timezone, "active": c.active} for c in spec.schedules
            ],
            "pull": [],
        }
        deployments.append(d)
    doc = {
        "name": "flowport",
        "prefect-version": prefect.__version__,
        "build": None,
        "push": None,
        "pull": [],
        "deployments": deployments,
    }

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    header = ("# Written by `flowport deploy --prefect-yaml`: one deployment per workflow, all\n"
              "# running flowport's static flow; the workflow's YAML is the `source` parameter.\n"
              "# Register with: prefect deploy --all\n")
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


# ------------------------------------------------------------------ serve


def serve(specs: list[DeploymentSpec], *, limit: int | None = None) -> None:
    """Serve every deployment from this process until Ctrl-C/SIGTERM with Prefect's Runner
    (what `prefect.serve` uses). The deployments (no work pool) are registered as `deploy`
    registers them (register.py: bulk reads, unchanged ones left alone, 8 requests in
    flight), then handed to the runner already registered: `prefect.serve` applies them one
    by one, four requests each, and 1,000 workflows took three minutes to start."""
    import asyncio

    from prefect.deployments.runner import RunnerDeployment
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    from .register import register_specs

    class Registered(RunnerDeployment):
        """A deployment `register_specs` already put on the server: applying it is its id."""

        deployment_id: str = ""

        async def aapply(self, *args: Any, **kwargs: Any) -> Any:
            import uuid

            return uuid.UUID(self.deployment_id)

    save_secrets(specs)

    async def run() -> None:
        done = await register_specs(specs, None, None, False, parameter_schema, _schedule_creates)
        runner = Runner(pause_on_shutdown=True, limit=limit)
        for r in done:
            await runner.aadd_deployment(Registered(name=r.spec.name, flow_name=flow_name(r.spec.workflow.name),
                                                    deployment_id=r.deployment_id))
        print(f"Serving {len(done)} deployment(s); start a run with: "
              f"prefect deployment run '{specs[0].full_name}'", flush=True)
        await runner.start()

    try:
        asyncio.run(run())
    except (KeyboardInterrupt, TerminationSignal):
        pass
