"""Retry nodes: `retryStrategy` (limit, policy, expression, backoff) around a template."""

from __future__ import annotations

import time
from typing import Callable

from ...model.argo import Template
from ..records import now
from . import expr
from .nodes import ERROR, FAILED, RUNNING, SUCCEEDED, Node, _fire, _node_type
from ...lang.argo_tags import Unresolved, substitute
from ...lang.errors import ExpressionError as _ExpressionError


class RetriesMixin:
    """`Executor.run_retry` (needs the Executor core: add_node, blocked, run_body, the stops)."""

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
        try:
            duration = parse_duration(substitute(r.backoff_duration, scope)) if r.backoff_duration else None
            factor = _backoff_factor(substitute(r.backoff_factor, scope)) if r.backoff_factor else None
            cap = parse_duration(substitute(r.backoff_cap, scope)) if r.backoff_cap else None
            max_duration = parse_duration(substitute(r.backoff_max_duration, scope)) if r.backoff_max_duration else None
        except expr.ExpressionError as exc:  # Unresolved, a failed {{=…}}, a factor that is no number
            node.finish(ERROR, f"retryStrategy.backoff: {exc}")
            return
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


def _backoff_factor(text: str) -> float:
    """`backoff.factor` (an IntOrString Argo reads as a number)."""
    try:
        return float(text)
    except ValueError:
        raise _ExpressionError(f"invalid backoff factor {text!r}") from None


def _policy_retries(policy: str, phase: str) -> bool:
    if policy == "Always":
        return phase in (FAILED, ERROR)
    if policy in ("OnError", "OnTransientError"):
        return phase == ERROR
    return phase == FAILED  # OnFailure
