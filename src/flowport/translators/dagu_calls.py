"""Dagu sub-DAG call steps → IR (research/dagu-composition.md §1–3): `call:` (V1 ≥1.23, V2,
V3), V1 `run:`, V3 `action: dag.run` (rewritten to `call` + `params` by dagu_actions, as
Dagu's normalizeDagRunAction does), with `params:` and `parallel:` (Dagu
internal/spec/step.go buildStepSubDAG / buildStepParallel). The child itself is found and
translated by dagu_subdags.py."""

from __future__ import annotations

from typing import Any

from ..lang import gofmt
from ..model import Fanout, SubDag, Where
from .fields import Fields, kind_of

Path_ = tuple

# keys a call step cannot have next to `call:` (it runs a child DAG, nothing else)
EXECUTION = ("command", "script", "exec", "container", "executor", "type", "config", "with", "shell")
PARALLEL_KEYS = {"items": "ok", "max_concurrent": "ok"}
MAX_ITEMS = 1000  # Dagu: at most 1000 parallel items
CALL_HINT = "e.g. `call: child` with `params: \"A=1 B=2\"`"


def call_target(f: Fields, dialect: str) -> tuple[Any, Path_] | None:
    """The `call:` value (V1: `run:` too), when the step calls a child DAG."""
    if "call" in f:
        return f["call"]
    if dialect == "dagu-v1" and "run" in f:
        return f["run"]
    return None


def call_action(cx: Any, f: Fields, target: tuple[Any, Path_]) -> SubDag | None:
    value, path = target
    for key in EXECUTION:
        if key in f:
            cx.problems.error(f[key][1], f"a step that calls a child DAG cannot also have `{key}:`", key=True,
                              hint="run the command in a step of the child DAG")
    if not isinstance(value, str) or not value.strip():
        cx.problems.error(path, f"the child DAG to call is a name, got {kind_of(value)}", hint=CALL_HINT)
        return None
    name = value.strip()
    if "$" in name:
        cx.problems.unsupported(path, "a child DAG name built from variables",
                                hint="name the child DAG itself; flowport finds and checks it before the run")
        return None
    text, pairs = _call_params(cx, *f["params"]) if "params" in f else (None, None)
    parallel = _parallel(cx, *f["parallel"]) if "parallel" in f else None
    m = cx.doc.mark(path)
    return SubDag(dag=name, params_text=text, params=pairs, parallel=parallel, where=Where(m.file, m.line, m.col))


def _call_params(cx: Any, value: Any, path: Path_) -> tuple[str | None, tuple[tuple[str, str], ...] | None]:
    """Dagu parseParamValue: a string, a mapping, or a list of mappings / `K=V` strings."""
    if value is None:
        return None, None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value), None
    if isinstance(value, dict):
        return None, tuple((str(k), _text(v)) for k, v in value.items())
    if not isinstance(value, list):
        cx.problems.error(path, f"params must be a string, a mapping or a list, got {kind_of(value)}")
        return None, None
    pairs: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            pairs.extend((str(k), _text(v)) for k, v in item.items())
        elif isinstance(item, str):
            key, eq, rest = item.partition("=")
            pairs.append((key.strip(), rest) if eq else ("", item))
        else:
            cx.problems.error((*path, i), f"a param is a mapping or a `NAME=VALUE` string, got {kind_of(item)}")
    return None, tuple(pairs)


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return gofmt.json_marshal(v)
    return "" if v is None else str(v)


def _parallel(cx: Any, value: Any, path: Path_) -> Fanout | None:
    """`parallel:` — `${VAR}`, a list of items, or `{items, maxConcurrent}`."""
    max_concurrent = 10
    items_value, items_path = value, path
    if isinstance(value, dict):
        p = cx.fields(value, path, PARALLEL_KEYS, "parallel")
        if "max_concurrent" in p:
            n = cx.number(*p["max_concurrent"], integer=True, minimum=1)
            max_concurrent = int(n) if n is not None else max_concurrent
        if "items" not in p:
            cx.problems.error(path, "`parallel:` needs `items`", hint="parallel: {items: [a, b], maxConcurrent: 2}")
            return None
        items_value, items_path = p["items"]
    if isinstance(items_value, str):
        if "$" not in items_value:
            cx.problems.error(items_path, "parallel items given as text must be a variable reference",
                              hint="e.g. `parallel: ${ITEMS}`, or a list of items")
            return None
        return Fanout(source=items_value, max_concurrent=max_concurrent)
    if not isinstance(items_value, list):
        cx.problems.error(items_path, f"parallel items are a list or a `${{VAR}}`, got {kind_of(items_value)}")
        return None
    if not items_value:
        cx.problems.error(items_path, "`parallel:` has no items", hint="a parallel step runs one child per item")
        return None
    if len(items_value) > MAX_ITEMS:
        cx.problems.error(items_path, f"{len(items_value)} parallel items: Dagu runs at most {MAX_ITEMS}")
        return None
    items = []
    for i, item in enumerate(items_value):
        if isinstance(item, dict):
            if any(isinstance(v, (dict, list)) for v in item.values()):
                cx.problems.error((*items_path, i), "a parallel item mapping holds scalar values only")
                continue
            # Dagu's DeterministicMap: values as text, keys sorted, compact JSON
            items.append(gofmt.json_marshal({str(k): _text(v) for k, v in item.items()}))
        elif isinstance(item, list) or item is None:
            cx.problems.error((*items_path, i), f"a parallel item is a scalar or a flat mapping, got {kind_of(item)}")
        else:
            items.append(_text(item))
    return Fanout(items=tuple(items), max_concurrent=max_concurrent)
