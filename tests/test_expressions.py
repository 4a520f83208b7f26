"""Argo expression languages: govaluate ``when``, ``depends``, expr-lang, ``{{=...}}``.

Corpus cases are the ``when`` / ``depends`` / ``expression`` / ``{{=`` texts found in
shared/corpus/argo, written inline after a plausible ``{{...}}`` substitution.
"""

from __future__ import annotations

import math
import time

import pytest

from flowport.lang.expressions import (
    DependsExpr,
    Expr,
    ExpressionError,
    TaskResult,
    check_when_syntax,
    compile_depends,
    compile_expr,
    evaluate_when,
    go_format,
    go_json,
    legacy_dependencies,
    render_inline_expressions,
)

# ============================================================================================
# govaluate `when`

COMPLEX = (
    "( {h1} == heads &&\n  {h2} == tails\n) ||\n( {h1} == tails &&\n  {h2} == tails )"
)

WHEN_CASES = [
    # corpus: coinflip.yaml / conditionals-complex.yaml / steps (after substitution)
    ("heads == heads", True),
    ("tails == heads", False),
    ("tails == tails", True),
    ("heads == tails", False),
    ("tails =~ tai", True),
    ("heads =~ tai", False),
    ("heads =~ hea", True),
    (COMPLEX.format(h1="heads", h2="tails"), True),
    (COMPLEX.format(h1="tails", h2="tails"), True),
    (COMPLEX.format(h1="heads", h2="heads"), False),
    (COMPLEX.format(h1="tails", h2="heads"), False),
    # corpus: exit-handlers.yaml
    ("Succeeded == Succeeded", True),
    ("Failed == Succeeded", False),
    ("Failed != Succeeded", True),
    ("Error != Succeeded", True),
    ("Succeeded != Succeeded", False),
    # corpus: status-reference.yaml
    ("Failed == Failed", True),
    ("Succeeded == Failed", False),
    # corpus: parameter-aggregation.yaml
    ("even == even", True),
    ("odd == even", False),
    # corpus: conditionals.yaml govaluate form, and the two expr forms once rendered
    ("true == true", True),
    ("false == true", False),
    ("True == true", False),  # a bare word is a string, `true` a boolean
    ("true", True),
    ("false", False),
    # bare words are strings (Argo rewrites VARIABLE tokens to STRING)
    ("foo == foo", True),
    ("foo != bar", True),
    ("'foo' == foo", True),
    ('"foo" == foo', True),
    ("'a b' == 'a b'", True),
    ("[a b] == 'a b'", True),  # govaluate's bracketed variable
    ("a_b1 == a_b1", True),
    ("\"\\\"q\\\"\" == \"\\\"q\\\"\"", True),  # backslash escapes a quote
    ("'it\\'s' == \"it\\'s\"", True),
    # numbers are float64
    ("5 > 3", True),
    ("10 < 9", False),
    ("10 > 9", True),  # numeric, not lexicographic
    ("1 == 1.0", True),
    ("0x10 == 16", True),
    ("2 + 2 == 4", True),
    ("7 % 4 == 3", True),
    ("2 ** 3 == 8", True),
    ("10 / 4 == 2.5", True),
    ("-1 < 0", True),
    ("3 - -1 == 4", True),
    ("'5' == 5", False),  # DeepEqual: different types
    ("'b' > 'a'", True),  # two strings compare lexicographically
    ("'10' < '9'", True),
    ("a + b == ab", True),  # string concatenation
    ("1 + a == '1a'", True),
    ("1.5 + x == '1.5x'", True),
    ("2024-01-01 == 2022", True),  # unquoted date is arithmetic: 2024 - 1 - 1
    ("'2024-01-01' < '2024-02-01'", True),  # quoted date: TIME
    ("'2024-01-01T00:00:00Z' == '2024-01-01'", True),
    # logic
    ("!false", True),
    ("!(a == a)", False),
    ("!true == false", True),
    ("true && false || true", True),
    ("true || false && false", True),
    ("(true || false) && false", False),
    ("false && x", False),  # short-circuit: the right side is never type-checked
    ("true || x", True),
    # in
    ("b in (a, b, c)", True),
    ("d in (a, b, c)", False),
    ("2 in (1, 2)", True),
    ("'2' in (1, 2)", False),
    # regex
    ("abc !~ '^b'", True),
    ("abc =~ '^a.c$'", True),
    ("'a.c' =~ 'a\\.c'", True),
    # ternary / coalesce
    ("a == a ? true : false", True),
    ("(1 > 2 ? x : y) == y", True),
    ("(a ?? b) == a", True),
    # whitespace
    ("  heads   ==\n\theads  ", True),
]


@pytest.mark.parametrize("text,expected", WHEN_CASES)
def test_when(text, expected):
    assert evaluate_when(text) is expected
    assert check_when_syntax(text) is None


