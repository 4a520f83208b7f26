"""Issue 10 item 2: expressions cannot hang or crash a run.

Regular expressions run on RE2 (Go's regexp syntax and linear time), every failure inside
flowport.lang is an ExpressionError, and a run whose expression fails fails that node and
still runs its exit handlers. Also pins how Argo re-substitutes an input parameter's value.
"""

from __future__ import annotations

import time

import pytest

from flowport.adapter.argo.executor import ERROR, FAILED, SUCCEEDED, Executor
from flowport.adapter.dagu.status import failure_continues
from flowport.errors import FlowportError
from flowport.lang import argo_tags, dagu_vars, gofmt, govaluate
from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang import compile_expr, go_json
from flowport.lang.regex import compile_go, matches, quote_meta
from flowport.model import ContinueOn

from test_argo_semantics import phases, run

EVIL = "(a+)+$"
TEXT = "a" * 40 + "!"


def _fast(fn, bound: float = 1.0):
    start = time.perf_counter()
    result = fn()
    assert time.perf_counter() - start < bound, "backtracking: the regex engine is not RE2"
    return result


# --------------------------------------------------------------------------- RE2 everywhere


@pytest.mark.parametrize("name, call", [
    ("lang.regex", lambda: compile_go(EVIL).search(TEXT)),
    ("govaluate =~", lambda: govaluate.evaluate_when(f"'{TEXT}' =~ '{EVIL}'")),
    ("govaluate !~", lambda: not govaluate.evaluate_when(f"'{TEXT}' !~ '{EVIL}'")),
    ("expr-lang matches", lambda: compile_expr(f"x matches '{EVIL}'").evaluate({"x": TEXT})),
    ("sprig.regexMatch", lambda: compile_expr(f"sprig.regexMatch('{EVIL}', x)").evaluate({"x": TEXT})),
    ("sprig.regexFindAll", lambda: compile_expr(f"sprig.regexFindAll('{EVIL}', x, -1)").evaluate({"x": TEXT}) != []),
    ("sprig.regexReplaceAll", lambda: compile_expr(f"sprig.regexReplaceAll('{EVIL}', x, 'y')").evaluate({"x": TEXT}) != TEXT),
    ("dagu re: precondition", lambda: dagu_vars.match_expected(TEXT, f"re:{EVIL}")),
    ("dagu continueOn.output", lambda: failure_continues(ContinueOn(output=(f"re:{EVIL}",)), 1, TEXT)),
])
def test_catastrophic_pattern_finishes_in_milliseconds(name, call):
    assert _fast(call) is False, name


@pytest.mark.parametrize("call, where", [
    (lambda: compile_go("a(b"), "`a(b`"),
    (lambda: matches("x**", "x"), "`**`"),
    (lambda: govaluate.evaluate_when("'x' =~ 'a(b'"), "Unable to compile regexp pattern 'a(b'"),
    (lambda: compile_expr("'x' matches 'a(b'").evaluate({}), "`a(b`"),
    (lambda: compile_expr("sprig.regexFind('a(b', 'x')").evaluate({}), 'regexp: Compile("a(b")'),
    (lambda: compile_expr("sprig.mustRegexSplit('a(b', 'x', -1)").evaluate({}), "`a(b`"),
])
def test_invalid_pattern_is_an_expression_error_naming_it(call, where):
    with pytest.raises(ExpressionError) as err:
        call()
    assert where in str(err.value)
    assert "error parsing regexp: " in str(err.value)


def test_invalid_pattern_never_matches_where_go_ignores_the_error():
    assert compile_expr("sprig.regexMatch('a(b', 'x')").evaluate({}) is False  # sprig drops the error
    assert dagu_vars.match_expected("a(b", "re:a(b") is False  # Dagu logs it and goes on
    assert failure_continues(ContinueOn(output=("re:a(b",)), 1, "a(b") is False


