"""Argo's ``{{…}}`` tags: substitution with Argo's rules, loop items and their labels,
``withSequence`` items, timestamp variables, ``workflow.failures``.

A scope is a flat dict of Argo variable names (`steps.gen.outputs.result`) to strings, as
Argo keeps them. Simple tags are looked up there; `{{=…}}` tags are evaluated with expr-lang
against the same names. One pass over the text: a substituted value is never re-read, so
values holding `{{` stay literal.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping

from flowport.lang import gofmt
from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang import Expr, compile_expr

__all__ = [
    "STRICT", "TAG", "Unresolved", "format_value", "item_label", "item_scope", "item_text",
    "param_items", "pure_reference", "sequence_items", "substitute", "timestamp_vars", "workflow_failures",
]

TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
STRICT = ("steps.", "tasks.", "inputs.")  # unresolved references there are errors (Argo)


class Unresolved(ExpressionError):
    """A reference that has no value (yet), or a ``{{=…}}`` that failed; `key` names it. An
    ExpressionError like every error of flowport.lang (so a FlowportError and ValueError)."""

    def __init__(self, key: str, message: str | None = None) -> None:
        super().__init__(message or f"failed to resolve {{{{{key}}}}}")
        self.key = key


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Expr:
    return compile_expr(text)


def format_value(value: Any) -> str:
    """How Argo inserts an expression result: Go's %v (strings raw; use toJson for JSON)."""
    return gofmt.format_v(value)


def substitute(text: str, scope: Mapping[str, str], *, strict: tuple[str, ...] = STRICT,
               lenient: bool = False) -> str:
    """Replace the ``{{…}}`` tags of ``text`` from ``scope``, once (a value is never re-read).

    ``lenient``: Argo's ``allowUnresolved`` replacement (``util/template``): an unknown tag, and
    a ``{{=…}}`` that fails or is nil, stay as written instead of failing."""
    if "{{" not in text:
        return text

    def one(m: re.Match) -> str:
        inner = m.group(1)
        if inner.startswith("="):
            try:
                value = _compiled(inner[1:].strip()).evaluate(scope)
                if lenient and value is None:
                    return m.group(0)
                return format_value(value)
            except ExpressionError as exc:
                if lenient:
                    return m.group(0)
                raise Unresolved(inner, f"failed to evaluate expression {{{{{inner}}}}}: {exc}") from None
        key = inner.strip()
        value = scope.get(key)
        if value is not None:
            return value
        if key.startswith(strict) and not lenient:
            raise Unresolved(key)
        return m.group(0)

    return TAG.sub(one, text)


def pure_reference(text: str) -> str | None:
    """`{{steps.a.outputs.result}}` alone → its key, else None."""
    m = TAG.fullmatch(text.strip())
    return m.group(1).strip() if m and not m.group(1).startswith("=") else None


# ---------------------------------------------------------------- loop items


def item_text(item: Any) -> str:
    """`{{item}}`: strings as they are, other values as JSON (Argo keeps an item as a
    ``json.RawMessage``: its own key order, marshalled with HTML escaping)."""
    if isinstance(item, str):
        return item
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    if isinstance(item, (int, float)):
        return str(item)
    return gofmt.json_marshal(item, sort_keys=False)


def item_label(item: Any) -> str:
    """How a loop child's name shows the item: a map as sorted `k:v` pairs (`name(0:a:1,b:2)`)."""
    if isinstance(item, dict):
        return ",".join(f"{k}:{item_text(item[k])}" for k in sorted(item))
    return item_text(item)


def item_scope(item: Any) -> dict[str, str]:
    out = {"item": item_text(item)}
    if isinstance(item, dict):
        for k, v in item.items():
            out[f"item.{k}"] = item_text(v)
    return out


def param_items(text: str) -> list[Any]:
    """`withParam`: Argo ``json.Unmarshal``s the substituted text into a list of items (NaN
    and Infinity are no JSON); ExpressionError with Argo's message otherwise."""
    try:
        items = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ExpressionError(f"withParam value could not be parsed as a JSON list: {text.strip()[:200]}") from None
    if not isinstance(items, list):
        raise ExpressionError(f"withParam value is not a JSON list: {text.strip()[:200]}")
    return items


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def sequence_items(count: str | None, start: str | None, end: str | None, fmt: str | None) -> list[str]:
    """`withSequence` (Argo expandSequence): count or start..end (inclusive, down if end<start)."""
    first = _atoi(start) if start not in (None, "") else 0
    if count not in (None, ""):
        n = _atoi(count)
        numbers = range(first, first + n)
    elif end not in (None, ""):
        last = _atoi(end)
        step = 1 if last >= first else -1
        numbers = range(first, last + step, step)
    else:
        raise ExpressionError("withSequence needs count or end")
    if len(numbers) > MAX_SEQUENCE:  # Argo builds the slice and its controller runs out of memory
        raise ExpressionError(f"withSequence: {len(numbers)} items are more than {MAX_SEQUENCE}")
    if fmt:
        return [_printf(fmt, n) for n in numbers]
    return [str(n) for n in numbers]


MAX_SEQUENCE = 1_000_000


_ATOI = re.compile(r"[+-]?[0-9]+\Z")


def _atoi(text: str) -> int:
    """Go ``strconv.Atoi``: ASCII digits with an optional sign, nothing else."""
    if not _ATOI.match(text):
        raise ExpressionError(f'strconv.Atoi: parsing {gofmt.quote(text)}: invalid syntax')
    return int(text)


def _printf(fmt: str, n: int) -> str:
    try:
        return re.sub(r"%([-+ 0#]*\d*)([dxXo])", lambda m: ("%" + m.group(1) + m.group(2)) % n, fmt)
    except (TypeError, ValueError):
        return fmt


# ---------------------------------------------------------------- globals

STRFTIME = {"B": "%B", "b": "%b", "m": "%m", "A": "%A", "a": "%a", "d": "%d", "H": "%H", "I": "%I",
            "M": "%M", "S": "%S", "Y": "%Y", "y": "%y", "p": "%p", "Z": "%Z", "z": "%z"}


def timestamp_vars(prefix: str, t: datetime) -> dict[str, str]:
    rfc = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = {prefix: rfc, f"{prefix}.RFC3339": rfc, f"{prefix}.s": str(int(t.timestamp())),
           f"{prefix}.L": f".{t.microsecond // 1000:03d}"}
    for c, code in STRFTIME.items():
        out[f"{prefix}.{c}"] = t.strftime(code)
    return out


def workflow_failures(failed: list[dict[str, Any]]) -> str:
    """``workflow.failures``: Argo (``operator.go``) marshals the failed nodes with
    ``json.Marshal`` (struct field order) and stores the text ``strconv.Quote``-d, so the
    value is quoted JSON; ``"null"`` (quoted) when nothing failed."""
    return gofmt.quote(gofmt.json_marshal(failed or None, sort_keys=False))