WHEN_ERRORS = [
    ("my-value == my-value", "cannot be used with the modifier '-'"),  # argo issue #3611
    ("{{steps.a.outputs.result}} == x", "Invalid token: '{{'"),  # issue #14150
    ("heads tails == x", "Cannot transition token types from VARIABLE [heads] to VARIABLE [tails]"),
    ("foo(1) == 1", "Undefined function foo"),
    ("a ==", "Unexpected end of expression"),
    ("(a == a", "Unbalanced parenthesis"),
    ("'abc == abc", "Unclosed string literal"),
    ("'say \"hi\"' == x", "Cannot transition token types from STRING [say ] to VARIABLE [hi]"),
    ("[abc == abc", "Unclosed parameter bracket"),
    ("a = b", "Invalid token: '='"),
    ("a === b", "Invalid token: '==='"),
    ("1.2.3 == x", "Unable to parse numeric value"),
    ("3abc == x", "Cannot transition token types from NUMERIC"),
    ("foo.bar == x", "Unable to access unexported field 'bar'"),
    ("foo.Bar == x", "No parameter 'foo' found"),
    ("foo. == x", "Hanging accessor"),
    ("a", "Expected boolean evaluation for 'a'. Got a"),
    ("1 + 1", "Expected boolean evaluation for '1 + 1'. Got 2"),
    ("a > 1", "cannot be used with the comparator '>', it is not a number"),
    ("a && true", "cannot be used with the logical operator '&&', it is not a bool"),
    ("a in (a)", "cannot be used with the comparator 'in'"),
    ("x =~ '['", "Unable to compile regexp pattern"),
    ("!a", "Failed to parse 'when' expression '!a': Cannot transition token types from PREFIX [!] to STRING [a]"),
    ("-a == b", "Cannot transition token types from PREFIX [-] to STRING [a]"),
    ("!1 && true", "Value '1' cannot be used with the prefix '!'"),
    ("   ", "Unexpected end of expression"),  # only "" means "no condition"
    ("abc !~ ^b", "Cannot transition token types from COMPARATOR [!~] to MODIFIER [^]"),
    ("'it\\'s' == \"it's\"", "Unclosed string literal"),  # a string ends at either quote
]


@pytest.mark.parametrize("text,message", WHEN_ERRORS)
def test_when_errors(text, message):
    with pytest.raises(ExpressionError) as info:
        evaluate_when(text)
    assert message in str(info.value)
    error = check_when_syntax(text)
    assert error is not None and message in error


def test_when_invalid_token_hint():
    with pytest.raises(ExpressionError, match="hint: try wrapping the affected expression in quotes"):
        evaluate_when("a == {{x}}")


def test_when_empty_means_no_condition():
    assert evaluate_when("") is True
    assert check_when_syntax("") is None


def test_when_messages_follow_argo():
    with pytest.raises(ExpressionError, match=r"^Invalid 'when' expression 'a b': "):
        evaluate_when("a b")
    with pytest.raises(ExpressionError, match=r"^Failed to evaluate 'when' expression 'a > 1': "):
        evaluate_when("a > 1")


def test_expr_form_when_renders_then_evaluates():
    # corpus: conditionals.yaml -- the {{= }} tag yields true/false, then govaluate runs
    env = {
        "inputs.parameters.should-print": "true",
        "workflow.parameters.json": '[{"name": "x", "value": "true"}]',
    }
    for text in (
        "{{= inputs.parameters[\"should-print\"] == 'true'}}",
        "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}",
    ):
        rendered = render_inline_expressions(text, env)
        assert rendered == "true"
        assert evaluate_when(rendered) is True
    env["inputs.parameters.should-print"] = "false"
    rendered = render_inline_expressions(
        "{{= inputs.parameters[\"should-print\"] == 'true'}}", env
    )
    assert rendered == "false" and evaluate_when(rendered) is False


def test_when_not_a_string():
    with pytest.raises(ExpressionError):
        evaluate_when(None)  # type: ignore[arg-type]


# ============================================================================================
# depends

S, F, E, K, O = (TaskResult(p) for p in ("Succeeded", "Failed", "Error", "Skipped", "Omitted"))
DAEMON = TaskResult("Running", daemoned=True)