def test_go_syntax_and_semantics():
    assert matches(r"(?P<y>\d+)-(?<m>\d+)", "2024-05")
    assert matches(r"end\z", "the end") and not matches(r"end\z", "the end\n")
    assert not matches("a$", "a\n")  # Python re would match before a final newline
    assert not matches(r"^\d+$", "١٢")  # \d is ASCII in Go
    assert matches(r"(?i)straße", "STRASSE") is False and matches(r"(?i)σ", "Σ")
    assert matches(r"\Qa.b\E", "a.b") and not matches(r"\Qa.b\E", "axb")
    assert matches(quote_meta("1.5+[x]"), "v1.5+[x]") and quote_meta("a.b") == r"a\.b"
    with pytest.raises(ExpressionError):
        compile_go(r"(?=x)")  # no lookaround in RE2
    with pytest.raises(ExpressionError):
        compile_go(r"a\Z")  # Python-only anchor


@pytest.mark.parametrize("expr, expected", [
    # regexp.ReplaceAllString examples of the Go documentation
    ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', 'T')", "-T-T-"),
    ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '$1')", "--xx-"),
    ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '$1W')", "---"),  # the group named `1W`
    ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
    ("sprig.regexReplaceAll('a(?P<x>x*)b', '-ab-axxb-', '${x}.$$')", "-.$-xx.$-"),
    ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '$9|$')", "-|$-|$-"),
    ("sprig.regexReplaceAllLiteral('a(x*)b', '-ab-axxb-', '${1}')", "-${1}-${1}-"),
    ("sprig.regexReplaceAll('a*', 'baaac', 'X')", "XbXcX"),  # Python's re.sub gives XbXXcX
    ("sprig.regexReplaceAll('', 'héé', '-')", "-h-é-é-"),
    ("sprig.regexFindAll('a*', 'baaac', -1)", ["", "aaa", ""]),
    ("sprig.regexFindAll('a.', 'paranormal', 2)", ["ar", "an"]),
    ("sprig.regexFindAll('a.', 'paranormal', 0)", []),
    ("sprig.regexFind('a.', 'xaéb')", "aé"),
    ("sprig.regexFind('z', 'abc')", ""),
    ("sprig.regexSplit('a', 'banana', -1)", ["b", "n", "n", ""]),
    ("sprig.regexSplit('a', 'banana', 2)", ["b", "nana"]),
    ("sprig.regexSplit('z+', 'pizza', -1)", ["pi", "a"]),
    ("sprig.regexSplit('', 'abc', -1)", ["a", "b", "c"]),
    ("sprig.regexSplit('a', '', -1)", [""]),
    ("sprig.regexMatch('^v[0-9]+$', 'v12')", True),
    ("sprig.regexQuoteMeta('1.5*')", r"1\.5\*"),
    ("'v1.2' matches '^v\\\\d'", True),
])
def test_sprig_regex_functions_as_go(expr, expected):
    assert compile_expr(expr).evaluate({}) == expected


def test_sprig_regex_arguments_are_go_typed():
    with pytest.raises(ExpressionError, match="as type string"):
        compile_expr("sprig.regexFind(1, 'x')").evaluate({})
    with pytest.raises(ExpressionError, match="as type int"):
        compile_expr("sprig.regexFindAll('x', 'x', '1')").evaluate({})


# --------------------------------------------------------------------------- lang errors


def _cycle():
    items: list = []
    items.append(items)
    return items


REPRODUCERS = {
    "govaluate number from a parameter (1\\a)": lambda: govaluate.evaluate_when("1\\a == 1"),
    "govaluate number that overflows (1\\e999)": lambda: govaluate.evaluate_when("1\\e999 > 1"),
    "govaluate nested too deeply": lambda: govaluate.evaluate_when("(" * 3000 + "1" + ")" * 3000 + " == 1"),
    "go_json(+Inf)": lambda: go_json(float("inf")),
    "go_json(NaN)": lambda: go_json(float("nan")),
    "json.Marshal of an unsupported type": lambda: gofmt.json_marshal(object()),
    "json.Marshal of a cycle": lambda: gofmt.json_marshal(_cycle()),
    "%v of a cycle": lambda: gofmt.format_v(_cycle()),
    "json.Unmarshal of bad JSON": lambda: gofmt.json_unmarshal("{"),
    "json.Unmarshal of NaN": lambda: gofmt.json_unmarshal("NaN"),
    "expr-lang toJSON(NaN)": lambda: compile_expr("toJSON(x)").evaluate({"x": float("nan")}),
    "expr-lang integer division by zero": lambda: compile_expr("1 % 0").evaluate({}),
    "expr-lang range over the memory budget": lambda: compile_expr("len(1..100000000000)").evaluate({}),
    "expr-lang repeat over the memory budget": lambda: compile_expr("repeat('ab', 10000000000)").evaluate({}),
    "expr-lang nested too deeply": lambda: compile_expr("(" * 3000 + "1" + ")" * 3000).evaluate({}),
    "expr-lang bad type": lambda: compile_expr("abs('x')").evaluate({}),
    "withSequence count that is no integer": lambda: argo_tags.sequence_items("1e999", None, None, None),
    "withSequence count that cannot fit": lambda: argo_tags.sequence_items("100000000000000", None, None, None),
    "withParam NaN": lambda: argo_tags.param_items("[NaN]"),
    "withParam nested too deeply": lambda: argo_tags.param_items("[" * 100000 + "]" * 100000),
    "{{=…}} that fails": lambda: argo_tags.substitute("{{=1 % 0}}", {}),
    "unresolved reference": lambda: argo_tags.substitute("{{steps.a.outputs.result}}", {}),
}


