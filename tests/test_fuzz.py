"""Issue 10, item 4: a bounded fuzz test. Whatever the text, `check` answers with a workflow or
with problems placed in the file, the plan renders, and the expression languages raise nothing
but `ExpressionError`. Derandomized (the same examples on every run, so CI is stable); about
5,900 examples in all (about 45 s on one CPU), well under two minutes. Inputs it found that crashed are kept below as
`@example`s.

Seeds are this folder's own files (tests/fuzz_seeds), never the shared corpus."""

from __future__ import annotations

import copy
import io
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from flowport.cli.views import render_plan
from flowport.lang import argo_tags, dagu_vars, depends, expressions, govaluate
from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang import compile_expr
from flowport.translators import check

SEEDS = {p.name: p.read_text() for p in sorted((Path(__file__).parent / "fuzz_seeds").glob("*.yaml"))}
#: problems about the file as a whole: they have no line
FILE_LEVEL = ("the file holds no YAML document", "file is ", "cannot read file")


#: FLOWPORT_FUZZ_SCALE=20 runs 20 times as many examples, with fresh random ones (a local hunt)
SCALE = int(os.environ.get("FLOWPORT_FUZZ_SCALE", "1"))


def _settings(n: int):
    return settings(max_examples=n * SCALE, deadline=None, derandomize=SCALE == 1, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


def assert_answers(text: str, name: str = "fuzz.yaml") -> None:
    """`check` returns; a workflow renders its plan and its JSON; problems are placed."""
    result = check(name, text=text)
    if result.ok:
        render_plan(Console(file=io.StringIO(), width=120), result.workflow)
        json.dumps(result.workflow.to_dict(), default=str)
        return
    assert result.problems, "not ok, yet no problem"
    rendered = result.error().render()
    for p in result.problems:
        assert p.mark is not None and p.mark.file == name, p
        if not p.message.startswith(FILE_LEVEL):
            assert p.mark.line >= 1 and p.mark.col >= 1, p
        assert isinstance(p.message, str) and p.message
    assert "Traceback" not in rendered


# ---------------------------------------------------------------- mutations of the seeds

YAML_BITS = [":", " ", "\n", "-", "[", "]", "{", "}", ",", "&a", "*a", "!", "|", ">", "'", '"', "#", "%",
             "@", "`", "\t", "\\", "?", "<<: *a", "${", "}}", "{{", "..", "/", "\\0", "\x85", "é", "0", "9" * 30]
TAGS = ["!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ", "!!set ", "!!omap ", "!!pairs ",
        "!!str ", "!!null ", "!!map ", "!!seq ", "!!merge ", "!!value ", "!custom ", "!!python/name:os.system "]
VALUES = [None, True, 0, -1, 2**70, 1.5, float("inf"), "", "x", "[/red]", "..", "/etc", "a" * 300, [], {},
          ["a", 1], {"a": 1}, {"type": ["docker"]}, "${X}", "{{workflow.name}}", "\x00", "2024-01-01"]


@st.composite
def text_mutation(draw) -> str:
    """Byte, line and tag mutations of a seed's text."""
    text = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "line_dup", "line_del", "line_swap",
                                     "indent", "dedent", "tag"]))
        lines = text.split("\n")
        if kind in ("insert", "delete", "replace"):
            i = draw(st.integers(0, max(0, len(text) - 1)))
            bit = draw(st.sampled_from(YAML_BITS))
            width = draw(st.integers(1, 8))
            text = (text[:i] + bit + text[i:] if kind == "insert" else
                    text[:i] + text[i + width:] if kind == "delete" else text[:i] + bit + text[i + width:])
        elif kind == "tag":
            spots = [i + 2 for i in range(len(text)) if text.startswith((": ", "- "), i)]
            if spots:
                i = draw(st.sampled_from(spots))
                text = text[:i] + draw(st.sampled_from(TAGS)) + text[i:]
        else:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == "line_dup":
                lines.insert(j, lines[i])
            elif kind == "line_del":
                del lines[i]
            elif kind == "line_swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "indent":
                lines[i] = "  " + lines[i]
            else:
                lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
            text = "\n".join(lines)
    return text


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