DEPENDS_CASES = [
    # corpus: dag-diamond / dag-targets / daemoned-stateful-set ... (depends: "A", "B && C")
    ("A", {"A": S}, True),
    ("A", {"A": K}, True),
    ("A", {"A": F}, False),
    ("A", {"A": E}, False),
    ("A", {"A": O}, False),  # Omitted is not part of the expansion
    ("A", {"A": DAEMON}, True),
    ("B && C", {"B": S, "C": S}, True),
    ("B && C", {"B": S, "C": F}, False),
    ("B || C", {"B": F, "C": S}, True),
    ("B || C", {"B": F, "C": O}, False),
    ("E && F", {"E": S, "F": K}, True),
    ("a && svc", {"a": S, "svc": DAEMON}, True),
    ("flip-coin", {"flip-coin": S}, True),
    ("c-loop", {"c-loop": TaskResult("Succeeded", children=("Succeeded", "Succeeded"))}, True),
    ("b", {"b": S}, True),
    # corpus: dag-enhanced-depends.yaml / dag-continue-on-fail.yaml
    ("A && (C.Succeeded || C.Failed)", {"A": S, "C": F}, True),
    ("A && (C.Succeeded || C.Failed)", {"A": S, "C": E}, False),
    ("B.Failed && C", {"B": F, "C": S}, True),
    ("B.Failed && C", {"B": S, "C": S}, False),
    ("should-execute-2.Succeeded || should-not-execute", {"should-execute-2": S, "should-not-execute": O}, True),
    ("should-execute-2.Succeeded || should-not-execute", {"should-execute-2": F, "should-not-execute": O}, False),
    # results
    ("A.Errored", {"A": E}, True),
    ("A.Errored", {"A": TaskResult("Errored")}, True),
    ("A.Skipped", {"A": K}, True),
    ("A.Omitted", {"A": O}, True),
    ("A.Daemoned", {"A": DAEMON}, True),
    ("A.Daemoned", {"A": TaskResult("Pending", daemoned=True)}, False),
    ("A.AnySucceeded", {"A": TaskResult("Failed", children=("Failed", "Succeeded"))}, True),
    ("A.AnySucceeded", {"A": TaskResult("Failed", children=("Failed", "Error"))}, False),
    ("A.AllFailed", {"A": TaskResult("Failed", children=("Failed", "Failed"))}, True),
    ("A.AllFailed", {"A": TaskResult("Failed", children=("Failed", "Error"))}, False),
    ("A.AllFailed", {"A": TaskResult("Failed")}, False),  # not a fan-out: no children
    # operators
    ("!A", {"A": F}, True),
    ("!A.Succeeded", {"A": S}, False),
    ("!(A || B)", {"A": F, "B": F}, True),
    ("A || B && C", {"A": S, "B": F, "C": F}, True),  # && binds tighter
    ("(A || B) && C", {"A": S, "B": F, "C": F}, False),
    ("task-a.Succeeded&&task-b.Failed", {"task-a": S, "task-b": F}, True),
    ("  A  ", {"A": S}, True),
    ("", {}, True),
]


@pytest.mark.parametrize("text,results,expected", DEPENDS_CASES)
def test_depends(text, results, expected):
    compiled = compile_depends(text)
    assert isinstance(compiled, DependsExpr)
    assert compiled.evaluate(results) is expected


def test_depends_names_and_expansion():
    d = compile_depends("should-execute-2.Succeeded || should-not-execute && (A || should-not-execute.Failed)")
    assert d.names == ("should-execute-2", "should-not-execute", "A")
    assert d.expanded == (
        "should-execute-2.Succeeded || (should-not-execute.Succeeded || should-not-execute.Skipped"
        " || should-not-execute.Daemoned) && ((A.Succeeded || A.Skipped || A.Daemoned)"
        " || should-not-execute.Failed)"
    )
    assert compile_depends("A.AnySucceeded || B").item_names == ("A",)
    assert compile_depends("").names == ()


def test_depends_continue_on_expansion():
    d = compile_depends("A && B", continue_on={"A": {"failed"}, "B": {"error", "failed"}})
    assert d.expanded == (
        "(A.Succeeded || A.Skipped || A.Daemoned || A.Failed) && "
        "(B.Succeeded || B.Skipped || B.Daemoned || B.Errored || B.Failed)"
    )
    assert d.evaluate({"A": F, "B": E}) is True
    assert compile_depends("A && B").evaluate({"A": F, "B": E}) is False


def test_legacy_dependencies():
    d = legacy_dependencies(["A", "task-b"])
    assert d.names == ("A", "task-b")
    assert d.evaluate({"A": S, "task-b": K}) is True
    assert d.evaluate({"A": S, "task-b": O}) is False
    assert legacy_dependencies([]).evaluate({}) is True
    assert legacy_dependencies(["A"], continue_on={"A": ["error"]}).evaluate({"A": E}) is True
    with pytest.raises(ExpressionError):
        legacy_dependencies(["a b"])


DEPENDS_ERRORS = [
    ("A.Foo", "task result 'Foo' for task 'A' is invalid"),
    ("A.succeeded", "unexpected '.'"),
    ("A &&", "unexpected end"),
    ("(A || B", "missing ')'"),
    ("A B", "unexpected"),
    ("A & B", "unexpected '&'"),
    ("A and B", "unexpected"),
    ("1task", "starts with a digit"),
    ("a_b", "unexpected '_'"),
    ("A || )", "unexpected ')'"),
    ("A == B", "unexpected '='"),
]


