"""Leaf nodes — container, script, http, suspend — each run as one Prefect task run named
like Argo's display name. The task body runs the action and records the node."""

from __future__ import annotations

import contextlib
import io
import tarfile
import zlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from prefect.states import State

from ...model import Container
from ...model.argo import Template
from .. import states
from . import artifacts, expr
from .executor import ERROR, FAILED, RUNNING, SUCCEEDED, Executor, Node, _fire, now
from ...lang.argo_tags import substitute

if TYPE_CHECKING:
    from .program import ArgoProgram

NODE_LABEL = "flowport.node"


def run_leaf(ex: Executor, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool,
             on_running: Callable[[], None] | None) -> None:
    """Called by the executor (in its thread): resolve, wait for a pod slot, run the task."""
    run: "ArgoProgram" = ex.program  # type: ignore[attr-defined]
    from ...lang.durations import parse_duration

    try:
        if tmpl.kind in ("container", "script"):
            spec = resolve_container(tmpl.container, scope)
        elif tmpl.kind == "http":
            h = tmpl.http
            spec = replace(h, url=substitute(h.url, scope), method=substitute(h.method, scope),
                           headers=tuple((k, substitute(v, scope)) for k, v in h.headers),
                           body=substitute(h.body, scope) if h.body else h.body)
        else:
            spec = parse_duration(substitute(tmpl.suspend_duration or "0", scope))
        limits = [parse_duration(substitute(t, scope)) for t in (tmpl.timeout, tmpl.active_deadline) if t]
    except expr.ExpressionError as exc:  # Unresolved, a failed {{=…}}
        _fire(on_running)
        node.finish(ERROR, str(exc))
        return
    timeout = min([t for t in limits if t], default=None)
    slot = ex.pods
    if slot is not None:
        slot.acquire()
    try:
        why = ex.blocked(exit_ctx)
        if why:
            _fire(on_running)
            node.finish(FAILED, why)
            return
        node.phase, node.started_at = RUNNING, now()
        _fire(on_running)
        stop = ex.exit_stop if exit_ctx else ex.main_stop
        if tmpl.kind in ("container", "script"):
            work = lambda logger: _pod(run, ex, node, tmpl, spec, scope, timeout, stop, exit_ctx, logger)
        elif tmpl.kind == "http":
            work = lambda logger: _http(run, node, spec, timeout, logger)
        else:
            work = lambda logger: _suspend(ex, node, spec, stop, exit_ctx, logger)
        try:
            if exit_ctx:  # drawn after what ended last (the main graph, or the previous exit step)
                node.after = _ended_last(ex, node)
            run.leaves.run(node.display_name, node.name, work, after=node.after)
        except BaseException as exc:  # noqa: BLE001 - the node must end, whatever happened
            if not node.done:
                node.finish(ERROR, f"task run crashed: {exc!r}")
            if not isinstance(exc, Exception):
                raise
        if not node.done:
            node.finish(ERROR, "task run ended without a result")
    finally:
        if slot is not None:
            slot.release()


LEAF_TYPES = ("Pod", "Suspend", "HTTP")  # the nodes that run as task runs


def _ended_last(ex: Executor, node: Node) -> tuple[str, ...]:
    pods = [n for n in ex.records()
            if n is not node and n.node_type in LEAF_TYPES and n.finished_at is not None]
    last = max((n.finished_at for n in pods), default=None)
    return tuple(n.name for n in pods if n.finished_at == last)


def resolve_container(c: Container, scope: dict[str, str]) -> Container:
    def argv(items):
        return tuple(substitute(a, scope) for a in items) if items is not None else None

    return replace(
        c,
        image=substitute(c.image, scope),
        entrypoint=argv(c.entrypoint),
        cmd=argv(c.cmd),
        env=tuple((k, substitute(v, scope)) for k, v in c.env),
        workdir=substitute(c.workdir, scope) if c.workdir else c.workdir,
        script=substitute(c.script, scope) if c.script is not None else None,
    )


def node_state(node: Node) -> State:
    return states.node_state(node.phase, node.message)


def _sink(logger, out) -> Callable[[str, str], None]:
    def sink(stream: str, line: str) -> None:
        logger.info(line)  # both streams, as `argo logs` shows them

    return sink