@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_every_lang_failure_is_an_expression_error(name):
    with pytest.raises(ExpressionError) as err:
        _fast(REPRODUCERS[name], bound=5.0)
    assert isinstance(err.value, FlowportError) and isinstance(err.value, ValueError)


def test_valid_values_render_as_before():
    assert go_json({"b": [1, 2.5, None], "a": "<x>"}) == '{"a":"\\u003cx\\u003e","b":[1,2.5,null]}'
    assert govaluate.evaluate_when("1.5 > 1 && 'ab' =~ '^a'") is True
    assert argo_tags.sequence_items("3", "1", None, "x%02d") == ["x01", "x02", "x03"]
    assert argo_tags.param_items('[1, "a", {"k": 2}]') == [1, "a", {"k": 2}]
    assert compile_expr("repeat('ab', 3)").evaluate({}) == "ababab"
    assert compile_expr("len(1..1000)").evaluate({}) == 1000


# --------------------------------------------------------------------------- Argo runs


def _node(ex: Executor, display: str):
    return next(n for n in ex.records() if n.display_name == display)


def test_argo_when_on_a_bad_number_errors_the_step_and_runs_on_exit(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        onExit: ok
        arguments: {parameters: [{name: n, value: "1"}]}
        templates:
        - name: main
          steps:
          - - name: check
              template: ok
              when: "{{workflow.parameters.n}} == 1"
          - - name: after
              template: ok
        """, params={"n": "1\\a"})
    check_node = _node(ex, "check")
    assert check_node.phase == ERROR and "Unable to parse numeric value '1a'" in check_node.message
    assert "after" not in phases(ex)
    assert ex.status in (FAILED, ERROR) and phases(ex)["onExit"] == SUCCEEDED


@pytest.mark.parametrize("value", [
    "{{=toJSON(sprig.float64('NaN'))}}",  # json.Marshal refuses NaN
    "{{=sprig.regexFind('a(b', 'x')}}",  # MustCompile panics
    "{{=len(1..100000000000)}}",  # expr-lang's memory budget
    "{{=1 % 0}}",
])
def test_argo_failing_argument_expression_errors_the_node_and_runs_on_exit(tmp_path, value):
    ex = run(tmp_path, f"""
        entrypoint: main
        onExit: ok
        templates:
        - name: main
          dag:
            tasks:
            - name: show
              template: echo
              arguments: {{parameters: [{{name: m, value: "{value}"}}]}}
            - name: after
              template: ok
              depends: show
        """)
    show = _node(ex, "show")
    assert show.phase == ERROR and "failed to evaluate expression" in show.message
    assert ex.status in (FAILED, ERROR) and phases(ex)["onExit"] == SUCCEEDED


def test_argo_backoff_that_is_no_number_errors_the_node_and_runs_on_exit(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        onExit: ok
        arguments: {parameters: [{name: f, value: "2"}]}
        templates:
        - name: main
          retryStrategy:
            limit: 1
            backoff: {duration: "1", factor: "{{workflow.parameters.f}}"}
          container: {image: x, args: ["1", "no"]}
        """, params={"f": "fast"})
    root = _node(ex, "w")
    assert root.phase == ERROR and "backoff" in root.message
    assert phases(ex)["onExit"] == SUCCEEDED


