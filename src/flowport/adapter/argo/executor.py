"""The Argo executor core: walks the Argo template tree, the semantics of research/argo.md §1–§3.

Every template invocation is a node (`Node`), named as Argo names it (`<wf>[0].step`,
`<dag>.task`, `<name>(0:item)`, `<node>.onExit`, `<node>.hooks.<name>`). Container, script,
http and suspend nodes run as Prefect task runs (leaf.py); steps/dag/retry nodes are
orchestrated inline in the flow run, one thread per concurrently running branch
(threads copy the flow's context, so task runs attach to the flow run).

`Executor` is the core here (nodes, scopes and globals, `execute`, inputs, template outputs,
the workflow's phase and exit handler) composed with one mixin per Argo concept:
steps.py, dag.py, retries.py, calls.py (steps and tasks), hooks.py.
"""

from __future__ import annotations

import json
import threading
import zlib
from typing import Callable

from ...model import Semantics
from ...model.argo import ArgoSpec, Artifact, Parameter, Template
from ..artifact_repos import RepositoryError, resolve_repository
from ..core import RunControl
from ..records import now
from . import artifacts, expr
from .calls import CallsMixin
from .dag import DagMixin
from .hooks import HooksMixin, WorkflowHooks
from .nodes import (
    COMPLETED,
    ERROR,
    FAILED,
    FULFILLED,
    OMITTED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    Node,
    _fire,
    _node_type,
    _outer,
    spawn,
)
from .retries import RetriesMixin
from .steps import StepsMixin
from ...lang.argo_tags import Unresolved, substitute, timestamp_vars, workflow_failures

__all__ = [  # what other modules import from here (leaf.py, program.py, the tests)
    "COMPLETED", "ERROR", "FAILED", "FULFILLED", "OMITTED", "PENDING", "RUNNING", "SKIPPED", "SUCCEEDED",
    "Executor", "InputError", "Node", "_fire", "now", "spawn",
]


class InputError(Exception):
    pass



