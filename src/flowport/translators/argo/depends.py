"""A task's `depends` (or the older `dependencies` list): reading it and checking it against
the dag's tasks. The language itself is `flowport.lang.depends` (parsed once, the same parser
the runtime uses), so a syntax error is a `flowport validate` error at its column."""

from __future__ import annotations

from typing import Any

from ...lang.depends import TASK_RESULTS, UnknownTaskResult, compile_depends
from ...lang.errors import ExpressionError
from ...model.argo import Call
from ..fields import Fields, dependency_cycle
from ..source import Problem, unknown_key_hint
from .document import DocReader, Path_

DEPENDS_RESULTS = TASK_RESULTS


def read_depends(d: DocReader, f: Fields) -> str | None:
    """A task's `depends` text; `dependencies: [a, b]` reads as `a && b`."""
    if "depends" in f and "dependencies" in f:
        d.p.error(f["dependencies"][1], "use either `depends` or `dependencies`, not both", key=True)
    if "depends" in f:
        return d.string(*f["depends"])
    if "dependencies" in f:
        names = d.str_list(*f["dependencies"]) or ()
        return " && ".join(names) if names else None
    return None


def depends_names(d: DocReader, text: str, path: Path_) -> tuple[str, ...] | None:
    """The task names `text` refers to; None (and a problem at the offending column) when it
    does not parse as Argo's `depends` language."""
    try:
        return compile_depends(text).names
    except UnknownTaskResult as exc:
        d.p.add(Problem(f"unknown task result {exc.task}.{exc.result}",
                        d.doc.mark_within(path, text, exc.position), tuple(path),
                        unknown_key_hint(exc.result, DEPENDS_RESULTS) or f"one of {', '.join(DEPENDS_RESULTS)}"))
    except ExpressionError as exc:
        at = exc.position if exc.position is not None else 0
        d.p.add(Problem(str(exc), d.doc.mark_within(path, text, at), tuple(path)))
    return None


def check_depends(d: DocReader, value: Any, tasks: list[Call], paths: dict[str, Path_]) -> None:
    """Every `depends` of dag `value` parses, names existing tasks and valid results, without cycles."""
    deps: dict[str, list[str]] = {}
    for c in tasks:
        deps[c.name] = []
        if c.depends is None:
            continue
        dpath = (*paths[c.name], "depends" if "depends" in value["tasks"][paths[c.name][-1]] else "dependencies")
        for task in depends_names(d, c.depends, dpath) or ():
            if task not in paths:
                d.p.error(dpath, f"depends on unknown task {task!r}", hint=unknown_key_hint(task, list(paths)))
            else:
                deps[c.name].append(task)
    cycle = dependency_cycle(deps)
    if cycle:
        d.p.error(paths[cycle[0]], "the tasks depend on each other in a cycle: " + " → ".join(cycle))