def test_argo_hook_expression_error_does_not_stop_the_run(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        onExit: ok
        templates:
        - name: main
          steps:
          - - name: a
              template: ok
              hooks:
                bad: {expression: "sprig.regexFind('a(b', 'x') == ''", template: ok}
        """)
    assert ex.status == SUCCEEDED and phases(ex)["onExit"] == SUCCEEDED
    assert "regexp: Compile" in (_node(ex, "a").message or "")


def test_argo_substitutes_an_input_value_a_second_time_with_globals_only(tmp_path):
    """Argo's executeTemplate calls ProcessArgs → SubstituteParams
    (argoproj/argo-workflows workflow/common/util.go, read at f016ad8): the template is
    json.Marshal'ed with its `inputs.parameters[].value` already set from the arguments, and
    template.Replace runs over that JSON with globalParams merged with the localParams of
    workflow/controller/operator.go (pod.name, node.name, steps.name / tasks.name), with
    allowUnresolved=true: unknown tags, and `{{=…}}` that fail or are nil, are written back
    (util/template/simple_template.go simpleReplaceStrict, expression_template.go
    expressionReplaceCore). The inputs map for the second Replace is read from that result and
    fasttemplate never re-reads a replacement, so `{{inputs.parameters.*}}` inside a value,
    and the caller's `{{steps.*}}`, stay literal."""
    o = "{{='{{'}}"  # writes a literal `{{` into the producer's output
    ex = run(tmp_path, f"""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: gen
              template: produce
          - - name: show
              template: echo2
              arguments:
                parameters:
                - name: m
                  value: "{{{{steps.gen.outputs.result}}}}"
        - name: produce
          container:
            image: x
            args: ["0", "{o}workflow.name}}}}|{o}node.name}}}}|{o}=2+3}}}}|{o}=nope.x}}}}|{o}inputs.parameters.m}}}}|{o}steps.gen.outputs.result}}}}"]
        - name: echo2
          inputs:
            parameters:
            - name: m
            - name: n
              default: "{{{{inputs.parameters.m}}}}/{{{{workflow.name}}}}"
          container: {{image: x, args: ["0", "{{{{inputs.parameters.m}}}} ~ {{{{inputs.parameters.n}}}}"]}}
        """)
    assert ex.status == SUCCEEDED, ex.message
    gen = _node(ex, "gen").outputs["result"]
    assert gen == ("{{workflow.name}}|{{node.name}}|{{=2+3}}|{{=nope.x}}|{{inputs.parameters.m}}"
                   "|{{steps.gen.outputs.result}}")
    show = _node(ex, "show")
    assert show.outputs["result"] == (
        f"w|{show.name}|5|{{{{=nope.x}}}}|{{{{inputs.parameters.m}}}}|{{{{steps.gen.outputs.result}}}}"
        " ~ {{inputs.parameters.m}}/w")


# --------------------------------------------------------------------------- Dagu runs


def test_dagu_output_json_marshal_failure_fails_the_step_and_runs_handlers(run_dag, tmp_path):
    report = run_dag("""
        type: graph
        handlerOn:
          failure:
            command: echo failure > failure.txt
          exit:
            command: echo exit > exit.txt
        steps:
          - id: measure
            command: "printf 'ratio: .nan\\n'"
            output:
              ratio: {from: stdout, decode: yaml, select: .ratio}
          - id: after
            depends: [measure]
            command: echo never > after.txt
    """)
    assert report.status == "failed", report.message
    measure = next(n for n in report.nodes if n.name == "measure")
    assert measure.phase == "failed" and "unsupported value: NaN" in (measure.message or "")
    assert (tmp_path / "failure.txt").read_text().strip() == "failure"
    assert (tmp_path / "exit.txt").read_text().strip() == "exit"
    assert not (tmp_path / "after.txt").exists()


def test_dagu_regex_precondition_runs_on_re2(run_dag, tmp_path):
    report = run_dag(f"""
        type: graph
        steps:
          - id: evil
            command: echo ran > evil.txt
            preconditions:
              - condition: "{TEXT}"
                expected: "re:{EVIL}"
          - id: named
            command: echo ran > named.txt
            preconditions:
              - condition: "release-2024"
                expected: "re:^release-(?P<year>\\\\d{{4}})\\\\z"
    """)
    assert report.status == "succeeded", report.message
    assert not (tmp_path / "evil.txt").exists()
    assert (tmp_path / "named.txt").exists()