@pytest.mark.parametrize("text,message", DEPENDS_ERRORS)
def test_depends_errors(text, message):
    with pytest.raises(ExpressionError) as info:
        compile_depends(text)
    assert message in str(info.value)


def test_depends_missing_result():
    with pytest.raises(ExpressionError, match="no result for task 'B'"):
        compile_depends("A && B").evaluate({"A": S})
    # short-circuit: B is not needed when A already decides
    assert compile_depends("A && B").evaluate({"A": F}) is False


def test_depends_compile_speed():
    texts = [f"task-{i}.Succeeded || (t{i}-a && !t{i}-b.Failed) && t{i}-c.AnySucceeded" for i in range(5000)]
    started = time.perf_counter()
    compiled = [compile_depends(t) for t in texts]
    elapsed = time.perf_counter() - started
    assert len(compiled) == 5000
    assert elapsed < 2.0, f"5000 depends compiled in {elapsed:.2f}s"


# ============================================================================================
# expr-lang

ARGO_ENV = {
    "workflow.status": "Running",
    "workflow.name": "wf-1",
    "workflow.parameters.json": '[{"name": "a", "value": "true"}, {"name": "b", "value": 2}]',
    "steps.step-1.status": "Running",
    "steps.step2.status": "Succeeded",
    "steps.build.status": "Error",
    "steps.job.status": "Failed",
    "tasks.step-1.status": "Succeeded",
    "tasks.run-sim.status": "Running",
    "tasks.A.status": "Succeeded",
    "tasks.B.status": "Running",
    "inputs.parameters.should-print": "true",
    "inputs.parameters.count": "3",
    "lastRetry.exitCode": "2",
    "lastRetry.status": "Failed",
    "retries": "1",
}

NESTED_ENV = {
    "workflow": {"status": "Failed", "name": "wf-2"},
    "steps": {"step-1": {"status": "Succeeded"}, "flip-coin": {"outputs": {"result": "tails"}},
              "tails": {"outputs": {"result": "T"}}},
    "tasks": {"flip-coin": {"outputs": {"result": "heads"}}, "heads": {"outputs": {"result": "H"}}},
    "items": [1, 2, 3, 4],
    "m": {"a": 1, "b": "x"},
}

