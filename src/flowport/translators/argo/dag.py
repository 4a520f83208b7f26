"""`dag` templates: tasks, `target`, `failFast`."""

from __future__ import annotations

from typing import Any

from ...model.argo import Call
from ..fields import OK, kind_of
from ..source import unknown_key_hint
from ...lang.depends import compile_depends
from ...lang.errors import ExpressionError
from .artifacts import check_task_references
from .calls import read_call
from .depends import check_depends
from .document import DocReader, Path_


DAG_KEYS = {"tasks": OK, "target": OK, "failFast": OK}


def _ancestors(tasks: list[Call]) -> dict[str, set[str]]:
    """Every task a task depends on, directly or not (Argo's `ancestryMap`)."""
    direct: dict[str, set[str]] = {}
    for c in tasks:
        try:
            direct[c.name] = set(compile_depends(c.depends).names) if c.depends else set()
        except ExpressionError:  # reported by check_depends
            direct[c.name] = set()
    out: dict[str, set[str]] = {}
    for name in direct:
        seen, stack = set(), list(direct[name])
        while stack:
            t = stack.pop()
            if t not in seen:
                seen.add(t)
                stack.extend(direct.get(t, ()))
        out[name] = seen
    return out

def read_dag(d: DocReader, value: Any, path: Path_, refs: list) -> tuple[tuple[Call, ...], str | None, bool]:
    f = d.fields(value, path, DAG_KEYS, "dag")
    tasks: list[Call] = []
    paths: dict[str, Path_] = {}
    if "tasks" not in f:
        if isinstance(value, dict):
            d.p.error(path, "a dag needs `tasks`")
    else:
        items, tpath = f["tasks"]
        if not isinstance(items, list):
            d.p.error(tpath, f"tasks must be a list, got {kind_of(items)}")
            items = []
        for i, item in enumerate(items):
            c = read_call(d, item, (*tpath, i), refs, dag=True)
            if c is None:
                continue
            if c.name in paths:
                d.p.error((*tpath, i, "name"), f"task name {c.name!r} is used twice in this dag")
                continue
            paths[c.name] = (*tpath, i)
            tasks.append(c)
    check_depends(d, value, tasks, paths)
    check_task_references(d, tuple(tasks), _ancestors(tasks))
    target = d.string(*f["target"]) if "target" in f else None
    if target and "{{" not in target:
        for t in target.split():
            if t not in paths:
                d.p.error(f["target"][1], f"target names unknown task {t!r}", hint=unknown_key_hint(t, list(paths)))
    fail_fast = d.boolean(*f["failFast"]) if "failFast" in f else True
    return tuple(tasks), target, fail_fast
