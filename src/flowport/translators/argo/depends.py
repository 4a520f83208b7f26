"""A task's `depends` (or the older `dependencies` list): reading it and checking it against
the dag's tasks. The one place that knows the `depends` language at translate time."""

from __future__ import annotations

import re
from typing import Any

from ...model.argo import Call
from ..fields import Fields, dependency_cycle
from ..source import unknown_key_hint
from .document import DocReader, Path_

DEPENDS_RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned",
                   "AnySucceeded", "AllFailed")
_DEPENDS_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z]+)?)")


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


def depends_names(text: str) -> list[tuple[str, str | None]]:
    """(task, result) operands of a `depends` text; raises ValueError on bad syntax."""
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _DEPENDS_TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unexpected {text[pos:].strip()[:10]!r}")
        tok = m.group(1)
        pos = m.end()
        if tok in ("(", ")", "&&", "||", "!"):
            continue
        task, _, result = tok.partition(".")
        out.append((task, result or None))
    return out


def check_depends(d: DocReader, value: Any, tasks: list[Call], paths: dict[str, Path_]) -> None:
    """Every `depends` of dag `value` names existing tasks and valid results, without cycles."""
    deps: dict[str, list[str]] = {}
    for c in tasks:
        deps[c.name] = []
        if c.depends is None:
            continue
        dpath = (*paths[c.name], "depends" if "depends" in value["tasks"][paths[c.name][-1]] else "dependencies")
        try:
            operands = depends_names(c.depends)
        except ValueError as exc:
            d.p.error(dpath, f"invalid depends expression: {exc}")
            continue
        for task, result in operands:
            if task not in paths:
                d.p.error(dpath, f"depends on unknown task {task!r}", hint=unknown_key_hint(task, list(paths)))
            elif result is not None and result not in DEPENDS_RESULTS:
                d.p.error(dpath, f"unknown task result {task}.{result}",
                          hint=unknown_key_hint(result, DEPENDS_RESULTS) or f"one of {', '.join(DEPENDS_RESULTS)}")
            else:
                deps[c.name].append(task)
    cycle = dependency_cycle(deps)
    if cycle:
        d.p.error(paths[cycle[0]], "the tasks depend on each other in a cycle: " + " → ".join(cycle))