EXPR_CASES = [
    # corpus: hook expressions (life-cycle-hooks-*.yaml, exit-handler-*.yaml, ...)
    ('workflow.status == "Running"', ARGO_ENV, True),
    ('workflow.status == "Failed"', ARGO_ENV, False),
    ('workflow.status == "Succeeded"', ARGO_ENV, False),
    ('steps["step-1"].status == "Running"', ARGO_ENV, True),
    ('steps["step-1"].status == "Succeeded"', ARGO_ENV, False),
    ('steps["step-1"].status == "Failed"', ARGO_ENV, False),
    ('steps["step-2"].status == "Running"', ARGO_ENV, False),  # unknown step: nil
    ('steps["step-2"].status == "Succeeded"', ARGO_ENV, False),
    ("steps['job'].status == \"Running\"", ARGO_ENV, False),
    ("steps['job'].status == \"Failed\"", ARGO_ENV, True),
    ("steps['job'].status == \"Succeeded\"", ARGO_ENV, False),
    ('steps["build"].status == "Running"', ARGO_ENV, False),
    ('steps["build"].status == "Succeeded"', ARGO_ENV, False),
    ('steps["build"].status == "Failed" || steps["build"].status == "Error"', ARGO_ENV, True),
    ('steps.step2.status == "Running"', ARGO_ENV, False),
    ('steps.step2.status == "Succeeded"', ARGO_ENV, True),
    ('tasks["step-1"].status == "Running"', ARGO_ENV, False),
    ('tasks["step-1"].status == "Succeeded"', ARGO_ENV, True),
    ('tasks["step-1"].status == "Failed"', ARGO_ENV, False),
    ('tasks["step-2"].status == "Running"', ARGO_ENV, False),
    ('tasks["step-2"].status == "Succeeded"', ARGO_ENV, False),
    ('tasks["run-sim"].status == "Running"', ARGO_ENV, True),
    ('tasks.A.status == "Running"', ARGO_ENV, False),
    ('tasks.A.status == "Succeeded"', ARGO_ENV, True),
    ('tasks.B.status == "Running"', ARGO_ENV, True),
    ('tasks.B.status == "Succeeded"', ARGO_ENV, False),
    # same, nested environment
    ('workflow.status == "Failed"', NESTED_ENV, True),
    ('steps["step-1"].status == "Succeeded"', NESTED_ENV, True),
    ("steps['step-1']['status']", NESTED_ENV, "Succeeded"),
    # corpus: conditional-parameters.yaml / dag-conditional-parameters.yaml valueFrom.expression
    ("steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result : steps.tails.outputs.result",
     NESTED_ENV, "T"),
    ("tasks['flip-coin'].outputs.result == 'heads' ? tasks.heads.outputs.result : tasks.tails.outputs.result",
     NESTED_ENV, "H"),
    ("tasks['flip-coin'].outputs.result == 'heads' ? tasks.heads.outputs.result : tasks.tails.outputs.result",
     {"tasks.flip-coin.outputs.result": "heads", "tasks.heads.outputs.result": "it was heads"},
     "it was heads"),
    # corpus: workflow-hook-parameter.yaml
    ('workflow.status == "Succeeded" ? "Succeeded" : "Failed"', ARGO_ENV, "Failed"),
    ("workflow.status", ARGO_ENV, "Running"),
    # corpus: conditionals.yaml expr forms
    ("inputs.parameters[\"should-print\"] == 'true'", ARGO_ENV, True),
    ("jsonpath(workflow.parameters.json, '$[0].value') == 'true'", ARGO_ENV, True),
    # retryStrategy.expression (docs/retries.md)
    ("asInt(lastRetry.exitCode) > 1", ARGO_ENV, True),
    ("lastRetry.status == 'Error' or asInt(lastRetry.exitCode) == 2", ARGO_ENV, True),
    ("asInt(retries) + 1", ARGO_ENV, 2),
    ("sprig.int(retries) * 2", ARGO_ENV, 2),
    # literals
    ("1", {}, 1),
    ("1.5", {}, 1.5),
    ("1e3", {}, 1000.0),
    ("1_000", {}, 1000),
    ("0x1F", {}, 31),
    ("'a\\nb'", {}, "a\nb"),
    ('"\\u00e9"', {}, "é"),
    ("`raw\\n`", {}, "raw\\n"),
    ("true", {}, True),
    ("nil", {}, None),
    ("[1, 'a', [true]]", {}, [1, "a", [True]]),
    ("{a: 1, 'b-c': 2, (1 + 1): 3}", {}, {"a": 1, "b-c": 2, 2: 3}),
    ("{a: 1}.a", {}, 1),
    ("[1, 2, 3][1]", {}, 2),
    ("[1, 2, 3][-1]", {}, 3),
    ("[1, 2, 3, 4][1:3]", {}, [2, 3]),
    ("'hello'[1:]", {}, "ello"),
    ("'hello'[0]", {}, "h"),
    ("1..3", {}, [1, 2, 3]),
    # arithmetic
    ("1 + 2 * 3", {}, 7),
    ("(1 + 2) * 3", {}, 9),
    ("7 / 2", {}, 3.5),
    ("6 / 3", {}, 2.0),
    ("7 % 3", {}, 1),
    ("-7 % 3", {}, -1),
    ("2 ** 10", {}, 1024.0),
    ("2 ^ 3 ^ 2", {}, 512.0),  # right-associative
    ("-2 ** 2", {}, -4.0),
    ("1 + 1.5", {}, 2.5),
    ("-items[0]", NESTED_ENV, -1),
    ("'a' + 'b'", {}, "ab"),
    # comparison / logic
    ("1 == 1.0", {}, True),
    ("'1' == 1", {}, False),
    ("nil == nil", {}, True),
    ("missing == nil", {}, True),
    ("missing != 'x'", {}, True),
    ("2 < 10", {}, True),
    ("'2' < '10'", {}, False),
    ("not true", {}, False),
    ("!false && true", {}, True),
    ("true and false or true", {}, True),
    ("false || true && false", {}, False),
    ("not (1 > 2)", {}, True),
    ("!(1 > 2) == true", {}, True),
    ("false && missing.x > 1", {}, False),  # short-circuit
    # membership and strings
    ("2 in [1, 2]", {}, True),
    ("'a' in {a: 1}", {}, True),
    ("3 not in items", NESTED_ENV, False),
    ("'x' not in ['a']", {}, True),
    ("'a' in missing", {}, False),
    ("'foobar' matches '^fo+'", {}, True),
    ("'foobar' matches 'bar$'", {}, True),
    ("'foobar' contains 'oba'", {}, True),
    ("'foobar' startsWith 'foo'", {}, True),
    ("'foobar' endsWith 'foo'", {}, False),
    ("'foobar' not contains 'x'", {}, True),
    # ternary / nil-coalescing
    ("1 > 0 ? 'yes' : 'no'", {}, "yes"),
    ("1 > 2 ? 'yes' : 1 > 0 ? 'maybe' : 'no'", {}, "maybe"),
    ("tasks.skipped.outputs.result ?? 'default'", {}, "default"),
    ("tasks.x.outputs.result ?? 'default'", {"tasks.x.outputs.result": "real"}, "real"),
    ("missing.a.b.c", {}, None),
    ("m?.a", NESTED_ENV, 1),
    ("m.zzz", NESTED_ENV, None),
    ("missing ?? 1 + 1", {}, 2),
    # flat keys win over nested maps; longest flat key first
    ("a.b.c", {"a.b": {"c": "flat-prefix"}, "a": {"b": {"c": "nested"}}}, "flat-prefix"),
    ("a.b.c", {"a.b.c": "longest", "a.b": {"c": "shorter"}}, "longest"),
    ("a.b.c", {"a": {"b": {"c": "nested"}}}, "nested"),
    # builtins
    ("len('héllo')", {}, 5),
    ("len(items)", NESTED_ENV, 4),
    ("len(m)", NESTED_ENV, 2),
    ("upper('abc') + lower('DEF')", {}, "ABCdef"),
    ("trim('  x  ')", {}, "x"),
    ("trim('xxaxx', 'x')", {}, "a"),
    ("split('a,b,c', ',')", {}, ["a", "b", "c"]),
    ("join(['a', 'b'], '-')", {}, "a-b"),
    ("replace('aaa', 'a', 'b')", {}, "bbb"),
    ("int('42') + int(2.9)", {}, 44),
    ("float('1.5')", {}, 1.5),
    ("asFloat('2.5') * 2", {}, 5.0),
    ("asInt(inputs.parameters.count) > 2", ARGO_ENV, True),
    ("string(12) + string(1.5) + string(true)", {}, "121.5true"),
    ("toJson({b: [1, 'x'], a: nil})", {}, '{"a":null,"b":[1,"x"]}'),
    ("toJson('<&>')", {}, '"\\u003c\\u0026\\u003e"'),
    ("toJSON([1])", {}, "[\n  1\n]"),
    ("fromJSON('{\"a\": [1, 2]}').a[1]", {}, 2.0),
    ("jsonpath('{\"a\": {\"b\": [10, 20]}}', '$.a.b[1]')", {}, 20.0),
    ("jsonpath('{\"a\": [{\"n\": 1}, {\"n\": 2}]}', '$.a[*].n')", {}, [1.0, 2.0]),
    ("jsonpath('{\"a-b\": 1}', \"$['a-b']\")", {}, 1.0),
    ("max(1, 5, 3) + min(4, 2)", {}, 7),
    ("abs(-3)", {}, 3),
    ("keys(m)", NESTED_ENV, ["a", "b"]),
    ("first(items) + last(items)", NESTED_ENV, 5),
    ("get(m, 'b')", NESTED_ENV, "x"),
    ("filter(items, # % 2 == 0)", NESTED_ENV, [2, 4]),
    ("map(items, {# * 10})", NESTED_ENV, [10, 20, 30, 40]),
    ("all(items, # > 0) && any(items, # > 3) && none(items, # > 9)", NESTED_ENV, True),
    ("count(items, # > 1)", NESTED_ENV, 3),
    # sprig
    ("sprig.trim('  a ')", {}, "a"),
    ("sprig.upper('a') + sprig.lower('B')", {}, "Ab"),
    ("sprig.replace('a', 'b', 'banana')", {}, "bbnbnb"),
    ("sprig.contains('nan', 'banana')", {}, True),
    ("sprig.hasPrefix('ba', 'banana')", {}, True),
    ("sprig.hasSuffix('na', 'banana')", {}, True),
    ("sprig.split(',', 'a,b')", {}, {"_0": "a", "_1": "b"}),
    ("sprig.split(',', 'a,b')._1", {}, "b"),
    ("sprig.splitList(',', 'a,b')", {}, ["a", "b"]),
    ("sprig.join('-', ['a', 1])", {}, "a-1"),
    ("sprig.default('d', '')", {}, "d"),
    ("sprig.default('d', 'x')", {}, "x"),
    ("sprig.default('d', missing)", {}, "d"),
    ("sprig.toString(1.5)", {}, "1.5"),
    ("sprig.atoi('12')", {}, 12),
    ("sprig.atoi('x')", {}, 0),
    ("sprig.int('7')", {}, 7),
    ("sprig.add(1, '2', 3.9)", {}, 6),
    ("sprig.sub(5, 2)", {}, 3),
    ("sprig.mul(2, 3)", {}, 6),
    ("sprig.div(7, 2)", {}, 3),
    ("sprig.max(1, 9, 3)", {}, 9),
    ("sprig.min(4, 2)", {}, 2),
    ("sprig.quote('a\"b')", {}, '"a\\"b"'),
    ("sprig.trimSuffix('.txt', 'a.txt')", {}, "a"),
    ("sprig.trimPrefix('v', 'v1.2')", {}, "1.2"),
    ("sprig.title('hello big world')", {}, "Hello Big World"),
    ("sprig.title(\"it's a-b_c\")", {}, "It'S A-B_c"),  # Go strings.Title word boundaries
    ("sprig.substr(1, 3, 'hello')", {}, "el"),
    ("sprig.repeat(3, 'ab')", {}, "ababab"),
    ("sprig.toJson({a: 1})", {}, '{"a":1}'),
    ("sprig.fromJson('{\"a\": 1}').a", {}, 1.0),
]


