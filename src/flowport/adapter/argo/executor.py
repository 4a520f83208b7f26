"""Walks the Argo template tree: the semantics of research/argo.md §1–§3.

Every template invocation is a node (`Node`), named as Argo names it (`<wf>[0].step`,
`<dag>.task`, `<name>(0:item)`, `<node>.onExit`, `<node>.hooks.<name>`). Container, script,
http and suspend nodes run as Prefect task runs (leaf.py); steps/dag/retry nodes are
orchestrated here, inline in the flow run, one thread per concurrently running branch
(threads copy the flow's context, so task runs attach to the flow run).
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
import zlib
from typing import Any, Callable

from ...model import Semantics
from ...model.argo import ArgoSpec, Call, Hook, Parameter, Template
from ..core import RunControl
from ..records import NodeRecord, now
from . import expr
from ...lang.argo_tags import (
    Unresolved,
    item_label,
    item_scope,
    pure_reference,
    sequence_items,
    substitute,
    timestamp_vars,
    workflow_failures,
)

PENDING, RUNNING = "Pending", "Running"
SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED = "Succeeded", "Failed", "Error", "Skipped", "Omitted"
FULFILLED = {SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED}
COMPLETED = {SUCCEEDED, FAILED, ERROR}  # ran: these get their exit hook


# Argo nodes are the core's node records: `name` is Argo's node name (unique), `display_name`
# its display name, `node_type` Pod | Steps | StepGroup | DAG | TaskGroup | Retry | Skipped | …
Node = NodeRecord


class InputError(Exception):
    pass


def spawn(fn: Callable[[], Any]) -> threading.Thread:
    """A thread that runs `fn` in a copy of the current context (the Prefect flow run's)."""
    ctx = contextvars.copy_context()
    t = threading.Thread(target=ctx.run, args=(fn,), daemon=True)
    t.start()
    return t


class Executor:
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
        self.mutexes: dict[str, threading.Lock] = {}
        self.pods = threading.BoundedSemaphore(spec.parallelism) if spec.parallelism else None
        self.failures: str | None = None
        # workflow arguments: spec values overridden by -p
        args = {p.name: (p.value if p.value is not None else p.default) for p in spec.arguments}
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

    def execute(self, *, node_id: str, display: str, parent: str | None, kind: str, template: str,
                args: dict[str, str], scope: dict[str, str], exit_ctx: bool,
                on_running: Callable[[], None] | None = None) -> Node:
        """Run template `template` as node `node_id`; returns the node, fulfilled."""
        tmpl = self.spec.templates[template]
        node = self.add_node(Node(node_id, display, kind, _node_type(tmpl), template=template, parent=parent))
        why = self.blocked(exit_ctx)
        if why:
            return node.finish(FAILED, why)
        node.phase, node.started_at = RUNNING, now()
        base = {**self.globals(), **_outer(scope)}
        try:
            inputs = self.resolve_inputs(tmpl, args, base)
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
            elif p.value is not None:
                value = p.value
            elif p.default is not None:
                value = p.default
            else:
                raise InputError(f"inputs.parameters.{p.name} was not supplied")
            try:
                value = substitute(value, {**scope, **out}, strict=())
            except Unresolved as exc:
                raise InputError(str(exc)) from None
            if p.enum and value not in p.enum:
                raise InputError(f"inputs.parameters.{p.name}: value {value!r} is not in enum {list(p.enum)}")
            out[f"inputs.parameters.{p.name}"] = value
            listing.append({"name": p.name, "value": value})
        out["inputs.parameters"] = json.dumps(listing, separators=(",", ":"))
        for op in tmpl.outputs:
            if op.path:
                out[f"outputs.parameters.{op.name}.path"] = op.path
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
        node.outputs.pop("_scope", None)
        if params:
            node.outputs["parameters"] = params

    def export_globals(self, node: Node, tmpl: Template) -> None:
        params = node.outputs.get("parameters") or {}
        for op in tmpl.outputs:
            if op.global_name and op.name in params:
                with self.lock:
                    self.global_outputs[op.global_name] = params[op.name]

    # ------------------------------------------------------------------ retries

    def run_retry(self, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool,
                  on_running: Callable[[], None] | None) -> None:
        from ...lang.durations import parse_duration

        r = tmpl.retry
        node.node_type = "Retry"
        try:
            limit = int(substitute(r.limit, scope)) if r.limit is not None else None
        except (ValueError, Unresolved) as exc:
            node.finish(ERROR, f"retryStrategy.limit: {exc}")
            return
        duration = parse_duration(substitute(r.backoff_duration, scope)) if r.backoff_duration else None
        factor = float(substitute(r.backoff_factor, scope)) if r.backoff_factor else None
        cap = parse_duration(substitute(r.backoff_cap, scope)) if r.backoff_cap else None
        max_duration = parse_duration(substitute(r.backoff_max_duration, scope)) if r.backoff_max_duration else None
        started = time.monotonic()
        attempt = 0
        fired = False

        def running() -> None:
            nonlocal fired
            if not fired:
                fired = True
                _fire(on_running)

        while True:
            child = self.add_node(Node(f"{node.name}({attempt})", f"{node.display_name}({attempt})", node.kind,
                                       _node_type(tmpl), template=tmpl.name, parent=node.name))
            why = self.blocked(exit_ctx)
            if why:
                child.finish(FAILED, why)
            else:
                child.phase, child.started_at = RUNNING, now()
                self.run_body(child, tmpl, {**scope, "retries": str(attempt), "node.name": child.name}, exit_ctx, running)
            node.outputs = dict(child.outputs)
            node.exit_code = child.exit_code
            if child.phase == SUCCEEDED:
                node.finish(SUCCEEDED, child.message)
                return
            message = None
            if limit is not None and attempt >= limit:
                message = "No more retries left"
            elif self.blocked(exit_ctx):
                message = child.message
            elif not _policy_retries(r.policy, child.phase):
                message = child.message
            elif r.expression:
                env = {**scope, "lastRetry.exitCode": str(child.exit_code if child.exit_code is not None else -1),
                       "lastRetry.status": child.phase, "lastRetry.message": child.message or "",
                       "lastRetry.duration": f"{((child.finished_at or now()) - (child.started_at or now())).total_seconds():.0f}"}
                try:
                    if not expr.evaluate_bool(r.expression, env):
                        message = "retryStrategy.expression evaluated to false"
                except expr.ExpressionError as exc:
                    node.finish(ERROR, f"retryStrategy.expression: {exc}")
                    return
            if message is None:
                wait = 0.0
                if duration:
                    wait = duration * ((factor or 1.0) ** attempt)
                    if cap:
                        wait = min(wait, cap)
                if max_duration is not None and time.monotonic() - started + wait > max_duration:
                    message = "Max duration limit exceeded"
                elif wait > 0:
                    stop = self.exit_stop if exit_ctx else self.main_stop
                    stop.requested.wait(wait)
            if message is not None:
                node.finish(child.phase, message)
                return
            attempt += 1

    # ------------------------------------------------------------------ calls (steps and tasks)

    def expand(self, call: Call, scope: dict[str, str]) -> list[tuple[str, dict[str, str]]] | str:
        """Loop children as (label, item scope); a message when the loop cannot expand."""
        loop = call.loop
        if loop is None:
            return [("", {})]
        try:
            if loop.items is not None:
                items = [_subst_item(i, scope) for i in loop.items]
            elif loop.param is not None:
                text = substitute(loop.param, scope)
                try:
                    items = json.loads(text)
                except json.JSONDecodeError:
                    return f"withParam value could not be parsed as a JSON list: {text.strip()[:200]}"
                if not isinstance(items, list):
                    return f"withParam value is not a JSON list: {text.strip()[:200]}"
            else:
                s = loop.sequence
                items = sequence_items(*(substitute(v, scope) if v is not None else None
                                         for v in (s.count, s.start, s.end, s.format)))
        except Unresolved as exc:
            return str(exc)
        except ValueError as exc:
            return f"withSequence: {exc}"
        return [(f"({i}:{item_label(item)})", item_scope(item)) for i, item in enumerate(items)]

    def run_call(self, call: Call, *, node_id: str, display: str, parent: str, scope: dict[str, str],
                 prefix: str, exit_ctx: bool) -> Node:
        """One step/task (one loop child): `when`, arguments, the template, hooks, exit hook."""
        tmpl = self.spec.templates[call.template]
        if call.when is not None:
            try:
                text = substitute(call.when, scope)
                ok = expr.evaluate_when(text)
            except (Unresolved, *expr.ExpressionError) as exc:
                node = self.add_node(Node(node_id, display, "step", "Skipped", template=call.template, parent=parent))
                return node.finish(ERROR, str(exc))
            if not ok:
                node = self.add_node(Node(node_id, display, "step", "Skipped", template=call.template, parent=parent))
                return node.finish(SKIPPED, f"when '{text}' evaluated false")
        try:
            args = self.call_args(call.arguments, scope)
        except Unresolved as exc:
            node = self.add_node(Node(node_id, display, "step", _node_type(tmpl), template=call.template, parent=parent))
            return node.finish(ERROR, str(exc))
        hooks = HookSet(self, call, scope, prefix, exit_ctx)
        node = self.execute(node_id=node_id, display=display, parent=parent, kind="step", template=call.template,
                            args=args, scope=scope, exit_ctx=exit_ctx,
                            on_running=lambda: hooks.evaluate(self.nodes.get(node_id), RUNNING))
        hooks.evaluate(node, node.phase)
        hooks.wait()
        if call.exit_hook is not None and node.phase in COMPLETED:
            own = {**scope, **node_vars(prefix, call.name, node)}
            self.run_hook(call.exit_hook, node, own, exit_ctx=True)
        return node

    def call_args(self, params: tuple[Parameter, ...], scope: dict[str, str]) -> dict[str, str]:
        out = {}
        for p in params:
            raw = p.value if p.value is not None else p.default
            if raw is None:
                continue
            try:
                out[p.name] = substitute(raw, scope)
            except Unresolved:
                ref = pure_reference(raw)
                if ref and ref.startswith(("steps.", "tasks.")) and ".outputs." in ref:
                    continue  # an absent output (skipped producer): the input's default applies
                raise
        return out

    def run_hook(self, hook: Hook, owner: Node, scope: dict[str, str], *, exit_ctx: bool) -> Node | None:
        if hook.name == "exit":
            node_id, display, kind = f"{owner.name}.onExit", f"{owner.display_name}.onExit", "handler"
        else:
            node_id, display, kind = f"{owner.name}.hooks.{hook.name}", f"{owner.display_name}.hooks.{hook.name}", "hook"
        if owner.parent is None:  # workflow level: Argo shows `onExit`, `hooks.<name>`
            display = "onExit" if hook.name == "exit" else f"hooks.{hook.name}"
        if self.shutdown == "Terminate" or (not exit_ctx and self.blocked(False)):
            return None
        params = hook.arguments or (self.workflow_args if hook.name == "exit" else ())
        try:
            args = self.call_args(params, scope)
        except Unresolved as exc:
            node = self.add_node(Node(node_id, display, kind, "Pod", template=hook.template, parent=owner.name))
            return node.finish(ERROR, str(exc))
        return self.execute(node_id=node_id, display=display, parent=owner.name, kind=kind, template=hook.template,
                            args=args, scope=scope, exit_ctx=exit_ctx)

    # ------------------------------------------------------------------ steps

    def run_steps(self, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool) -> None:
        node.node_type = "Steps"
        local = dict(scope)
        failed_child = None
        for i, group in enumerate(tmpl.steps):
            why = self.blocked(exit_ctx)
            if why:
                node.finish(FAILED, why)
                return
            gnode = self.add_node(Node(f"{node.name}[{i}]", f"[{i}]", "step", "StepGroup", parent=node.name))
            gnode.phase, gnode.started_at = RUNNING, now()
            jobs: list[tuple[Call, str, str, dict[str, str]]] = []
            results: dict[str, list[Node]] = {c.name: [] for c in group}
            for call in group:
                children = self.expand(call, local)
                if isinstance(children, str):
                    n = self.add_node(Node(f"{gnode.name}.{call.name}", call.name, "step", "Skipped",
                                           template=call.template, parent=gnode.name))
                    results[call.name].append(n.finish(ERROR, children))
                    continue
                if not children:
                    n = self.add_node(Node(f"{gnode.name}.{call.name}", call.name, "step", "Skipped",
                                           template=call.template, parent=gnode.name))
                    results[call.name].append(n.finish(SKIPPED, "Skipped, empty params"))
                    continue
                for label, iscope in children:
                    jobs.append((call, f"{gnode.name}.{call.name}{label}", f"{call.name}{label}", {**local, **iscope}))
            done: dict[str, Node] = {}
            self._run_parallel(
                jobs, tmpl, exit_ctx,
                lambda job: done.__setitem__(job[1], self.run_call(
                    job[0], node_id=job[1], display=job[2], parent=gnode.name, scope=job[3], prefix="steps",
                    exit_ctx=exit_ctx)),
            )
            for job in jobs:  # loop-index order (outputs aggregate in that order)
                if job[1] in done:
                    results[job[0].name].append(done[job[1]])
            for call in group:
                local.update(aggregate_vars("steps", call.name, results[call.name], looped=call.loop is not None))
                for child in results[call.name]:
                    if child.phase in (FAILED, ERROR) and not _continues(call, child.phase):
                        failed_child = failed_child or child
            if self._fail_fast_hit(tmpl, results):
                gnode.finish(FAILED, "template has failed or errored children and failFast enabled")
                node.finish(FAILED, gnode.message)
                return
            if failed_child is not None:
                gnode.finish(FAILED, f"child '{failed_child.name}' failed")
                node.finish(FAILED, f"child '{failed_child.name}' failed")
                return
            gnode.finish(SUCCEEDED)
        node.outputs["_scope"] = local
        node.finish(SUCCEEDED)

    def _fail_fast_hit(self, tmpl: Template, results: dict[str, list[Node]]) -> bool:
        if not (tmpl.parallelism and tmpl.fail_fast):
            return False
        return any(n.phase in (FAILED, ERROR) for nodes in results.values() for n in nodes)

    def _run_parallel(self, jobs: list, tmpl: Template, exit_ctx: bool, work: Callable[[Any], None]) -> None:
        """Run jobs concurrently, at most `tmpl.parallelism` at once; with failFast (and a
        parallelism) no new job starts after a failure."""
        if len(jobs) == 1 and not tmpl.parallelism:
            work(jobs[0])
            return
        limit = threading.BoundedSemaphore(tmpl.parallelism) if tmpl.parallelism else None
        failed = threading.Event()
        threads = []

        def one(job) -> None:
            try:
                work(job)
            finally:
                if limit is not None:
                    limit.release()

        for job in jobs:
            if limit is not None:
                limit.acquire()
                if tmpl.fail_fast and self._any_failed(jobs, threads):
                    limit.release()
                    failed.set()
                    break
            threads.append(spawn(lambda j=job: one(j)))
        for t in threads:
            t.join()

    def _any_failed(self, jobs, threads) -> bool:
        with self.lock:
            return any(n.phase in (FAILED, ERROR) and n.kind == "step" and n.node_type != "StepGroup"
                       for n in self.nodes.values() if n.name in {j[1] for j in jobs})

    # ------------------------------------------------------------------ dag

    def run_dag(self, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool) -> None:
        node.node_type = "DAG"
        tasks = {t.name: t for t in tmpl.tasks}
        deps = {t.name: [n for n, _ in expr.depends_operands(t.depends)] if t.depends else [] for t in tmpl.tasks}
        if tmpl.target:
            try:
                targets = substitute(tmpl.target, scope).split()
            except Unresolved as exc:
                node.finish(ERROR, str(exc))
                return
            unknown = [t for t in targets if t not in tasks]
            if unknown:
                node.finish(ERROR, f"target {unknown[0]!r} is not a task of this dag")
                return
        else:
            used = {d for ds in deps.values() for d in ds}
            targets = [t.name for t in tmpl.tasks if t.name not in used]
        needed: set[str] = set()
        stack = list(targets)
        while stack:
            t = stack.pop()
            if t not in needed:
                needed.add(t)
                stack.extend(deps[t])
        local = dict(scope)
        state: dict[str, Node] = {}  # task → its node (TaskGroup for loops), once fulfilled
        started: set[str] = set()
        cond = threading.Condition()
        threads = []
        limit = threading.BoundedSemaphore(tmpl.parallelism) if tmpl.parallelism else None
        fail_fast_stop = False

        def finished(name: str, n: Node, vars_: dict[str, str]) -> None:
            with cond:
                local.update(vars_)
                state[name] = n
                cond.notify_all()

        def run_task(call: Call, snapshot: dict[str, str]) -> None:
            try:
                n, vars_ = self._dag_task(node, call, snapshot, exit_ctx)
            except Exception as exc:  # a flowport bug: the task errors, the DAG goes on
                n = self.add_node(Node(f"{node.name}.{call.name}", call.name, "step", "Pod", parent=node.name))
                n.finish(ERROR, f"internal error: {exc!r}")
                vars_ = {}
            finally:
                if limit is not None:
                    limit.release()
            finished(call.name, n, vars_)

        def alive() -> bool:
            return any(t.is_alive() for t in threads)

        while True:
            with cond:
                stopped = bool(self.blocked(exit_ctx)) or fail_fast_stop
                for name in [t.name for t in tmpl.tasks if t.name in needed and t.name not in started]:
                    if stopped or not all(d in state for d in deps[name]):
                        continue
                    call = tasks[name]
                    try:
                        go = self._depends_met(call, tasks, state)
                    except expr.ExpressionError as exc:
                        n = self.add_node(Node(f"{node.name}.{name}", name, "step", "Skipped", template=call.template, parent=node.name))
                        state[name] = n.finish(ERROR, f"invalid depends: {exc}")
                        started.add(name)
                        continue
                    if not go:
                        n = self.add_node(Node(f"{node.name}.{name}", name, "step", "Skipped", template=call.template, parent=node.name))
                        state[name] = n.finish(OMITTED, "omitted: depends condition not met")
                        started.add(name)
                        continue
                    if limit is not None:
                        if tmpl.fail_fast and any(x.phase in (FAILED, ERROR) for x in state.values()):
                            fail_fast_stop = stopped = True
                            continue
                        if not limit.acquire(blocking=False):
                            continue  # a slot frees when a running task ends
                    started.add(name)
                    threads.append(spawn(lambda c=call, snap=dict(local): run_task(c, snap)))
                if all(t in state for t in needed):
                    break
                if not alive() and len(started) == len([t for t in started if t in state]):
                    # nothing runs and nothing more can start (stopped, or fail-fast)
                    if stopped or not any(all(d in state for d in deps[t]) for t in needed if t not in started):
                        break
                    continue
                cond.wait(0.5)
        for t in threads:
            t.join()
        if fail_fast_stop:
            node.finish(FAILED, "template has failed or errored children and failFast enabled")
            return
        if not all(t in state for t in needed):
            node.finish(FAILED, self.blocked(exit_ctx) or "dag cannot progress")
            return
        node.outputs["_scope"] = local
        phase, message = assess_dag(targets, tasks, deps, state)
        node.finish(phase, message)

    def _dag_task(self, dag: Node, call: Call, scope: dict[str, str], exit_ctx: bool) -> tuple[Node, dict[str, str]]:
        node_id = f"{dag.name}.{call.name}"
        children = self.expand(call, scope)
        if call.loop is None and not isinstance(children, str):
            n = self.run_call(call, node_id=node_id, display=call.name, parent=dag.name, scope=scope,
                              prefix="tasks", exit_ctx=exit_ctx)
            return n, aggregate_vars("tasks", call.name, [n], looped=False)
        group = self.add_node(Node(node_id, call.name, "step", "TaskGroup", template=call.template, parent=dag.name))
        group.phase, group.started_at = RUNNING, now()
        if isinstance(children, str):
            return group.finish(ERROR, children), {}
        if not children:
            return group.finish(SKIPPED, "Skipped, empty params"), aggregate_vars("tasks", call.name, [], looped=True)
        results: list[tuple[int, Node]] = []

        def one(i: int, label: str, iscope: dict[str, str]) -> None:
            n = self.run_call(call, node_id=f"{node_id}{label}", display=f"{call.name}{label}", parent=group.name,
                              scope={**scope, **iscope}, prefix="tasks", exit_ctx=exit_ctx)
            with self.lock:
                results.append((i, n))

        threads = [spawn(lambda i=i, l=l, s=s: one(i, l, s)) for i, (l, s) in enumerate(children)]
        for t in threads:
            t.join()
        nodes = [n for _, n in sorted(results, key=lambda r: r[0])]
        bad = next((n for n in nodes if n.phase in (FAILED, ERROR) and not _continues(call, n.phase)), None)
        group.finish(bad.phase if bad else SUCCEEDED, f"child '{bad.name}' failed" if bad else None)
        group.outputs = {"children": [n.name for n in nodes]}
        return group, aggregate_vars("tasks", call.name, nodes, looped=True, group=group)

    def _depends_met(self, call: Call, tasks: dict[str, Call], state: dict[str, Node]) -> bool:
        if not call.depends:
            return True
        cont = {}
        results = {}
        for name, dep in tasks.items():
            if name not in state:
                continue
            n = state[name]
            kinds = tuple(k for k, on in (("failed", dep.continue_failed), ("error", dep.continue_error)) if on)
            if kinds:
                cont[name] = kinds
            kids = tuple(self.nodes[c].phase for c in n.children if c in self.nodes) if n.node_type == "TaskGroup" else ()
            results[name] = expr.TaskResult(n.phase, children=kids)
        return expr.compile_depends(call.depends, cont).evaluate(results)

    # ------------------------------------------------------------------ the workflow

    def run_main(self) -> None:
        """The entry template and the workflow-level hooks; decides the workflow's phase."""
        spec = self.spec
        wf_hooks = WorkflowHooks(self)
        wf_hooks.evaluate()  # workflow.status == "Running"
        root = self.execute(node_id=self.name, display=self.name, parent=None, kind="step",
                            template=spec.entrypoint, args={k: v for k, v in self.arguments.items() if v is not None},
                            scope={}, exit_ctx=False)
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


# ---------------------------------------------------------------- hooks


class HookSet:
    """The named hooks of one step/task: each fires at most once, when its expression is
    true; the step (and its group or dependants) waits for the fired ones."""

    def __init__(self, ex: Executor, call: Call, scope: dict[str, str], prefix: str, exit_ctx: bool) -> None:
        self.ex, self.call, self.scope, self.prefix, self.exit_ctx = ex, call, scope, prefix, exit_ctx
        self.fired: set[str] = set()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def evaluate(self, node: Node | None, phase: str) -> None:
        if not self.call.hooks or node is None:
            return
        env = {**self.scope, **self.ex.globals(), f"{self.prefix}.{self.call.name}.status": phase}
        for hook in self.call.hooks:
            with self.lock:
                if hook.name in self.fired:
                    continue
                try:
                    ok = expr.evaluate_bool(hook.expression or "false", env)
                except expr.ExpressionError as exc:
                    node.message = node.message or f"hooks.{hook.name}: {exc}"
                    continue
                if not ok:
                    continue
                self.fired.add(hook.name)
            self.threads.append(spawn(lambda h=hook: self.ex.run_hook(h, node, env, exit_ctx=self.exit_ctx)))

    def wait(self) -> None:
        for t in self.threads:
            t.join()


class WorkflowHooks:
    def __init__(self, ex: Executor) -> None:
        self.ex = ex
        self.fired: set[str] = set()
        self.threads: list[threading.Thread] = []

    def evaluate(self) -> None:
        ex = self.ex
        if not ex.spec.hooks:
            return
        env = ex.globals()
        root = ex.nodes.get(ex.name)
        for hook in ex.spec.hooks:
            if hook.name in self.fired:
                continue
            try:
                ok = expr.evaluate_bool(hook.expression or "false", env)
            except expr.ExpressionError:
                continue
            if not ok:
                continue
            self.fired.add(hook.name)
            owner = root or Node(ex.name, ex.name, "step", "Steps", parent=None)
            self.threads.append(spawn(lambda h=hook, o=owner: self._run(h, o, env)))

    def _run(self, hook: Hook, owner: Node, env: dict[str, str]) -> None:
        # fired before the root exists (status Running at start): attach once it does
        deadline = time.monotonic() + 5
        while owner.name not in self.ex.nodes and time.monotonic() < deadline:
            time.sleep(0.01)
        self.ex.run_hook(hook, self.ex.nodes.get(owner.name, owner), env, exit_ctx=False)

    def wait(self) -> None:
        for t in self.threads:
            t.join()


# ---------------------------------------------------------------- helpers


def _fire(cb: Callable[[], None] | None) -> None:
    if cb is not None:
        cb()


def _outer(scope: dict[str, str]) -> dict[str, str]:
    """What a called template sees of its caller's scope: only the workflow-level values
    (a template's own variables are its inputs, not its caller's)."""
    return {k: v for k, v in scope.items() if k.startswith("workflow.")}


def _node_type(tmpl: Template) -> str:
    return {"container": "Pod", "script": "Pod", "steps": "Steps", "dag": "DAG", "suspend": "Suspend",
            "http": "HTTP"}.get(tmpl.kind, "Pod")


def _policy_retries(policy: str, phase: str) -> bool:
    if policy == "Always":
        return phase in (FAILED, ERROR)
    if policy in ("OnError", "OnTransientError"):
        return phase == ERROR
    return phase == FAILED  # OnFailure


def _continues(call: Call, phase: str) -> bool:
    return (phase == FAILED and call.continue_failed) or (phase == ERROR and call.continue_error)


def _subst_item(item: Any, scope: dict[str, str]) -> Any:
    if isinstance(item, str):
        return substitute(item, scope)
    if isinstance(item, dict):
        return {k: _subst_item(v, scope) for k, v in item.items()}
    if isinstance(item, list):
        return [_subst_item(v, scope) for v in item]
    return item


def node_vars(prefix: str, name: str, node: Node) -> dict[str, str]:
    """`steps.<name>.*` / `tasks.<name>.*` of one fulfilled node."""
    p = f"{prefix}.{name}"
    out = {f"{p}.id": node.name, f"{p}.status": node.phase}
    if node.started_at:
        out[f"{p}.startedAt"] = node.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if node.finished_at:
        out[f"{p}.finishedAt"] = node.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if node.exit_code is not None:
        out[f"{p}.exitCode"] = str(node.exit_code)
    outs = node.outputs
    if "result" in outs and outs["result"] is not None:
        out[f"{p}.outputs.result"] = outs["result"]
    for k, v in (outs.get("parameters") or {}).items():
        out[f"{p}.outputs.parameters.{k}"] = v
    return out


def aggregate_vars(prefix: str, name: str, nodes: list[Node], *, looped: bool, group: Node | None = None) -> dict[str, str]:
    if not looped:
        return node_vars(prefix, name, nodes[0]) if nodes else {}
    p = f"{prefix}.{name}"
    ok = [n for n in nodes if n.phase == SUCCEEDED]
    results = []
    for n in ok:
        r = n.outputs.get("result")
        if r is None:
            continue
        try:
            results.append(json.loads(r))
        except (json.JSONDecodeError, TypeError):
            results.append(r)
    params = [n.outputs.get("parameters") or {} for n in ok]
    out = {f"{p}.outputs.result": json.dumps(results, separators=(",", ":")),
           f"{p}.outputs.parameters": json.dumps(params, separators=(",", ":"))}
    names = {k for d in params for k in d}
    for k in names:
        out[f"{p}.outputs.parameters.{k}"] = json.dumps([d.get(k) for d in params if k in d], separators=(",", ":"))
    phase = group.phase if group is not None else (
        FAILED if any(n.phase in (FAILED, ERROR) for n in nodes) else SUCCEEDED if nodes else SKIPPED)
    out[f"{p}.status"] = phase
    if group is not None:
        out[f"{p}.id"] = group.name
    return out


def assess_dag(targets: list[str], tasks: dict[str, Call], deps: dict[str, list[str]],
               state: dict[str, Node]) -> tuple[str, str | None]:
    """Only target tasks decide (research/argo.md §3.3): a completed target its own phase
    (ignored when continueOn accepts it), an Omitted/Skipped one the nearest completed
    ancestors on its branch, Failed/Error preferred."""
    worst: Node | None = None

    def consider(n: Node) -> None:
        nonlocal worst
        if n.phase in (FAILED, ERROR) and (worst is None or (worst.phase == FAILED and n.phase == ERROR)):
            worst = n

    for t in targets:
        n = state.get(t)
        if n is None:
            continue
        if n.phase in (FAILED, ERROR):
            if not _continues(tasks[t], n.phase):
                consider(n)
            continue
        if n.phase in (SKIPPED, OMITTED):
            seen, stack = set(), list(deps[t])
            while stack:
                a = stack.pop()
                if a in seen or a not in state:
                    continue
                seen.add(a)
                an = state[a]
                if an.phase in (SKIPPED, OMITTED):
                    stack.extend(deps[a])
                elif an.phase in (FAILED, ERROR) and not _continues(tasks[a], an.phase):
                    consider(an)
    if worst is None:
        return SUCCEEDED, None
    return worst.phase, f"child '{worst.name}' failed"
