"""`steps` templates: a list of step groups; the groups run in order, the steps of a group in parallel."""

from __future__ import annotations

from typing import Any

from ...model.argo import Call
from ..fields import kind_of
from .artifacts import check_step_references
from .calls import read_call
from .document import DocReader, Path_


def read_steps(d: DocReader, value: Any, path: Path_, refs: list) -> tuple[tuple[Call, ...], ...]:
    if not isinstance(value, list):
        d.p.error(path, f"steps must be a list of step groups (lists), got {kind_of(value)}")
        return ()
    groups = []
    names: dict[str, Path_] = {}
    for i, group in enumerate(value):
        gpath = (*path, i)
        if not isinstance(group, list):
            d.p.error(gpath, f"each entry of steps is a group: a list of steps, got {kind_of(group)}",
                      hint="write `- - name: …` (a list inside the list) for a group of one step")
            continue
        calls = []
        for j, step in enumerate(group):
            c = read_call(d, step, (*gpath, j), refs, dag=False)
            if c is None:
                continue
            if c.name in names:
                d.p.error((*gpath, j, "name"), f"step name {c.name!r} is used twice in this template")
            names[c.name] = (*gpath, j)
            calls.append(c)
        groups.append(tuple(calls))
    check_step_references(d, tuple(groups), path)
    return tuple(groups)
