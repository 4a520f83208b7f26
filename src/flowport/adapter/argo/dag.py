"""DAG templates: tasks start as their `depends` / `dependencies` are fulfilled; `target`,
parallelism, failFast; only target tasks decide the DAG's phase."""

from __future__ import annotations

import threading

from ...model.argo import Call, Template
from ..records import now
from . import expr
from .nodes import (
    ERROR,
    FAILED,
    OMITTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    Node,
    _continues,
    aggregate_vars,
    skipped_output_defaults,
    spawn,
)
from ...lang.argo_tags import substitute


class _DagRun:
    """The scheduler state of one DAG node while it runs."""

    def __init__(self, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool,
                 tasks: dict[str, Call], deps: dict[str, list[str]], needed: set[str]) -> None:
        self.node, self.tmpl, self.exit_ctx = node, tmpl, exit_ctx
        self.tasks, self.deps, self.needed = tasks, deps, needed
        self.local = dict(scope)
        self.state: dict[str, Node] = {}  # task → its node (TaskGroup for loops), once fulfilled
        self.started: set[str] = set()
        self.cond = threading.Condition()
        self.threads: list[threading.Thread] = []
        self.limit = threading.BoundedSemaphore(tmpl.parallelism) if tmpl.parallelism else None
        self.fail_fast_stop = False

    def alive(self) -> bool:
        return any(t.is_alive() for t in self.threads)


class DagMixin:
    """`Executor.run_dag` (needs the Executor core: add_node, blocked, expand, run_call)."""

    def run_dag(self, node: Node, tmpl: Template, scope: dict[str, str], exit_ctx: bool) -> None:
        node.node_type = "DAG"
        tasks = {t.name: t for t in tmpl.tasks}
        deps = {t.name: [n for n, _ in expr.depends_operands(t.depends)] if t.depends else [] for t in tmpl.tasks}
        targets = self._dag_targets(node, tmpl, scope, tasks, deps)
        if targets is None:
            return
        needed: set[str] = set()
        stack = list(targets)
        while stack:
            t = stack.pop()
            if t not in needed:
                needed.add(t)
                stack.extend(deps[t])
        run = _DagRun(node, tmpl, scope, exit_ctx, tasks, deps, needed)
        self._dag_schedule(run)
        for t in run.threads:
            t.join()
        if run.fail_fast_stop:
            node.finish(FAILED, "template has failed or errored children and failFast enabled")
            return
        if not all(t in run.state for t in needed):
            node.finish(FAILED, self.blocked(exit_ctx) or "dag cannot progress")
            return
        node.outputs["_scope"] = run.local
        phase, message = assess_dag(targets, tasks, deps, run.state)
        node.finish(phase, message)

    def _dag_targets(self, node: Node, tmpl: Template, scope: dict[str, str], tasks: dict[str, Call],
                     deps: dict[str, list[str]]) -> list[str] | None:
        """`target` (substituted), else the tasks no other task depends on; None: the node errored."""
        if tmpl.target:
            try:
                targets = substitute(tmpl.target, scope).split()
            except expr.ExpressionError as exc:  # Unresolved too
                node.finish(ERROR, str(exc))
                return None
            unknown = [t for t in targets if t not in tasks]
            if unknown:
                node.finish(ERROR, f"target {unknown[0]!r} is not a task of this dag")
                return None
            return targets
        used = {d for ds in deps.values() for d in ds}
        return [t.name for t in tmpl.tasks if t.name not in used]

    def _dag_schedule(self, run: _DagRun) -> None:
        """Start tasks as their dependencies fulfil, until every needed task is fulfilled or
        nothing can progress any more."""
        while True:
            with run.cond:
                stopped = self._dag_start_ready(run, bool(self.blocked(run.exit_ctx)) or run.fail_fast_stop)
                if all(t in run.state for t in run.needed):
                    break
                if not run.alive() and len(run.started) == len([t for t in run.started if t in run.state]):
                    # nothing runs and nothing more can start (stopped, or fail-fast)
                    if stopped or not any(all(d in run.state for d in run.deps[t])
                                          for t in run.needed if t not in run.started):
                        break
                    continue
                run.cond.wait(0.5)

    def _dag_start_ready(self, run: _DagRun, stopped: bool) -> bool:
        """One pass (under `run.cond`): tasks whose dependencies are fulfilled start, or end
        Omitted / Error by their `depends`; returns `stopped`, set once failFast hits."""
        node, tmpl, tasks, state = run.node, run.tmpl, run.tasks, run.state
        for name in [t.name for t in tmpl.tasks if t.name in run.needed and t.name not in run.started]:
            if stopped or not all(d in state for d in run.deps[name]):
                continue
            call = tasks[name]
            try:
                go = self._depends_met(call, tasks, state)
            except expr.ExpressionError as exc:
                n = self.add_node(Node(f"{node.name}.{name}", name, "step", "Skipped", template=call.template, parent=node.name))
                state[name] = n.finish(ERROR, f"invalid depends: {exc}")
                run.started.add(name)
                continue
            if not go:
                n = self.add_node(Node(f"{node.name}.{name}", name, "step", "Skipped", template=call.template, parent=node.name))
                state[name] = n.finish(OMITTED, "omitted: depends condition not met")
                run.local.update(skipped_output_defaults("tasks", name, n, self.spec.templates.get(call.template)))
                run.started.add(name)
                continue
            if run.limit is not None:
                if tmpl.fail_fast and any(x.phase in (FAILED, ERROR) for x in state.values()):
                    run.fail_fast_stop = stopped = True
                    continue
                if not run.limit.acquire(blocking=False):
                    continue  # a slot frees when a running task ends
            run.started.add(name)
            run.threads.append(spawn(lambda c=call, snap=dict(run.local): self._dag_run_task(run, c, snap)))
        return stopped

    def _dag_run_task(self, run: _DagRun, call: Call, snapshot: dict[str, str]) -> None:
        """A task's thread: run it, free its parallelism slot, record it fulfilled."""
        node = run.node
        try:
            n, vars_ = self._dag_task(node, call, snapshot, run.exit_ctx)
        except Exception as exc:  # a flowport bug: the task errors, the DAG goes on
            n = self.add_node(Node(f"{node.name}.{call.name}", call.name, "step", "Pod", parent=node.name))
            n.finish(ERROR, f"internal error: {exc!r}")
            vars_ = {}
        finally:
            if run.limit is not None:
                run.limit.release()
        with run.cond:
            run.local.update(vars_)
            run.state[call.name] = n
            run.cond.notify_all()

    def _dag_task(self, dag: Node, call: Call, scope: dict[str, str], exit_ctx: bool) -> tuple[Node, dict[str, str]]:
        node_id = f"{dag.name}.{call.name}"
        children = self.expand(call, scope)
        if call.loop is None and not isinstance(children, str):
            n = self.run_call(call, node_id=node_id, display=call.name, parent=dag.name, scope=scope,
                              prefix="tasks", exit_ctx=exit_ctx)
            return n, {**aggregate_vars("tasks", call.name, [n], looped=False),
                       **skipped_output_defaults("tasks", call.name, n, self.spec.templates.get(call.template))}
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
