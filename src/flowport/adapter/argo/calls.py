"""Calls: one step or DAG task (one loop child): loops, `when`, arguments, hooks, exit hook."""

from __future__ import annotations

from typing import Any

from ...model.argo import Call, Hook, Parameter
from . import expr
from .hooks import HookSet
from .nodes import COMPLETED, ERROR, RUNNING, SKIPPED, Node, _node_type, node_vars
from ...lang.argo_tags import (Unresolved, item_label, item_scope, param_items, pure_reference, sequence_items,
                               substitute)


class CallsMixin:
    """`Executor.expand`, `run_call`, `call_args` (need the Executor core: execute, add_node)."""

    def expand(self, call: Call, scope: dict[str, str]) -> list[tuple[str, dict[str, str]]] | str:
        """Loop children as (label, item scope); a message when the loop cannot expand."""
        loop = call.loop
        if loop is None:
            return [("", {})]
        try:
            if loop.items is not None:
                items = [_subst_item(i, scope) for i in loop.items]
            elif loop.param is not None:
                items = param_items(substitute(loop.param, scope))
            else:
                s = loop.sequence
                items = sequence_items(*(substitute(v, scope) if v is not None else None
                                         for v in (s.count, s.start, s.end, s.format)))
        except Unresolved as exc:
            return str(exc)
        except expr.ExpressionError as exc:  # withParam / withSequence (a ValueError: a flowport bug)
            return str(exc) if loop.param is not None else f"withSequence: {exc}"
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
            art_args = self.artifact_args(call.artifacts, scope)
        except expr.ExpressionError as exc:  # Unresolved, or a value no Go rendering has
            node = self.add_node(Node(node_id, display, "step", _node_type(tmpl), template=call.template, parent=parent))
            return node.finish(ERROR, str(exc))
        hooks = HookSet(self, call, scope, prefix, exit_ctx)
        node = self.execute(node_id=node_id, display=display, parent=parent, kind="step", template=call.template,
                            args=args, scope=scope, exit_ctx=exit_ctx,
                            on_running=lambda: hooks.evaluate(self.nodes.get(node_id), RUNNING), art_args=art_args)
        hooks.evaluate(node, node.phase)
        hooks.wait()
        if call.exit_hook is not None and node.phase in COMPLETED:
            own = {**scope, **node_vars(prefix, call.name, node)}
            if self._exit_hook_applies(call.exit_hook, node, own):
                self.run_hook(call.exit_hook, node, own, exit_ctx=True)
        return node

    def _exit_hook_applies(self, hook: Hook, node: Node, own: dict[str, str]) -> bool:
        """A step's/task's exit hook with an `expression` runs only when it is true (Argo
        `runOnExitNode`); one that cannot be evaluated runs nothing and says so on the node."""
        if not hook.expression:
            return True
        try:
            return expr.evaluate_bool(hook.expression, {**own, **self.globals()})
        except expr.ExpressionError as exc:
            node.message = node.message or f"hooks.exit: {exc}"
            return False

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


def _subst_item(item: Any, scope: dict[str, str]) -> Any:
    if isinstance(item, str):
        return substitute(item, scope)
    if isinstance(item, dict):
        return {k: _subst_item(v, scope) for k, v in item.items()}
    if isinstance(item, list):
        return [_subst_item(v, scope) for v in item]
    return item