def _keys_of(data) -> list:
    out = []
    for path in _paths(data):
        if path and isinstance(path[-1], str):
            out.append(path[-1])
    return sorted(set(out))


@st.composite
def key_mutation(draw) -> str:
    """Key and type mutations of a seed's data: swap a value's type, drop or rename a key, move a
    subtree elsewhere; dumped back to YAML."""
    data = yaml.safe_load(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    keys = _keys_of(data)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        kind = draw(st.sampled_from(["value", "value", "delete", "rename", "copy"]))
        if kind == "value":
            parent[last] = copy.deepcopy(draw(st.sampled_from(VALUES)))  # VALUES is shared: never mutate it
        elif kind == "delete":
            del parent[last]
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(keys))] = parent.pop(last)
        elif kind == "copy":
            other = data
            for part in draw(st.sampled_from(paths))[:-1]:
                other = other[part]
            parent[last] = copy.deepcopy(other)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def test_seeds_are_valid():
    for name, text in SEEDS.items():
        result = check(name, text=text)
        assert result.ok, result.error().render()


@_settings(2000)
@given(text_mutation())
@example('steps:\n  - name: a\n    retryPolicy: {limit: !!int ""}\n')
@example("steps:\n  - name: a\n    executor: {type: [docker]}\n    command: x\n")
@example('steps:\n  - name: a\n    command: ls\n    dir: "\\0"\n')
@example("apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: x}\n")
def test_mutated_seeds_are_answered(text):
    assert_answers(text)


@_settings(800)
@given(key_mutation())
@example("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: true\nspec:\n"
         "  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine}\n")
def test_seeds_with_swapped_keys_and_types_are_answered(text):
    assert_answers(text)


# ---------------------------------------------------------------- generated workflows

NAME = st.text(st.sampled_from("ab.-_/ [ ]$:{}\\0é"), min_size=0, max_size=8)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**20), st.floats(allow_nan=True), NAME)
SMALL = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(NAME, inner, max_size=3)), max_leaves=6)


@st.composite
def dagu_dags(draw) -> str:
    names = draw(st.lists(NAME, min_size=1, max_size=4))
    steps = []
    for name in names:
        step = {"name": name, draw(st.sampled_from(["command", "script", "run", "exec"])): draw(SMALL)}
        for key, value in draw(st.dictionaries(
                st.sampled_from(["depends", "output", "retryPolicy", "continueOn", "executor", "env", "dir",
                                 "preconditions", "repeatPolicy", "stdout", "timeoutSec", "action", "with",
                                 "container", "signalOnStop", "mailOnError", "type", "config", "shell"]),
                st.one_of(SMALL, st.sampled_from(names), st.just({"type": "docker", "config": {"image": "a"}})),
                max_size=3)).items():
            step[key] = value
        steps.append(step)
    dag = {"steps": steps}
    dag.update(draw(st.dictionaries(st.sampled_from(["name", "params", "env", "timeoutSec", "logDir",
                                                     "handlerOn", "container", "schedule", "type", "dotenv",
                                                     "maxActiveSteps", "preconditions", "workingDir"]),
                                    SMALL, max_size=3)))
    return yaml.safe_dump(dag, sort_keys=False, allow_unicode=True)


@st.composite
def argo_workflows(draw) -> str:
    names = draw(st.lists(NAME, min_size=1, max_size=3))
    templates = []
    for name in names:
        kind = draw(st.sampled_from(["container", "script", "steps", "dag", "suspend", "http"]))
        body: object
        if kind == "steps":
            body = [[{"name": draw(NAME), "template": draw(st.sampled_from(names)),
                      "when": draw(st.one_of(st.none(), NAME))}]]
        elif kind == "dag":
            body = {"tasks": [{"name": draw(NAME), "template": draw(st.sampled_from(names)),
                               "depends": draw(st.one_of(st.none(), NAME))}]}
        else:
            body = draw(st.one_of(SMALL, st.just({"image": "alpine", "command": ["{{inputs.parameters.x}}"]})))
        template = {"name": name, kind: body}
        template.update(draw(st.dictionaries(st.sampled_from(["inputs", "outputs", "retryStrategy", "timeout",
                                                              "activeDeadlineSeconds", "parallelism"]),
                                             SMALL, max_size=2)))
        templates.append(template)
    spec = {"entrypoint": draw(st.sampled_from(names)), "templates": templates}
    spec.update(draw(st.dictionaries(st.sampled_from(["arguments", "onExit", "hooks", "parallelism",
                                                      "activeDeadlineSeconds", "templateDefaults"]),
                                     SMALL, max_size=2)))
    meta = draw(st.dictionaries(st.sampled_from(["name", "generateName", "labels"]), SMALL, min_size=1,
                                max_size=2))
    kind = draw(st.sampled_from(["Workflow", "WorkflowTemplate", "CronWorkflow"]))
    if kind == "CronWorkflow":
        spec = draw(st.sampled_from([{"schedule": "* * * * *", "workflowSpec": spec}, {}, spec]))
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": meta, "spec": spec}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@_settings(800)
@given(dagu_dags())
def test_generated_dagu_dags_are_answered(text):
    assert_answers(text)