@pytest.mark.parametrize("text,env,expected", EXPR_CASES)
def test_expr(text, env, expected):
    compiled = compile_expr(text)
    assert isinstance(compiled, Expr)
    result = compiled.evaluate(env)
    assert result == expected
    assert type(result) is type(expected)


def test_expr_compile_once_evaluate_many():
    compiled = compile_expr('steps["step-1"].status == "Failed"')
    assert compiled.evaluate({"steps.step-1.status": "Failed"}) is True
    assert compiled.evaluate({"steps.step-1.status": "Succeeded"}) is False
    assert compiled.evaluate({}) is False


def test_expr_env_callables():
    assert compile_expr("double(21)").evaluate({"double": lambda x: x * 2}) == 42


EXPR_SYNTAX_ERRORS = [
    ("", "unexpected end", 0),
    ("1 +", "unexpected end", 3),
    ("(1", "expected ')'", 2),
    ("'abc", "literal not terminated", 0),
    ("a b", "unexpected token 'b'", 2),
    ("1 ? 2", "expected ':'", 5),
    ("a.", "expected name", 2),
    ("a @ b", "unrecognized character", 2),
    ("'\\q'", "invalid char escape", 2),
    ("[1, 2", "expected ','", 5),
    ("# > 1", "pointer accessor", 0),
]


