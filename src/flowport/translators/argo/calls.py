"""Steps and tasks: the call of a template (`template` / `templateRef`), its arguments,
`when`, loops (`withItems` / `withParam` / `withSequence`), `continueOn` and hooks."""

from __future__ import annotations

from typing import Any

from ...lang.depends import check_when
from ...lang.errors import ExpressionError
from ...model.argo import Call, Hook, Loop, Sequence
from ..fields import OK, kind_of
from ..fields import UNSUPPORTED as UNS
from .depends import read_depends
from .document import DocReader, Path_, plain, template_target
from .hooks import read_hooks
from .parameters import read_arguments, read_artifacts_of

STEP_KEYS = {
    "name": OK, "template": OK, "templateRef": OK, "arguments": OK, "when": OK, "withItems": OK,
    "withParam": OK, "withSequence": OK, "continueOn": OK, "onExit": OK, "hooks": OK,
    "inline": UNS,
}
TASK_KEYS = {**STEP_KEYS, "depends": OK, "dependencies": OK}
SEQUENCE_KEYS = {"count": OK, "start": OK, "end": OK, "format": OK}
CONTINUE_ON_KEYS = {"failed": OK, "error": OK}


def _loop(d: DocReader, f: dict) -> Loop | None:
    present = [k for k in ("withItems", "withParam", "withSequence") if k in f]
    if not present:
        return None
    if len(present) > 1:
        d.p.error(f[present[1]][1], f"use one of withItems, withParam, withSequence (also has {present[0]})", key=True)
    key = present[0]
    value, vpath = f[key]
    if key == "withItems":
        if not isinstance(value, list):
            d.p.error(vpath, f"withItems must be a list, got {kind_of(value)}")
            return None
        return Loop(items=tuple(plain(v) for v in value))
    if key == "withParam":
        text = d.string(value, vpath)
        return Loop(param=text) if text is not None else None
    g = d.fields(value, vpath, SEQUENCE_KEYS, "withSequence")
    if "count" in g and "end" in g:
        d.p.error(g["end"][1], "withSequence takes either `count` or `end`", key=True)
    return Loop(sequence=Sequence(**{k: d.string(*g[k]) for k in ("count", "start", "end", "format") if k in g}))


def _read_when(d: DocReader, f: dict) -> str | None:
    """`when`: govaluate once its `{{…}}` tags are substituted (Argo `steps.go`
    `shouldExecute`); a syntax no substitution can repair is reported here, not at run time."""
    if "when" not in f:
        return None
    when = d.string(*f["when"])
    if when is not None:
        try:
            check_when(when)
        except ExpressionError as exc:
            d.p.error(f["when"][1], str(exc))
    return when


def read_call(d: DocReader, value: Any, path: Path_, refs: list, *, dag: bool) -> Call | None:
    f = d.fields(value, path, TASK_KEYS if dag else STEP_KEYS, "task" if dag else "step")
    if "name" not in f:
        if isinstance(value, dict):
            d.p.error(path, f"a {'task' if dag else 'step'} needs a `name`")
        return None
    name = d.string(*f["name"])
    template = template_target(d, f, path, refs)
    args = read_arguments(d, *f["arguments"]) if "arguments" in f else ()
    artifacts = read_artifacts_of(d, *f["arguments"], role="argument") if "arguments" in f else ()
    when = _read_when(d, f)
    loop = _loop(d, f)
    cf = ce = False
    if "continueOn" in f:
        g = d.fields(f["continueOn"][0], f["continueOn"][1], CONTINUE_ON_KEYS, "continueOn")
        cf = d.boolean(*g["failed"]) if "failed" in g else False
        ce = d.boolean(*g["error"]) if "error" in g else False
    exit_hook, hooks = (None, ())
    if "hooks" in f:
        exit_hook, hooks = read_hooks(d, *f["hooks"], refs)
    if "onExit" in f:  # deprecated form of hooks.exit; Argo checks it first
        t = d.string(*f["onExit"])
        if t is not None:
            refs.append((d, t, f["onExit"][1]))
            exit_hook = Hook("exit", d.name_of(t), where=d.where(f["onExit"][1]))
    depends = read_depends(d, f) if dag else None
    if name is None or template is None:
        return None
    return Call(name=name, template=template, arguments=args, when=when, loop=loop, continue_failed=cf,
                continue_error=ce, exit_hook=exit_hook, hooks=hooks, depends=depends, where=d.where(path),
                artifacts=artifacts)
