"""Argo nodes and what several template kinds share: phases, the node record, the thread
spawner, the `steps.<name>.*` / `tasks.<name>.*` variables of fulfilled nodes."""

from __future__ import annotations

import contextvars
import json
import threading
from typing import Any, Callable

from ...model.argo import Call, Template
from ..records import NodeRecord

PENDING, RUNNING = "Pending", "Running"
SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED = "Succeeded", "Failed", "Error", "Skipped", "Omitted"
FULFILLED = {SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED}
COMPLETED = {SUCCEEDED, FAILED, ERROR}  # ran: these get their exit hook


# Argo nodes are the core's node records: `name` is Argo's node name (unique), `display_name`
# its display name, `node_type` Pod | Steps | StepGroup | DAG | TaskGroup | Retry | Skipped | …
Node = NodeRecord


def spawn(fn: Callable[[], Any]) -> threading.Thread:
    """A thread that runs `fn` in a copy of the current context (the Prefect flow run's)."""
    ctx = contextvars.copy_context()
    t = threading.Thread(target=ctx.run, args=(fn,), daemon=True)
    t.start()
    return t


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


def _continues(call: Call, phase: str) -> bool:
    return (phase == FAILED and call.continue_failed) or (phase == ERROR and call.continue_error)


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
    for rec in outs.get("artifacts") or ():  # records as JSON text (adapter/argo/artifacts.py)
        out[f"{p}.outputs.artifacts.{rec['name']}"] = json.dumps(rec, separators=(",", ":"), sort_keys=True)
    return out


def skipped_output_defaults(prefix: str, name: str, node: Node, tmpl: Template | None) -> dict[str, str]:
    """A Skipped/Omitted node that produced nothing offers its template's `valueFrom.default`
    output parameters to its consumers (Argo `addSkippedNodeOutputsToScope`)."""
    if tmpl is None or node.phase not in (SKIPPED, OMITTED) or node.outputs.get("parameters"):
        return {}
    return {f"{prefix}.{name}.outputs.parameters.{op.name}": op.default
            for op in tmpl.outputs if op.default is not None}


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
