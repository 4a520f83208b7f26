"""flowport.lang.depends: Argo `depends` parsed once, `when` syntax checked with placeholders."""

from __future__ import annotations

import pytest

from flowport.errors import FlowportError
from flowport.lang.depends import UnknownTaskResult, check_when, compile_depends
from flowport.lang.errors import ExpressionError


def test_depends_names_and_results():
    d = compile_depends("(A.Succeeded || B.Failed) && !C && D.AnySucceeded")
    assert d.names == ("A", "B", "C", "D")
    assert d.item_names == ("D",)
    assert d.expanded == "(A.Succeeded || B.Failed) && !(C.Succeeded || C.Skipped || C.Daemoned) && D.AnySucceeded"


@pytest.mark.parametrize("text, position", [
    ("A &&", 4),          # unexpected end
    ("A && && B", 5),
    ("(A || B", 7),       # missing ')'
    ("A & B", 2),
    ("A.succeeded", 1),   # results are capitalised
    ("A B", 2),
])
def test_depends_syntax_error_says_where(text, position):
    with pytest.raises(ExpressionError) as info:
        compile_depends(text)
    assert info.value.position == position
    assert f"(at {position + 1})" in str(info.value) or isinstance(info.value, UnknownTaskResult)


def test_unknown_result_is_located():
    with pytest.raises(UnknownTaskResult) as info:
        compile_depends("A && B.Bogus")
    assert (info.value.task, info.value.result, info.value.position) == ("B", "Bogus", 7)


def test_expression_error_is_a_flowport_error_and_a_value_error():
    with pytest.raises(FlowportError):
        compile_depends("A &&")
    with pytest.raises(ValueError):
        compile_depends("A &&")


@pytest.mark.parametrize("text", [
    "{{steps.flip.outputs.result}} == heads",
    "{{inputs.parameters.n}} > 5",
    "-{{inputs.parameters.n}} < 0",
    "'{{item}}' =~ '^a'",
    "{{=asInt(inputs.parameters.n) > 2}}",
    "({{a}} == x) && ({{b}} != y)",
    "true",
])
def test_when_syntax_accepted(text):
    check_when(text)


@pytest.mark.parametrize("text", [
    "{{steps.a.outputs.result}} == ",
    "({{a}} == x",
    "{{a}} === b",
    "a ==",
])
def test_when_syntax_refused(text):
    with pytest.raises(ExpressionError, match="invalid when"):
        check_when(text)


def test_depends_error_names_the_token():
    with pytest.raises(ExpressionError, match=r"unexpected 'B.Failed' \(at 3\)"):
        compile_depends("A B.Failed")