def _pod(run: "ArgoProgram", ex: Executor, node: Node, tmpl: Template, spec: Container, scope: dict[str, str],
         timeout: float | None, stop, exit_ctx: bool, logger) -> State:
    """The node's container with its volumes mounted (adapter/argo/volumes.py); the pod's
    emptyDir volumes go when it ends. A volume that cannot be mounted: node Error, as a pod
    that cannot start."""
    from ..runners.volumes import VolumeError

    try:
        with run.volumes.mounts(tmpl, scope, pod=f"{zlib.crc32(node.name.encode()) & 0xFFFFFFFF:08x}") as mounts:
            if mounts:
                spec = replace(spec, host=(*spec.host, ("Mounts", mounts)))
            return _container(run, ex, node, tmpl, spec, scope, timeout, stop, exit_ctx, logger)
    except (VolumeError, *expr.ExpressionError) as exc:
        if node.done:  # raised while removing what the pod left: the node has its result
            return node_state(node)
        node.finish(ERROR, str(exc))
        logger.error(node.message)
        return node_state(node)


def _container(run: "ArgoProgram", ex: Executor, node: Node, tmpl: Template, spec: Container, scope: dict[str, str],
               timeout: float | None, stop, exit_ctx: bool, logger) -> State:
    from ..runners.docker import run_container, run_labels

    key = f"{zlib.crc32(node.name.encode()) & 0xFFFFFFFF:08x}"
    labels = {**run_labels(run.run_id, node.display_name, run.wf.name), NODE_LABEL: key}
    paths = [op.path for op in tmpl.outputs if op.path]
    if paths:
        spec = replace(spec, keep=True)  # read the output files before removing it
    out_path, err_path = run.log_paths(node)
    moves = ArtifactMoves(ex, tmpl, scope)
    from_objects: dict[str, str] = {}
    if spec.env_refs:  # Secrets and ConfigMaps, read before the container starts
        from ..k8s_objects import ObjectLookupError, resolve_env_refs

        try:
            from_objects, own = resolve_env_refs(spec.env_refs)
        except ObjectLookupError as exc:
            node.finish(ERROR, str(exc))
            return node_state(node)
        spec = replace(spec, env=(*spec.env, *own.items()))
    auths = run.registry_auths() if run.wf.argo.image_pull_secrets else None
    with _script_file(spec) as spec:
        with open(out_path, "w", encoding="utf-8") as fo, open(err_path, "w", encoding="utf-8") as fe:
            result = run_container(spec, env=from_objects, sink=_sink(logger, fo), stop=stop, labels=labels,
                                   registry_auths=auths,
                                   host_dir=run.wf.workdir, timeout=timeout, grace=run.grace,
                                   stdout_file=fo, stderr_file=fe, images=run.images,
                                   before_start=moves.load if moves.inputs else None,
                                   after_exit=moves.save if tmpl.output_artifacts else None)
        files = _fetch(run.run_id, key, paths) if paths else {}
    stdout = result.stdout[:-1] if result.stdout.endswith("\n") else result.stdout
    node.exit_code = result.exit_code
    outputs: dict[str, Any] = {"result": stdout}
    if result.exit_code is not None:
        outputs["exitCode"] = str(result.exit_code)
    if result.stopped:
        phase, message = FAILED, ex.blocked(exit_ctx) or "stopped"
    elif result.timed_out:
        phase, message = FAILED, "Pod was active on the node longer than the specified deadline"
    elif result.exit_code == 0 and not result.error:
        phase, message = SUCCEEDED, None
    elif result.exit_code not in (None, 0):
        phase, message = FAILED, f"Error (exit code {result.exit_code})"
    else:
        phase, message = ERROR, result.error or "the container did not run"
    params: dict[str, str] = {}
    for op in tmpl.outputs:
        if op.path:
            text = files.get(op.path)
            if text is not None:
                params[op.name] = text[:-1] if text.endswith("\n") else text
            elif op.default is not None:
                params[op.name] = op.default
            elif phase == SUCCEEDED:
                phase, message = ERROR, f"open {op.path}: no such file or directory"
        elif op.value is not None:
            try:
                params[op.name] = substitute(op.value, {**scope, "outputs.result": stdout})
            except expr.ExpressionError as exc:  # Unresolved too
                if phase == SUCCEEDED:
                    phase, message = ERROR, str(exc)
        elif op.default is not None:
            params[op.name] = op.default
    if params:
        outputs["parameters"] = params
    if moves.saved:
        outputs["artifacts"] = moves.saved
        moves.publish(logger)
    if moves.errors and phase == SUCCEEDED:  # the wait container's error: main outranks it
        phase, message = ERROR, "".join(f"{e}; " for e in moves.errors)
    node.outputs = outputs
    node.finish(phase, message)
    if result.error and phase != SUCCEEDED:
        logger.error(result.error)
    return node_state(node)


