"""Lifecycle hooks: `hooks.exit` and named `hooks.<name>.expression` (workflow, step, task)."""

from __future__ import annotations

from typing import Any

from ...model.argo import Hook
from ..fields import OK, kind_of
from .document import DocReader, Path_, template_target
from .parameters import check_expr, read_arguments, read_artifacts_of

HOOK_KEYS = {"template": OK, "templateRef": OK, "arguments": OK, "expression": OK}


def _hook(d: DocReader, name: str, value: Any, path: Path_, refs: list) -> Hook | None:
    f = d.fields(value, path, HOOK_KEYS, "hook")
    template = template_target(d, f, path, refs)
    expr = None
    if "expression" in f:
        expr = d.string(*f["expression"])
        check_expr(d, expr, f["expression"][1])
    if name != "exit" and not expr:
        d.p.error(path, f"hooks.{name} needs an `expression` (only `exit` hooks run unconditionally)",
                  hint="e.g. expression: workflow.status == \"Failed\"")
    args = read_arguments(d, *f["arguments"]) if "arguments" in f else ()
    artifacts = read_artifacts_of(d, *f["arguments"], role="argument") if "arguments" in f else ()
    if template is None:
        return None
    # an exit hook's expression gates it on steps and tasks (`runOnExitNode`); Argo's workflow-level
    # exit handler does not read it
    return Hook(name=name, template=template, arguments=args, expression=expr or None, where=d.where(path),
                artifacts=artifacts)


def read_hooks(d: DocReader, value: Any, path: Path_, refs: list) -> tuple[Hook | None, tuple[Hook, ...]]:
    if not isinstance(value, dict):
        d.p.error(path, f"hooks must be a mapping of hook name → hook, got {kind_of(value)}")
        return None, ()
    exit_hook, named = None, []
    for name, spec in value.items():
        h = _hook(d, str(name), spec, (*path, name), refs)
        if h is None:
            continue
        if name == "exit":
            exit_hook = h
        else:
            named.append(h)
    return exit_hook, tuple(named)