@_settings(800)
@given(argo_workflows())
@example("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\nspec:\n  entrypoint: m\n"
         "  templates:\n  - name: m\n    steps:\n    - - {name: s, template: c, when: '0\\:'}\n"
         "  - name: c\n    container: {image: alpine}\n")
def test_generated_argo_workflows_are_answered(text):
    assert_answers(text)


# ---------------------------------------------------------------- the expression languages

EXPR_CHARS = st.sampled_from(list("ab01 .,:?!|&=<>+-*/%^~()[]{}'\"`$#@\\_\n") +
                             ["..", "**", "??", "?.", "&&", "||", "==", "!=", "=~", "in ", "not ", "matches ",
                              "len(", "sprig.", "steps.", "tasks.", "{{", "}}", "${", "9" * 25, "0x", "1e9"])
EXPR = st.lists(EXPR_CHARS, max_size=24).map("".join)
SCOPE = {"a": "1", "b": "x", "steps.a.status": "Succeeded", "tasks.a.outputs.result": "[1,2]", "1": "one"}


def _only_expression_errors(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ExpressionError:
        pass


@_settings(300)
@given(EXPR)
@example("0..999999999")
@example("sprig.repeat(999999999, 'x')")
def test_expr_lang_raises_only_expression_errors(text):
    _only_expression_errors(lambda: compile_expr(text).evaluate(dict(SCOPE)))
    _only_expression_errors(expressions.render_inline_expressions, "{{=" + text + "}}", dict(SCOPE))


@_settings(300)
@given(EXPR)
@example("0\\:")  # a number run with an escaped ':' reached float(): ValueError
def test_govaluate_when_raises_only_expression_errors(text):
    _only_expression_errors(govaluate.evaluate_when, text)
    assert govaluate.check_when_syntax(text) is None or isinstance(govaluate.check_when_syntax(text), str)
    _only_expression_errors(depends.check_when, text)


@_settings(300)
@given(EXPR)
def test_depends_raises_only_expression_errors(text):
    _only_expression_errors(depends.compile_depends, text)


@_settings(300)
@given(EXPR)
def test_argo_tags_raise_only_expression_errors(text):
    # Unresolved is argo_tags' own error: a strict reference without a value, or a `{{=…}}`
    # whose ExpressionError it words as Argo does
    for strict in ((), argo_tags.STRICT):
        try:
            argo_tags.substitute(text, SCOPE, strict=strict)
        except (ExpressionError, argo_tags.Unresolved):
            pass


@_settings(300)
@given(EXPR, st.booleans())
def test_dagu_vars_raise_only_expression_errors(text, keep_unknown):
    _only_expression_errors(dagu_vars.expand, text, SCOPE, keep_unknown=keep_unknown,
                            namespaces={"params": {"a": "1"}, "env": {}})
    _only_expression_errors(dagu_vars.expand, text, SCOPE, backtick=lambda cmd: cmd.strip())
    _only_expression_errors(dagu_vars.parse_params, text)


@pytest.mark.parametrize("text", ["0..999999999", "len(-5..999999999)"])
def test_a_huge_range_fails_like_expr_lang(text):
    with pytest.raises(ExpressionError, match="memory budget exceeded"):
        compile_expr(text).evaluate({})
