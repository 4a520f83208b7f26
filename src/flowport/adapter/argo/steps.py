"""Steps templates: groups run one after another, the steps of a group in parallel, failFast."""

from __future__ import annotations

import threading
from typing import Any, Callable

from ...model.argo import Call, Template
from ..records import now
from .nodes import ERROR, FAILED, RUNNING, SKIPPED, SUCCEEDED, Node, _continues, aggregate_vars, skipped_output_defaults, spawn


class StepsMixin:
    """`Executor.run_steps` (needs the Executor core: add_node, blocked, expand, run_call)."""

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
                if call.loop is None and results[call.name]:
                    local.update(skipped_output_defaults("steps", call.name, results[call.name][0],
                                                         self.spec.templates.get(call.template)))
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