class ArtifactMoves:
    """A container node's artifacts: inputs put in before it starts, outputs saved after it
    exits (whatever its exit code: Argo saves what exists of a failed step's outputs)."""

    def __init__(self, ex: Executor, tmpl: Template, scope: dict[str, str]) -> None:
        self.ex, self.tmpl, self.scope = ex, tmpl, scope
        self.inputs = [r for r in (artifacts.from_text(scope.get(f"inputs.artifacts.{a.name}"))
                                   for a in tmpl.input_artifacts) if r is not None and r.get("path")]
        self.saved: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def load(self, api, cid: str) -> None:
        artifacts.load_inputs(api, cid, self.inputs)

    def save(self, api, cid: str) -> None:
        try:
            self.saved, self.errors = artifacts.save_outputs(api, cid, list(self.tmpl.output_artifacts), self.scope,
                                                             self.ex.repository)
        except Exception as exc:  # noqa: BLE001 - Docker gone, repository unreachable: the node's error
            self.errors = [f"saving output artifacts: {exc}"]

    def publish(self, logger) -> None:
        """One Prefect table artifact on the task run: what was saved, its size, where."""
        rows = [{"artifact": r["name"], "key": r["key"], "size": r.get("size"), "location": r.get("url")}
                for r in self.saved]
        for r in rows:
            logger.info(f"saved artifact {r['artifact']} ({r['size']} bytes) to {r['location']}")
        with contextlib.suppress(Exception):  # visibility never changes a node's outcome
            from prefect.artifacts import create_table_artifact

            create_table_artifact(table=rows, description=f"Argo output artifacts of {self.tmpl.name}")


@contextlib.contextmanager
def _script_file(spec: Container):
    """Argo's script.source at /argo/staging/script, its path appended to the arguments. The
    file lives until the node's output files have been read (Docker mounts it again then)."""
    if spec.script is None:
        yield spec
        return
    from ..runners.docker import SCRIPT_PATH, script_mount

    with script_mount(spec.script) as bind:
        yield replace(spec, script=None, cmd=(*(spec.cmd or ()), SCRIPT_PATH), volumes=(*spec.volumes, bind))


def _fetch(run_id: str, key: str, paths: list[str]) -> dict[str, str | None]:
    """Read files out of the (kept) container of a node, then remove it."""
    from ..runners.docker import shared_client

    out: dict[str, str | None] = {p: None for p in paths}
    try:
        api = shared_client().api
        found = api.containers(all=True, filters={"label": [f"{NODE_LABEL}={key}", f"flowport.run-id={run_id}"]})
    except Exception:
        return out
    for summary in found:
        cid = summary["Id"]
        for p in paths:
            with contextlib.suppress(Exception):
                stream, _ = api.get_archive(cid, p)
                data = b"".join(stream)
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    member = next((m for m in tar.getmembers() if m.isfile()), None)
                    if member is not None:
                        fh = tar.extractfile(member)
                        out[p] = fh.read().decode("utf-8", "replace") if fh else None
        with contextlib.suppress(Exception):
            api.remove_container(cid, v=True, force=True)
    return out


def _http(run: "ArgoProgram", node: Node, spec, timeout: float | None, logger) -> State:
    import requests

    from ...notifiers.apprise import redact_url  # loads Apprise: only for http nodes

    out_path, _ = run.log_paths(node)
    try:
        resp = requests.request(spec.method or "GET", spec.url, headers=dict(spec.headers),
                                data=spec.body.encode() if spec.body else None,
                                timeout=timeout or spec.timeout or 30)
    except requests.RequestException as exc:
        node.finish(FAILED, f"http request failed: {str(exc).replace(spec.url, redact_url(spec.url))}")
        logger.error(node.message)
        return node_state(node)
    body = resp.text
    with open(out_path, "w", encoding="utf-8") as fo:
        fo.write(body)
    logger.info(f"{spec.method} {redact_url(spec.url)} → {resp.status_code}")  # no ?token= in logs
    env = {"request": {"method": spec.method, "url": spec.url, "body": spec.body or "",
                       "headers": {k: [v] for k, v in spec.headers}},
           "response": {"statusCode": resp.status_code, "body": body,
                        "headers": {k: [v] for k, v in resp.headers.items()}}}
    node.outputs = {"result": body}
    try:
        ok = expr.evaluate_bool(spec.success_condition, env) if spec.success_condition else 200 <= resp.status_code < 300
    except expr.ExpressionError as exc:
        node.finish(ERROR, f"successCondition: {exc}")
        return node_state(node)
    node.finish(SUCCEEDED if ok else FAILED, None if ok else f"received non-successful response code {resp.status_code}")
    return node_state(node)


def _suspend(ex: Executor, node: Node, seconds: float | None, stop, exit_ctx: bool, logger) -> State:
    node.node_type = "Suspend"
    logger.info(f"suspended for {seconds or 0:g}s")
    if stop.requested.wait(seconds or 0):
        node.finish(FAILED, ex.blocked(exit_ctx) or "stopped")
    else:
        node.finish(SUCCEEDED)
    return node_state(node)