@pytest.mark.parametrize("text,message,position", EXPR_SYNTAX_ERRORS)
def test_expr_syntax_errors(text, message, position):
    with pytest.raises(ExpressionError) as info:
        compile_expr(text)
    assert message in str(info.value)
    assert info.value.position == position
    assert f"(1:{position + 1})" in str(info.value)


EXPR_RUNTIME_ERRORS = [
    ("'a' + 1", "mismatched types string and int"),
    ("1 < 'a'", "mismatched types int and string"),
    ("nil > 1", "mismatched types <nil> and int"),
    ("1 && true", "invalid operation: &&"),
    ("!'a'", "invalid operation: !"),
    ("-'a'", "invalid operation: -"),
    ("1.5 % 2", "invalid operation: %"),
    ("1 % 0", "integer divide by zero"),
    ("1 in 'abc'", 'operator "in" not defined on string'),
    ("[1][5]", "index out of range"),
    ("asInt('1.5')", 'invalid operation: asInt("1.5")'),
    ("asFloat('x')", "invalid syntax"),
    ("int(true)", "invalid operation: int(bool)"),
    ("nosuch(1)", "unknown func nosuch"),
    ("sprig.nosuch(1)", "unknown function sprig.nosuch"),
    ("jsonpath('{\"a\": 1}', '$.b')", "key error: b not found"),
    ("jsonpath('not json', '$.a')", "invalid JSON"),
    ("'a' ? 1 : 2", "non-bool expression"),
    ("1 matches 'a'", "invalid operation: matches"),
    ("'x' matches '['", "error parsing regexp"),
    ("len(1)", "invalid argument for len"),
]


@pytest.mark.parametrize("text,message", EXPR_RUNTIME_ERRORS)
def test_expr_runtime_errors(text, message):
    compiled = compile_expr(text)  # these all parse
    with pytest.raises(ExpressionError) as info:
        compiled.evaluate({})
    assert message in str(info.value)


# ============================================================================================
# Go formatting and {{= }} rendering

GO_FORMAT_CASES = [
    (None, "<nil>"),
    (True, "true"),
    (False, "false"),
    (3, "3"),
    (-3, "-3"),
    (3.0, "3"),
    (0.5, "0.5"),
    (-0.25, "-0.25"),
    (100000.0, "100000"),
    (123456.0, "123456"),
    (1e6, "1e+06"),
    (1234567.0, "1.234567e+06"),
    (1e21, "1e+21"),
    (0.0001, "0.0001"),
    (0.00001, "1e-05"),
    (1.5e-7, "1.5e-07"),
    (0.1 + 0.2, "0.30000000000000004"),
    (0.0, "0"),
    (-0.0, "-0"),
    (math.inf, "+Inf"),
    (-math.inf, "-Inf"),
    (math.nan, "NaN"),
    ("text", "text"),
    ([1, "a", 2.5, True, None], "[1 a 2.5 true <nil>]"),
    ({"b": 1, "a": [1, 2]}, "map[a:[1 2] b:1]"),
]


@pytest.mark.parametrize("value,expected", GO_FORMAT_CASES)
def test_go_format(value, expected):
    assert go_format(value) == expected


GO_JSON_CASES = [
    (1.0, "1"),
    (1e21, "1e+21"),
    (1e20, "100000000000000000000"),
    (1e-7, "1e-7"),
    (0.000001, "0.000001"),
    ("é\n\"", '"é\\n\\""'),
    ("\x01", '"\\u0001"'),
    ({"b": 1, "a": None}, '{"a":null,"b":1}'),
    ([], "[]"),
]


