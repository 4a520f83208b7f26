"""Argo Workflows' expression languages in one import (research/argo.md §2.5, §3); the
languages live in :mod:`~flowport.lang.govaluate`, :mod:`~flowport.lang.depends` and
:mod:`~flowport.lang.exprlang`, this module adds ``{{=…}}`` rendering.

* ``when`` (steps and DAG tasks) -- govaluate after ``{{...}}`` substitution, bare words being
  strings: :func:`evaluate_when`, :func:`check_when_syntax` (see :mod:`flowport.lang.govaluate`).
* ``depends`` / legacy ``dependencies`` (DAG tasks) -- :func:`compile_depends`,
  :func:`legacy_dependencies`, :class:`TaskResult`.
* expr-lang (``{{=...}}``, hook ``expression``, ``retryStrategy.expression``,
  ``valueFrom.expression``) -- :func:`compile_expr` / :class:`Expr`
  (see :mod:`flowport.lang.exprlang`), :func:`render_inline_expressions`.

Pure Python, standard library only; nothing here imports the rest of flowport.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from flowport.lang.depends import (
    TASK_RESULTS,
    DependsExpr,
    TaskResult,
    check_when,
    compile_depends,
    legacy_dependencies,
)
from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang import Expr, compile_expr
from flowport.lang.govaluate import WhenExpr, check_when_syntax, compile_when, evaluate_when
from flowport.lang.gofmt import format_v as go_format
from flowport.lang.gofmt import json_marshal as go_json
from flowport.lang.paths import jsonpath_lookup

__all__ = [
    "TASK_RESULTS",
    "DependsExpr",
    "Expr",
    "ExpressionError",
    "TaskResult",
    "WhenExpr",
    "check_when",
    "check_when_syntax",
    "compile_depends",
    "compile_expr",
    "compile_when",
    "evaluate_when",
    "go_format",
    "go_json",
    "jsonpath_lookup",
    "legacy_dependencies",
    "render_inline_expressions",
]


# --------------------------------------------------------------------------------------------
# {{= ... }} inline expressions


@lru_cache(maxsize=1024)
def _cached_expr(text: str) -> Expr:
    return compile_expr(text)


def render_inline_expressions(text: str, env: Mapping[str, Any]) -> str:
    """Replace every ``{{=expr}}`` in ``text`` by its value, as Argo does.

    Tags are delimited like Argo's fasttemplate: a tag ends at the first ``}}``. The result is
    stringified with Go's ``%v`` (``util/template/expression_template.go``:
    ``json.Marshal(fmt.Sprintf("%v", result))`` then the quotes are trimmed, i.e. the raw
    ``%v`` text ends up in the string): strings as is, ints without ``.0``, floats Go-style
    (``0.5``, ``1e+06``), bools ``true``/``false``, lists ``[a b]``, maps ``map[k:v]`` -- use
    ``toJson(...)`` inside the expression to get JSON. Plain ``{{name}}`` tags are left
    untouched for the caller. A nil result or any error raises ExpressionError (Argo leaves such
    a tag unresolved and the reference then fails).
    """
    if "{{" not in text:
        return text
    out: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        start = text.find("{{", pos)
        if start < 0:
            out.append(text[pos:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            if text.startswith("{{=", start):
                raise ExpressionError(f"cannot find end tag '}}}}' for {text[start:start + 40]!r}")
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        tag = text[start + 2:end]
        if tag.startswith("="):
            source = tag[1:]
            value = _cached_expr(source).evaluate(env)
            if value is None:
                raise ExpressionError(f"failed to evaluate expression {source!r}: result is nil")
            out.append(go_format(value))
        else:
            out.append(text[start:end + 2])
        pos = end + 2
    return "".join(out)
