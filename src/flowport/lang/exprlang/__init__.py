"""A subset of expr-lang (github.com/expr-lang/expr v1.17) as Argo Workflows uses it.

Argo evaluates ``{{=...}}`` tags, lifecycle-hook ``expression``, ``retryStrategy.expression``,
``valueFrom.expression`` and (after its own rewriting) ``depends`` with expr-lang, in an
environment of nested maps built from its flat dotted variables, plus ``asInt``, ``asFloat``,
``jsonpath``, ``toJson`` and ``sprig.<fn>`` (``util/expr/env/env.go``).

Supported: literals (ints incl. ``0x``/``0o``/``0b``/``_``, floats, ``'...'``, ``"..."`` and
backtick strings, ``true false nil``, arrays ``[..]``, maps ``{k: v}``), identifiers, member
access ``a.b``, ``a?.b``, ``a["b"]``, indexing (negative indexes), slices ``a[1:2]``; operators
``?:``, ``??``, ``or ||``, ``and &&``, ``== != < <= > >= in not in matches contains startsWith
endsWith``, ``..`` ranges, ``+ - * / % ** ^``, unary ``- + ! not``; function calls (builtins
below, ``sprig.<fn>``, and callables found in the environment).

Semantics follow expr-lang's runtime: ints and floats compare by value, values of other
different types are simply unequal, ``/`` always yields a float, ``%`` needs ints, ``and``/``or``
need bools, ``<`` etc. need two numbers or two strings.

Environment lookup (flowport's choice, see ``Expr.evaluate``): a name chain such as
``steps.x.status`` or ``tasks["step-1"].outputs.result`` is looked up first as the longest flat
dotted key present (``"steps.x.status"``, which is how Argo names its variables), then by walking
nested mappings. Missing names, missing map keys and members of nil are nil (expr-lang raises
"cannot fetch ... from <nil>" for the last; Argo hands skipped outputs to expressions as nil, and
``x ?? 'default'`` is the documented idiom).

Layout: ``lexer`` (tokens), ``parser`` (tuple AST), ``runtime`` (operator semantics and
conversions), ``builtins`` (expr-lang and Argo functions), ``sprig`` (``sprig.<fn>``),
``evaluator`` (environment lookup, ``Expr``, ``compile_expr``). Go renderings live in
:mod:`flowport.lang.gofmt`, JSONPath in :mod:`flowport.lang.paths`.
"""

from __future__ import annotations

from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang.evaluator import Expr, compile_expr
from flowport.lang.gofmt import float_v as go_float
from flowport.lang.gofmt import format_v as go_format
from flowport.lang.gofmt import json_marshal as go_json
from flowport.lang.paths import jsonpath_lookup

__all__ = [
    "Expr",
    "ExpressionError",
    "compile_expr",
    "go_float",
    "go_format",
    "go_json",
    "jsonpath_lookup",
]