@pytest.mark.parametrize("value,expected", GO_JSON_CASES)
def test_go_json(value, expected):
    assert go_json(value) == expected


RENDER_CASES = [
    # corpus: workflow-hook-parameter.yaml (exit hook arguments)
    ('{{= workflow.status == "Succeeded" ? "Succeeded" : "Failed" }}', {"workflow.status": "Succeeded"}, "Succeeded"),
    ('{{= workflow.status == "Succeeded" ? "Succeeded" : "Failed" }}', {"workflow.status": "Error"}, "Failed"),
    ("{{= workflow.status }}", {"workflow.status": "Failed"}, "Failed"),
    # stringification
    ("n={{=1 + 2}}", {}, "n=3"),
    ("n={{=3 / 2}}", {}, "n=1.5"),
    ("n={{=4 / 2}}", {}, "n=2"),
    ("n={{=asFloat('1000000')}}", {}, "n=1e+06"),
    ("b={{=1 < 2}}", {}, "b=true"),
    ("l={{=[1, 'a']}}", {}, "l=[1 a]"),
    ("m={{={'b': 1, 'a': 2} }}", {}, "m=map[a:2 b:1]"),
    ("j={{=toJson([1, 'a'])}}", {}, 'j=[1,"a"]'),
    # plain tags are left for the caller; several tags; no tags
    ("{{workflow.name}}-{{=sprig.upper(x)}}-{{ item }}", {"x": "ab"}, "{{workflow.name}}-AB-{{ item }}"),
    ("{{=a}}{{=b}}", {"a": "1", "b": "2"}, "12"),
    ("no tags", {}, "no tags"),
    ("{{unclosed", {}, "{{unclosed"),
    ("{{=x ?? 'fallback'}}", {}, "fallback"),
]


@pytest.mark.parametrize("text,env,expected", RENDER_CASES)
def test_render_inline_expressions(text, env, expected):
    assert render_inline_expressions(text, env) == expected


@pytest.mark.parametrize(
    "text,message",
    [
        ("{{=missing}}", "result is nil"),
        ("{{=1 +}}", "unexpected end"),
        ("{{='a' + 1}}", "mismatched types"),
        ("x {{=unterminated", "cannot find end tag"),
        ("{{={'a': 1}}}", "expected ','"),  # the tag ends at the first '}}', like fasttemplate
    ],
)
def test_render_errors(text, message):
    with pytest.raises(ExpressionError) as info:
        render_inline_expressions(text, {})
    assert message in str(info.value)


def test_expression_error_is_value_error():
    assert issubclass(ExpressionError, ValueError)


# ============================================================================================
# environment shapes, pipes, evaluate_bool


def test_flat_keys_expand_like_argo():
    # util/expand: a key with more specific siblings is dropped, then the flat map is expanded
    env = {
        "inputs.parameters": '[{"name": "x", "value": "1"}]',
        "inputs.parameters.x": "1",
        "tasks.A.status": "Succeeded",
        "tasks.B.status": "Failed",
        "tasks.B.outputs.result": "out",
    }
    assert compile_expr("inputs.parameters").evaluate(env) == {"x": "1"}
    assert compile_expr("inputs.parameters.x").evaluate(env) == "1"
    assert compile_expr("tasks").evaluate(env) == {
        "A": {"status": "Succeeded"},
        "B": {"status": "Failed", "outputs": {"result": "out"}},
    }
    assert compile_expr("get(tasks, name).status").evaluate({**env, "name": "B"}) == "Failed"
    assert compile_expr("tasks[name].outputs.result").evaluate({**env, "name": "B"}) == "out"
    assert compile_expr("len(tasks)").evaluate(env) == 2


def test_pipes_and_elvis():
    assert compile_expr("[1, 2, 3] | filter(# > 1) | map(# * 2)").evaluate({}) == [4, 6]
    assert compile_expr("'a,b' | split(',')").evaluate({}) == ["a", "b"]
    assert compile_expr("'x' | upper()").evaluate({}) == "X"
    assert compile_expr("false ?: true").evaluate({}) is True
    with pytest.raises(ExpressionError, match="non-bool"):
        compile_expr("'a' ?: 'b'").evaluate({})
    with pytest.raises(ExpressionError, match="expected a function call"):
        compile_expr("1 | 2")


def test_evaluate_bool():
    hook = compile_expr('workflow.status == "Running"')
    assert hook.evaluate_bool({"workflow.status": "Running"}) is True
    assert hook.evaluate_bool({"workflow.status": "Succeeded"}) is False
    retry = compile_expr("asInt(lastRetry.exitCode) > 1")
    assert retry.evaluate_bool({"lastRetry.exitCode": "2"}) is True
    assert retry.evaluate_bool({"lastRetry.exitCode": "1"}) is False
    with pytest.raises(ExpressionError, match="unable to cast expression result 'Running' to bool"):
        compile_expr("workflow.status").evaluate_bool({"workflow.status": "Running"})
