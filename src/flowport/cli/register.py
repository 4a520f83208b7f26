"""`flowport deploy` on a server: one request per thing that changed.

A Prefect server (3.9) has no bulk create: each flow, block document and deployment is one
POST, and the server spends about 6, 25 and 25 ms of CPU on them (bench/estate.py). So a
deploy of many workflows

* first reads what is there, in pages: the workflows' flows (by name), their deployments
  and the `flowport-workflow` blocks — a handful of requests for a whole estate;
* leaves alone a workflow whose block and deployment already hold what the file says
  (re-deploying an unchanged folder writes nothing);
* creates the missing flows, writes a changed block in one request (POST, or PATCH by id)
  and upserts a changed deployment in one request — the server's upsert replaces the
  deployment's schedules with the ones sent, so no schedule request follows — with
  CONCURRENCY requests in flight: the server is one process, more only queue.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from ..adapter.core import flow_name
from .entry import entrypoint_for

PAGE = 200  # the server's largest page (PREFECT_API_DEFAULT_LIMIT)
CONCURRENCY = 8

T = TypeVar("T")


@dataclass(frozen=True)
class Registered:
    spec: Any  # deploy.DeploymentSpec
    deployment_id: str
    changed: bool  # False: the server already had exactly this deployment and block


async def paged(read: Callable[[int, int], Awaitable[list[T]]]) -> list[T]:
    """Every item of a paged read (`read(offset, limit)` of items with an `id`); stops at a
    short page, or at one already seen (an endpoint that ignores the offset)."""
    out: list[T] = []
    seen: set[Any] = set()
    while True:
        page = await read(len(out), PAGE)
        fresh = [item for item in page if getattr(item, "id", None) not in seen]
        out.extend(fresh)
        seen.update(getattr(item, "id", None) for item in fresh)
        if len(page) < PAGE or not fresh:
            return out


def chunks(items: list[T], size: int = PAGE) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def existing_flows(client: Any, names: list[str]) -> dict[str, Any]:
    """Flow name -> id of the flows among `names` the server has."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    found: dict[str, Any] = {}
    for part in chunks(names):
        flows = await paged(lambda offset, limit: client.read_flows(
            flow_filter=FlowFilter(name=FlowFilterName(any_=part)), offset=offset, limit=limit))
        found.update((f.name, f.id) for f in flows)
    return found


async def existing_deployments(client: Any, flow_ids: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(flow name, deployment name) -> deployment, for the deployments of those flows."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterId

    names = {flow_id: name for name, flow_id in flow_ids.items()}
    found: dict[tuple[str, str], Any] = {}
    for part in chunks(list(names)):
        deployments = await paged(lambda offset, limit: client.read_deployments(
            flow_filter=FlowFilter(id=FlowFilterId(any_=part)), offset=offset, limit=limit))
        found.update(((names[d.flow_id], d.name), d) for d in deployments)
    return found


def deployment_fields(spec: Any, pool: str | None, work_queue: str | None, paused: bool,
                      schema: dict[str, Any]) -> dict[str, Any]:
    """What `create_deployment` is given for `spec` (besides the flow id)."""
    return dict(
        name=spec.name,
        entrypoint=entrypoint_for(flow_name(spec.workflow.name)),
        work_pool_name=pool,
        work_queue_name=work_queue,
        parameters=spec.parameters,
        parameter_openapi_schema=schema,
        enforce_parameter_schema=True,
        description=spec.workflow.description or f"{spec.workflow.dialect} workflow {spec.path}",
        tags=spec.tags,
        pull_steps=[],
        paused=paused,
    )


def unchanged(current: Any, wanted: dict[str, Any], schedules: set[tuple[Any, ...]],
              default_queue_id: Any) -> bool:
    """Whether the deployment on the server already is `wanted` with `schedules`."""
    have = {(getattr(s.schedule, "cron", None), getattr(s.schedule, "timezone", None), s.active)
            for s in current.schedules or []}
    return (
        have == schedules and len(current.schedules or []) == len(schedules)
        and current.entrypoint == wanted["entrypoint"]
        and current.work_pool_name == wanted["work_pool_name"]
        and (current.work_queue_name == wanted["work_queue_name"] if wanted["work_queue_name"]
             else current.work_queue_id == default_queue_id)
        and current.parameters == wanted["parameters"]
        and current.parameter_openapi_schema == wanted["parameter_openapi_schema"]
        and bool(current.enforce_parameter_schema) == wanted["enforce_parameter_schema"]
        and (current.description or "") == wanted["description"]
        and list(current.tags) == wanted["tags"]
        and (current.pull_steps or []) == wanted["pull_steps"]
        and bool(current.paused) == wanted["paused"]
    )


async def register_specs(specs: list[Any], pool: str | None, work_queue: str | None, paused: bool,
                         schema_of: Callable[[Any], dict[str, Any]],
                         schedules_of: Callable[[Any], list[Any]]) -> list[Registered]:
    """Create or update one deployment per spec (and its workflow block) on the server in
    PREFECT_API_URL, in work pool `pool` (None: served deployments, `flowport serve`).
    Results in the specs' order."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from .deploy import DeployError
    from .workflow_blocks import save_sources

    async with get_client() as client:
        default_queue_id = None
        if pool is not None:
            try:
                default_queue_id = (await client.read_work_pool(pool)).default_queue_id
            except ObjectNotFound:
                raise DeployError(
                    f"work pool {pool!r} does not exist; create it with "
                    f"`prefect work-pool create {pool} --type process`") from None
        gate = asyncio.Semaphore(CONCURRENCY)
        names = sorted({flow_name(spec.workflow.name) for spec in specs})
        flow_ids, blocks_changed = await asyncio.gather(
            existing_flows(client, names),
            save_sources(client, [(spec.name, spec.source, spec.path) for spec in specs], gate))
        current = await existing_deployments(client, flow_ids)

        async def flow_id(name: str) -> Any:
            if name not in flow_ids:
                async with gate:
                    if name not in flow_ids:  # another spec of the same workflow made it
                        flow_ids[name] = await client.create_flow_from_name(name)
            return flow_ids[name]

        async def one(spec: Any, block: tuple[str, bool]) -> Registered:
            spec.source_ref, block_changed = block  # the deployment names the block, not its text
            name = flow_name(spec.workflow.name)
            wanted = deployment_fields(spec, pool, work_queue, paused, schema_of(spec.workflow))
            have = current.get((name, spec.name))
            schedules = {(c.cron, c.timezone, c.active) for c in spec.schedules}
            if have is not None and unchanged(have, wanted, schedules, default_queue_id):
                return Registered(spec, str(have.id), changed=block_changed)
            fid = await flow_id(name)
            async with gate:
                deployment_id = await client.create_deployment(flow_id=fid, schedules=schedules_of(spec), **wanted)
            return Registered(spec, str(deployment_id), changed=True)

        return list(await asyncio.gather(*(one(s, b) for s, b in zip(specs, blocks_changed))))