class Executor(StepsMixin, DagMixin, RetriesMixin, CallsMixin, HooksMixin):
    """One run of an Argo workflow. `run_leaf(node, template, scope, exit_ctx)` is supplied by
    the engine: it runs a container/script/http/suspend node as a Prefect task run."""

    def __init__(self, spec: ArgoSpec, *, workflow_name: str, uid: str, params: dict[str, str],
                 run_leaf: Callable[..., None], control: RunControl | None = None,
                 claim: Callable[[str], bool] = lambda name: True) -> None:
        self.spec = spec
        self.name = workflow_name
        self.uid = uid
        self.created = now()
        self.run_leaf = run_leaf
        self.control = control or RunControl(Semantics(stop_ladder="argo"))
        self.claim = claim  # exactly once for lifecycle nodes (the core's claims)
        self.lock = threading.RLock()
        self.nodes: dict[str, Node] = {}
        self.status = RUNNING
        self.message: str | None = None
        self.global_outputs: dict[str, str] = {}
        self.global_artifacts: dict[str, str] = {}  # globalName → artifact record (JSON text)
        self.repo_config: dict = {}  # the config file's artifactRepository/artifactRepositories
        self.repo_config_error: str | None = None  # the config file could not be read
        self._repository = None
        self.mutexes: dict[str, threading.Lock] = {}
        self.pods = threading.BoundedSemaphore(spec.parallelism) if spec.parallelism else None
        self.failures: str | None = None
        # workflow arguments: spec values overridden by -p
        args = {p.name: (p.value if p.value is not None else p.default) for p in spec.arguments}
        self.argument_error: str | None = None
        for p in spec.arguments:  # a ConfigMap key, unless -p gives the value
            if p.config_map is not None and p.value is None and p.name not in params:
                try:
                    args[p.name] = config_map_value(p.config_map, p.default)
                except InputError as exc:
                    self.argument_error = f"spec.arguments.parameters.{p.name}: {exc}"
        args.update(params)
        self.arguments = args
        self.workflow_args = tuple(Parameter(n, v) for n, v in args.items())

    @property
    def shutdown(self) -> str | None:  # "Stop" | "Terminate": the core's stop ladder decides
        return self.control.shutdown

    @property
    def deadline_exceeded(self) -> bool:
        return self.control.deadline_exceeded

    @property
    def main_stop(self):  # non-exit nodes
        return self.control.main

    @property
    def exit_stop(self):  # exit handlers and their children
        return self.control.lifecycle

    # ------------------------------------------------------------------ nodes and scopes

    def add_node(self, node: Node) -> Node:
        with self.lock:
            # a re-run of the same name (a retried hook, a loop re-expansion) gets a suffix
            if node.phase == "not_started":
                node.phase = PENDING
            base, n = node.name, 1
            while node.name in self.nodes:
                node.name = f"{base}#{n}"
                n += 1
            self.nodes[node.name] = node
            if node.parent and node.parent in self.nodes:
                self.nodes[node.parent].children.append(node.name)
        return node

    def records(self) -> list[Node]:
        with self.lock:
            return list(self.nodes.values())

    def all_records(self) -> list[Node]:  # the CLI's live view
        return self.records()

    def globals(self) -> dict[str, str]:
        g: dict[str, str] = {
            "workflow.name": self.name,
            "workflow.namespace": self.spec.namespace,
            "workflow.uid": self.uid,
            "workflow.mainEntrypoint": self.spec.entrypoint,
            "workflow.serviceAccountName": self.spec.service_account,
            "workflow.status": self.status,
            "workflow.duration": f"{(now() - self.created).total_seconds():.6f}",
        }
        g.update(timestamp_vars("workflow.creationTimestamp", self.created))
        if self.spec.priority is not None:
            g["workflow.priority"] = str(self.spec.priority)
        plist = []
        for n, v in self.arguments.items():
            if v is not None:
                g[f"workflow.parameters.{n}"] = v
            plist.append({"name": n, "value": v})
        g["workflow.parameters"] = g["workflow.parameters.json"] = json.dumps(plist, separators=(",", ":"))
        for key, pairs in (("labels", self.spec.labels), ("annotations", self.spec.annotations)):
            for k, v in pairs:
                g[f"workflow.{key}.{k}"] = v
            g[f"workflow.{key}"] = g[f"workflow.{key}.json"] = json.dumps(dict(pairs), separators=(",", ":"))
        for k, v in self.global_outputs.items():
            g[f"workflow.outputs.parameters.{k}"] = v
        for k, v in self.global_artifacts.items():
            g[f"workflow.outputs.artifacts.{k}"] = v
        if self.failures is not None:
            g["workflow.failures"] = self.failures
        return g

    def compute_failures(self) -> str:
        items = [
            {"displayName": n.display_name, "message": n.message or "", "templateName": n.template or "",
             "phase": n.phase, "podName": self.pod_name(n) if n.node_type == "Pod" else "",
             "finishedAt": n.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if n.finished_at else ""}
            for n in self.records() if n.phase in (FAILED, ERROR)
        ]
        return workflow_failures(items)

    def pod_name(self, node: Node) -> str:
        if node.parent is None:
            return self.name
        h = zlib.crc32(node.name.encode()) & 0xFFFFFFFF
        return f"{self.name}-{(node.template or 'pod').split('/')[-1]}-{h}"

    def blocked(self, exit_ctx: bool) -> str | None:
        """Why new work may not start now, or None (Stop still lets exit handlers run)."""
        if self.shutdown == "Terminate":
            return "workflow shutdown with strategy: Terminate"
        if exit_ctx:
            return None
        if self.shutdown == "Stop":
            return "workflow shutdown with strategy: Stop"
        if self.deadline_exceeded:
            return "Step exceeded its deadline"
        return None

    # ------------------------------------------------------------------ templates

    def repository(self):
        """The workflow's artifact repository, chosen once (Argo freezes it in the status)."""
        with self.lock:
            if self.repo_config_error:
                raise RepositoryError(f"failed to resolve artifact repository: {self.repo_config_error}")
            if self._repository is None:
                self._repository = resolve_repository(self.repo_config, self.spec.repository_ref)
            return self._repository

    def execute(self, *, node_id: str, display: str, parent: str | None, kind: str, template: str,
                args: dict[str, str], scope: dict[str, str], exit_ctx: bool,
                on_running: Callable[[], None] | None = None, art_args: dict[str, dict] | None = None) -> Node:
        """Run template `template` as node `node_id`; returns the node, fulfilled. `art_args`:
        the call's artifact arguments, resolved (records by name)."""
        tmpl = self.spec.templates[template]
        node = self.add_node(Node(node_id, display, kind, _node_type(tmpl), template=template, parent=parent))
        why = self.blocked(exit_ctx)
        if why:
            return node.finish(FAILED, why)
        node.phase, node.started_at = RUNNING, now()
        base = {**self.globals(), **_outer(scope)}
        local = {**base, "node.name": node.name}
        if tmpl.kind in ("container", "script") and tmpl.retry is None:
            local["pod.name"] = self.pod_name(node)
        try:
            inputs = self.resolve_inputs(tmpl, args, local)
            inputs.update(self.bind_artifacts(tmpl, art_args or {}, local))
        except InputError as exc:
            _fire(on_running)
            return node.finish(ERROR, str(exc))
        tscope = {**base, **inputs, "node.name": node.name}
        lock = self._mutex(tmpl)
        try:
            if tmpl.retry is not None:
                self.run_retry(node, tmpl, tscope, exit_ctx, on_running)
            else:
                self.run_body(node, tmpl, tscope, exit_ctx, on_running)
        finally:
            for m in lock:
                m.release()
        return node

    def _mutex(self, tmpl: Template) -> list[threading.Lock]:
        held = []
        for name in tmpl.mutexes:
            with self.lock:
                m = self.mutexes.setdefault(name, threading.Lock())
            m.acquire()
            held.append(m)
        return held

    def resolve_inputs(self, tmpl: Template, args: dict[str, str], scope: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        listing = []
        for p in tmpl.inputs:
            if p.name in args and args[p.name] is not None:
                value = args[p.name]
            elif p.config_map is not None:  # Argo ProcessArgs: argument, else the ConfigMap key
                try:
                    value = config_map_value(p.config_map, p.value if p.value is not None else p.default)
                except InputError as exc:
                    raise InputError(f"inputs.parameters.{p.name}: {exc}") from None
            elif p.value is not None:
                value = p.value
            elif p.default is not None:
                value = p.default
            else:
                raise InputError(f"inputs.parameters.{p.name} was not supplied")
            # Argo SubstituteParams (workflow/common/util.go): the template, its input values
            # included, is substituted once with the globals and locals (workflow.*, node.name,
            # pod.name) leaving unknown tags and failing {{=…}} as written; the
            # {{inputs.parameters.X}} uses then get these values, not read again. So a value
            # is substituted a second time, but never from other inputs or the caller's scope.
            value = substitute(value, scope, lenient=True)
            if p.enum and value not in p.enum:
                raise InputError(f"inputs.parameters.{p.name}: value {value!r} is not in enum {list(p.enum)}")
            out[f"inputs.parameters.{p.name}"] = value
            listing.append({"name": p.name, "value": value})
        out["inputs.parameters"] = json.dumps(listing, separators=(",", ":"))
        for op in tmpl.outputs:
            if op.path:
                out[f"outputs.parameters.{op.name}.path"] = op.path
        return out

    def bind_artifacts(self, tmpl: Template, given: dict[str, dict], scope: dict[str, str]) -> dict[str, str]:
        """`inputs.artifacts.<n>` (the bound record) and `.path`; `outputs.artifacts.<n>.path`."""
        out: dict[str, str] = {}
        for art in tmpl.input_artifacts:
            try:
                rec = artifacts.bind_input(art, given.get(art.name), scope, self.repository)
            except (artifacts.ArtifactError, RepositoryError) as exc:
                raise InputError(str(exc)) from None
            if art.path:
                out[f"inputs.artifacts.{art.name}.path"] = substitute(art.path, scope)
            if rec is not None:
                out[f"inputs.artifacts.{art.name}"] = artifacts.to_text(rec)
        for art in tmpl.output_artifacts:
            if art.path:
                out[f"outputs.artifacts.{art.name}.path"] = substitute(art.path, scope)
        return out

    def artifact_args(self, arts: tuple[Artifact, ...], scope: dict[str, str]) -> dict[str, dict]:
        """A call's `arguments.artifacts`, resolved against the caller's scope (raises
        Unresolved: `Unable to resolve: "steps.X.outputs.artifacts.Y"`)."""
        out = {}
        for art in arts:
            if art.from_ or art.from_expression:
                rec = artifacts.resolve_from(art, scope)
            else:
                try:
                    rec = artifacts.location_record(art, scope, self.repository)
                except RepositoryError as exc:
                    raise Unresolved(art.name, str(exc)) from None
            if rec is not None:
                out[art.name] = rec
        return out

    def run_body(self, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool,
                 on_running: Callable[[], None] | None) -> None:
        scope = {**scope, "pod.name": self.pod_name(node)}
        if tmpl.kind in ("container", "script", "http", "suspend"):
            self.run_leaf(self, node, tmpl, scope, exit_ctx, on_running)
        else:
            _fire(on_running)
            if tmpl.kind == "steps":
                self.run_steps(node, tmpl, scope, exit_ctx)
            elif tmpl.kind == "dag":
                self.run_dag(node, tmpl, scope, exit_ctx)
            else:
                node.finish(ERROR, f"template kind {tmpl.kind} cannot run")
                return
            self.template_outputs(node, tmpl, scope)
        self.export_globals(node, tmpl)

    def template_outputs(self, node: Node, tmpl: Template, scope: dict[str, str]) -> None:
        """Outputs of steps/dag templates: valueFrom.parameter / expression / value."""
        params = {}
        for op in tmpl.outputs:
            try:
                if op.expression:
                    params[op.name] = expr.format_value(expr.evaluate(op.expression, node.outputs.get("_scope", scope)))
                elif op.parameter:
                    params[op.name] = substitute(op.parameter, node.outputs.get("_scope", scope))
                elif op.value is not None:
                    params[op.name] = substitute(op.value, node.outputs.get("_scope", scope))
                elif op.default is not None:
                    params[op.name] = op.default
            except (Unresolved, *expr.ExpressionError) as exc:
                if op.default is not None:
                    params[op.name] = op.default
                elif node.phase == SUCCEEDED:
                    node.finish(ERROR, f"outputs.parameters.{op.name}: {exc}")
        own = node.outputs.get("_scope", scope)
        arts = []
        for art in tmpl.output_artifacts:
            try:
                rec = artifacts.resolve_from(art, own)
            except (Unresolved, *expr.ExpressionError) as exc:
                if node.phase == SUCCEEDED:
                    node.finish(ERROR, f"unable to resolve outputs from scope: {exc}")
                continue
            if rec is not None:
                if art.global_name:
                    rec["globalName"] = substitute(art.global_name, own)
                arts.append(rec)
        node.outputs.pop("_scope", None)
        if params:
            node.outputs["parameters"] = params
        if arts:
            node.outputs["artifacts"] = arts

    def export_globals(self, node: Node, tmpl: Template) -> None:
        params = node.outputs.get("parameters") or {}
        for op in tmpl.outputs:
            if op.global_name and op.name in params:
                with self.lock:
                    self.global_outputs[op.global_name] = params[op.name]
        for rec in node.outputs.get("artifacts") or ():  # last writer wins (operator.go)
            if rec.get("globalName"):
                with self.lock:
                    self.global_artifacts[rec["globalName"]] = artifacts.to_text(
                        artifacts.export_record(rec, rec["globalName"]))

    # ------------------------------------------------------------------ the workflow

    def run_main(self) -> None:
        """The entry template and the workflow-level hooks; decides the workflow's phase."""
        spec = self.spec
        wf_hooks = WorkflowHooks(self)
        wf_hooks.evaluate()  # workflow.status == "Running"
        if self.argument_error:
            self.status, self.message = ERROR, self.argument_error
            self.failures = self.compute_failures()
            return
        try:
            if spec.repository_ref is not None or self.repo_config or self.repo_config_error:
                self.repository()  # Argo resolves it when the workflow starts (operator.go)
            art_args = self.artifact_args(spec.artifacts, self.globals())
        except (Unresolved, RepositoryError, *expr.ExpressionError) as exc:
            self.status, self.message = ERROR, str(exc)
            self.failures = self.compute_failures()
            return
        root = self.execute(node_id=self.name, display=self.name, parent=None, kind="step",
                            template=spec.entrypoint, args={k: v for k, v in self.arguments.items() if v is not None},
                            scope={}, exit_ctx=False, art_args=art_args)
        self.status = {SUCCEEDED: SUCCEEDED, SKIPPED: SUCCEEDED, OMITTED: SUCCEEDED, FAILED: FAILED,
                       ERROR: ERROR}.get(root.phase, FAILED)
        self.message = root.message if self.status != SUCCEEDED else None
        self.settle_stopped()
        self.failures = self.compute_failures()
        wf_hooks.evaluate()  # workflow.status is now final
        wf_hooks.wait()

    def settle_stopped(self) -> None:
        """A stop or the deadline decides the phase: Failed (Error stays Error)."""
        if self.shutdown:
            self.status = ERROR if self.status == ERROR else FAILED
            self.message = f"Stopped with strategy '{self.shutdown}'"
        elif self.deadline_exceeded:
            self.status = ERROR if self.status == ERROR else FAILED
            self.message = "Step exceeded its deadline"

    def run_exit_handler(self) -> None:
        """`spec.onExit` / `hooks.exit`, claimed once; a failing one fails a Succeeded run.
        Terminate skips it (and a Terminate while it runs makes the run Failed)."""
        spec = self.spec
        if spec.exit_hook is not None and self.shutdown != "Terminate" and self.claim("onExit"):
            root = self.nodes.get(self.name) or self.add_node(
                Node(self.name, self.name, "step", "Steps", template=spec.entrypoint).finish(self.status, self.message))
            self.failures = self.compute_failures()
            exit_node = self.run_hook(spec.exit_hook, root, self.globals(), exit_ctx=True)
            if exit_node is not None and self.status == SUCCEEDED and exit_node.phase in (FAILED, ERROR):
                self.status = exit_node.phase
                self.message = exit_node.message
        if self.shutdown and self.message != f"Stopped with strategy '{self.shutdown}'":
            # terminated while the exit handler ran (a second Ctrl-C)
            self.status = ERROR if self.status == ERROR else FAILED
            self.message = f"Stopped with strategy '{self.shutdown}'"

    def run_workflow(self) -> None:
        """The whole run without the core (tests with a fake leaf)."""
        self.run_main()
        self.run_exit_handler()


def config_map_value(ref, default: str | None) -> str:
    """A parameter's `valueFrom.configMapKeyRef` (the Prefect Variable of that ConfigMap);
    its `default` when the ConfigMap or key is missing, else InputError in Argo's words."""
    from ..k8s_objects import ObjectLookupError, config_map_data

    try:
        data = config_map_data(ref.object)
    except ObjectLookupError as exc:
        raise InputError(str(exc)) from None
    except Exception as exc:  # the server is unreachable
        raise InputError(f'configmap "{ref.object}": cannot read it from Prefect: {exc}') from None
    if data is not None and ref.key in data:
        return data[ref.key]
    if default is not None:
        return default
    if data is None:
        raise InputError(f'configmap "{ref.object}" not found')
    raise InputError(f"ConfigMap '{ref.object}' does not have the key '{ref.key}'")
