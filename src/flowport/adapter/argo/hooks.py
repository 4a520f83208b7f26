"""Lifecycle hooks: a step's/task's named hooks, the workflow's hooks, exit handlers as nodes."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ...model.argo import Call, Hook
from . import expr
from .nodes import ERROR, Node, spawn

if TYPE_CHECKING:
    from .executor import Executor


class HooksMixin:
    """`Executor.run_hook` (needs the Executor core: call_args, execute, blocked)."""

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
        arts = hook.artifacts or (self.spec.artifacts if hook.name == "exit" and owner.parent is None else ())
        try:
            args = self.call_args(params, scope)
            art_args = self.artifact_args(arts, scope)
        except expr.ExpressionError as exc:  # Unresolved too
            node = self.add_node(Node(node_id, display, kind, "Pod", template=hook.template, parent=owner.name))
            return node.finish(ERROR, str(exc))
        return self.execute(node_id=node_id, display=display, parent=owner.name, kind=kind, template=hook.template,
                            args=args, scope=scope, exit_ctx=exit_ctx, art_args=art_args)


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
