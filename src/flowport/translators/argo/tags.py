"""`{{=…}}` tags written anywhere in a template: each function they call must exist in Argo's
expr-lang environment (a `validate` error at the name, not a failure at run time). Their syntax
is left to run time, as Argo leaves it (`util/template/validate.go` skips expression tags)."""

from __future__ import annotations

from typing import Any

from ..source import Problem
from .document import DocReader, Path_


def check_expression_tags(d: DocReader, value: Any, path: Path_) -> None:
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, (*p, k)) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, (*p, i)) for i, x in enumerate(v))
        elif isinstance(v, str) and "{{=" in v:
            _check_text(d, v, p)


def _check_text(d: DocReader, text: str, path: Path_) -> None:
    from ...lang.argo_tags import TAG
    from ...lang.errors import ExpressionError
    from ...lang.exprlang import compile_expr
    from ...lang.exprlang.functions import check_functions

    for m in TAG.finditer(text):
        inner = m.group(1)
        if not inner.startswith("="):
            continue
        body = inner[1:]
        try:
            compiled = compile_expr(body.strip())
        except ExpressionError:
            continue
        try:
            check_functions(compiled)
        except ExpressionError as exc:
            offset = m.start(1) + 1 + (len(body) - len(body.lstrip())) + (exc.position or 0)
            d.p.add(Problem(f"invalid expression: {exc}", d.doc.mark_within(path, text, offset), tuple(path)))
