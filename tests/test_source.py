"""translators/source/: YAML with positions, problems and their rendering."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import yaml

try:
    import flowport  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from flowport.translators.source import (  # noqa: E402
    MAX_BYTES,
    MAX_DEPTH,
    MIN_NODE_BUDGET,
    Mark,
    Problem,
    Problems,
    SourceError,
    did_you_mean,
    format_path,
    load_documents,
    unknown_key_hint,
)


def load1(text: str, file: str = "dag.yaml"):
    docs = load_documents(text=text, file=file)
    assert len(docs) == 1
    return docs[0]


def error_of(text: str, file: str = "dag.yaml") -> SourceError:
    with pytest.raises(SourceError) as info:
        load_documents(text=text, file=file)
    return info.value


# --------------------------------------------------------------------------
# positions

DAG = """\
name: etl
steps:
  - name: extract
    command: ./extract.sh
  - name: load
    depends: [extract, "other"]
    retryPolicy: {limit: 3, intervalSec: 10}
    env:
      - KEY: value
handlerOn:
  success:
    command: echo ok
"""


def test_marks_of_values_and_keys():
    doc = load1(DAG)
    assert str(doc.mark(("name",))) == "dag.yaml:1:7"
    assert doc.mark(("name",), key=True) == Mark("dag.yaml", 1, 1)
    # list items and block mappings inside them
    assert doc.mark(("steps",)) == Mark("dag.yaml", 3, 3)
    assert doc.mark(("steps", 0)) == Mark("dag.yaml", 3, 5)
    assert doc.mark(("steps", 1, "name"), key=True) == Mark("dag.yaml", 5, 5)
    assert doc.mark(("steps", 1, "name")) == Mark("dag.yaml", 5, 11)
    # flow sequence and flow mapping
    assert doc.mark(("steps", 1, "depends")) == Mark("dag.yaml", 6, 14)
    assert doc.mark(("steps", 1, "depends", 1)) == Mark("dag.yaml", 6, 24)
    assert doc.mark(("steps", 1, "retryPolicy", "limit")) == Mark("dag.yaml", 7, 26)
    assert doc.mark(("steps", 1, "retryPolicy", "intervalSec"), key=True) == Mark("dag.yaml", 7, 29)
    # nested block mapping
    assert doc.mark(("handlerOn", "success"), key=True) == Mark("dag.yaml", 11, 3)
    assert doc.mark(("handlerOn", "success", "command")) == Mark("dag.yaml", 12, 14)
    assert doc.mark(("steps", 1, "env", 0, "KEY")) == Mark("dag.yaml", 9, 14)


def test_missing_path_falls_back_to_nearest_ancestor():
    doc = load1(DAG)
    assert doc.mark(("steps", 1, "retryPolicy", "nope")) == doc.mark(("steps", 1, "retryPolicy"))
    assert doc.mark(("steps", 7, "x")) == doc.mark(("steps",))
    assert doc.mark(("nothing", "here"), key=True) == doc.mark(())
    # key=True on a list item (no key) gives the item itself
    assert doc.mark(("steps", 1), key=True) == doc.mark(("steps", 1))


def test_columns_count_characters_not_bytes():
    doc = load1("größe: [ä, b]\n")
    assert doc.mark(("größe", 1)) == Mark("dag.yaml", 1, 12)


def test_multi_document_file():
    text = "a: 1\n---\nkind: Workflow\nspec:\n  x: [1, 2]\n---\n---\n# just a comment\n"
    docs = load_documents(text=text, file="multi.yaml")
    assert [d.index for d in docs] == [0, 1]  # the empty documents are skipped
    assert [d.data for d in docs] == [{"a": 1}, {"kind": "Workflow", "spec": {"x": [1, 2]}}]
    # marks are relative to the file, not to the document
    assert docs[1].mark(("spec", "x", 1)) == Mark("multi.yaml", 5, 10)
    assert docs[1].file == "multi.yaml" and docs[1].text == text


def test_empty_input_has_no_documents():
    assert load_documents(text="") == []
    assert load_documents(text="# nothing\n---\n") == []


def test_load_from_path(tmp_path):
    path = tmp_path / "dag.yaml"
    path.write_text("\ufeffname: x\nsteps: []\n", encoding="utf-8")
    (doc,) = load_documents(path)
    assert doc.file == str(path)
    assert doc.data == {"name": "x", "steps": []}
    assert doc.mark(("steps",)) == Mark(str(path), 2, 8)
    (doc,) = load_documents(str(path), file="shown.yaml")
    assert doc.mark(("steps",)).file == "shown.yaml"


# --------------------------------------------------------------------------
# values: exactly what yaml.safe_load gives

VARIED = """\
str: hello world
quoted: "123"
single: 'yes'
int: 42
neg: -17
octal: 0o17
octal11: 017
hex: 0x1F
under: 1_000
sexagesimal: 1:30
float: 3.25
exp: 6.02e+23
inf: .inf
ninf: -.Inf
bools: [true, False, yes, No, on, OFF, y, n]
nulls: [~, null, Null, ]
empty:
date: 2024-01-31
datetime: 2024-01-31T12:30:45Z
datetime_tz: 2024-01-31 12:30:45.5 +02:00
bad_date_is_str: 2024-1-3x
version: 1.10
tagged: !!str 123
tagged_float: !!float 1
binary: !!binary aGVsbG8=
set: !!set {a, b}
omap: !!omap [{a: 1}, {b: 2}]
block: |
  line one
    indented
folded: >-
  folded
  text
plain: multi
  line value
on: 1
2: int key
3.5: float key
null: null key
"=": equals
? complex key
: value
list_of_maps:
  - {a: 1, b: [x, {c: d}]}
  - - nested
    - - deeper
"""


def test_values_are_identical_to_safe_load():
    doc = load1(VARIED)
    expected = yaml.safe_load(VARIED)
    assert doc.data == expected
    # same key order, and same Python types, recursively
    def walk(a, b):
        assert type(a) is type(b), (a, b)
        if isinstance(a, dict):
            assert list(a) == list(b)
            for k in a:
                walk(a[k], b[k])
        elif isinstance(a, list):
            for x, y in zip(a, b):
                walk(x, y)
    walk(doc.data, expected)
    assert doc.data[True] == 1  # YAML 1.1: 'on' is a boolean key, as in safe_load


def test_nan_is_a_float_nan():
    doc = load1("x: .nan\n")
    assert math.isnan(doc.data["x"])


def test_explicit_null_document_is_skipped():
    assert load_documents(text="--- ~\n---\na: 1\n")[0].data == {"a": 1}


# --------------------------------------------------------------------------
# aliases and merge keys

MERGE = """\
defaults: &defaults
  retries: 3
  image: alpine
  env: {A: "1"}
more: &more
  image: busybox
  timeout: 10
one:
  <<: *defaults
  image: ubuntu
two:
  name: two
  <<: [*more, *defaults]
three:
  <<: {inline: true}
  x: 1
"""


def test_merge_keys_follow_the_yaml_merge_spec():
    # yaml.org/type/merge: in a list, earlier mappings win; the mapping's own keys win over all.
    # (Go's yaml.v3, which Dagu and Argo use, does this; PyYAML 6.0.4 lets the last one win.)
    doc = load1(MERGE)
    assert doc.data["one"] == {"retries": 3, "image": "ubuntu", "env": {"A": "1"}}
    assert doc.data["two"] == {"image": "busybox", "timeout": 10, "retries": 3, "env": {"A": "1"}, "name": "two"}
    assert doc.data["three"] == {"inline": True, "x": 1}
    assert list(doc.data["one"]) == ["retries", "image", "env"]
    assert doc.data["two"]["image"] == "busybox"  # the first mapping listed wins
    # merged values point at the text they came from; own keys at themselves
    assert doc.mark(("one", "retries")) == doc.mark(("defaults", "retries"))
    assert doc.mark(("one", "env", "A")) == doc.mark(("defaults", "env", "A"))
    assert doc.mark(("one", "image")) == Mark("dag.yaml", 10, 10)


def test_an_own_key_overriding_a_merged_key_is_not_a_duplicate():
    assert load1("a: &a {x: 1}\nb: {<<: *a, x: 2}\n").data["b"] == {"x": 2}


def test_aliases_are_copies_at_each_use():
    doc = load1("base: &b {cmd: [echo, hi]}\nx: *b\ny: *b\n")
    assert doc.data["x"] == doc.data["y"] == {"cmd": ["echo", "hi"]}
    doc.data["x"]["cmd"].append("changed")
    assert doc.data["y"] == {"cmd": ["echo", "hi"]}
    assert doc.mark(("y", "cmd", 1)) == doc.mark(("base", "cmd", 1))


def test_bad_merge_value():
    err = error_of("a: {<<: 3}\n")
    assert "merge key" in err.problems[0].message
    assert err.problems[0].mark == Mark("dag.yaml", 1, 9)


def test_billion_laughs_is_refused():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):  # would expand to 9**10 values if it were not stopped
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    err = error_of("\n".join(lines) + "\n")
    (p,) = err.problems
    assert f"more than {MIN_NODE_BUDGET:,} values" in p.message
    assert p.message.startswith("alias '*e'")
    assert p.mark == Mark("dag.yaml", 6, 8)  # the alias that crossed the budget
    assert "billion laughs" in p.hint


def test_merge_chain_bomb_is_refused():
    lines = ["a0: &a0 {x: 1, y: 2}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, 60)]
    err = error_of("\n".join(lines) + "\n")
    assert "more than" in err.problems[0].message


def test_moderate_alias_use_is_fine():
    # 20x the written nodes is allowed even above the fixed minimum
    text = "base: &b [" + ", ".join(str(i) for i in range(6000)) + "]\n"
    text += "".join(f"c{i}: *b\n" for i in range(18))
    doc = load1(text)
    assert doc.data["c17"][5999] == 5999


def test_recursive_alias_is_an_error():
    err = error_of("a: &a [1, *a]\n")
    assert "alias" in err.problems[0].message


# --------------------------------------------------------------------------
# errors found while loading

def test_duplicate_keys_are_errors_at_the_second_key():
    err = error_of("name: a\nsteps:\n  - name: x\n    command: y\n    name: z\nname: b\n")
    assert [(p.message, str(p.mark), format_path(p.path)) for p in err.problems] == [
        ("duplicate key 'name' (first at line 3)", "dag.yaml:5:5", "steps[0].name"),
        ("duplicate key 'name' (first at line 1)", "dag.yaml:6:1", "name"),
    ]


def test_keys_that_collide_in_python():
    err = error_of("on: 1\n1: 2\n")
    assert err.problems[0].message == "key 1 is the same key as True (line 1)"
    assert "quote" in err.problems[0].hint


def test_duplicate_keys_next_to_merge_keys():
    err = error_of("a: &a {x: 1}\nb:\n  <<: *a\n  y: 1\n  y: 2\n")
    assert err.problems[0].message == "duplicate key 'y' (first at line 4)"
    assert err.problems[0].mark == Mark("dag.yaml", 5, 3)


def test_syntax_error_location_and_text():
    err = error_of("steps:\n  - name: a\n    command: [x, y\n  - name: b\n")
    (p,) = err.problems
    assert p.mark.file == "dag.yaml" and p.mark.line == 4
    assert p.message == "did not find expected ',' or ']'"
    assert p.hint == "while parsing a flow sequence (line 3, column 14)"


def test_syntax_error_after_good_documents_keeps_other_problems():
    err = error_of("a: 1\na: 2\n---\nb: : :\n")
    assert [p.mark.line for p in err.problems] == [2, 4]


def test_bad_scalars_and_tags():
    err = error_of("a: 2024-13-01\nb: !Ref x\nc: =\n")
    messages = [p.message for p in err.problems]
    assert messages[0].startswith("cannot read '2024-13-01' as timestamp")
    assert messages[1].startswith("unknown YAML tag '!Ref'")
    assert "quote it" in messages[2]


def test_deep_nesting_is_refused_without_crashing():
    # libyaml's C composer would overflow the C stack on this
    for text in ("a: " + "[" * 100_000 + "]" * 100_000, "- " * 50_000 + "x\n",
                 "a: " + "[" * 5_000 + "]" * 5_000):
        err = error_of(text)
        assert err.problems[0].message == f"nesting is deeper than {MAX_DEPTH} levels"
    nested = "[" * 100 + "]" * 100
    assert load1("a: " + nested).data == {"a": yaml.safe_load(nested)}


def test_size_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: '" + b"x" * int(7.2 * 1024 * 1024) + b"'\n")
    with pytest.raises(SourceError) as info:
        load_documents(big)
    assert str(info.value) == f"{big}: error: file is 7.2 MiB; the limit is 5 MiB"
    with pytest.raises(SourceError):
        load_documents(text="a: '" + "x" * MAX_BYTES + "'", file="t.yaml")


def test_unreadable_files(tmp_path):
    with pytest.raises(SourceError) as info:
        load_documents(tmp_path / "missing.yaml")
    assert "cannot read file" in str(info.value)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(SourceError) as info:
        load_documents(bad)
    assert info.value.problems[0].mark == Mark(str(bad), 2, 4)


def test_large_dag_loads():
    lines = ["name: big", "steps:"]
    for i in range(5000):
        lines += [f"  - name: step-{i}", f"    command: echo {i}",
                  f"    depends: [step-{i - 1}]" if i else "    depends: []", f"    output: OUT_{i}"]
    doc = load1("\n".join(lines) + "\n")
    assert len(doc.data["steps"]) == 5000
    assert doc.data["steps"][4999]["depends"] == ["step-4998"]
    assert doc.mark(("steps", 4999, "output")) == Mark("dag.yaml", 2 + 4 * 4999 + 4, 13)


# --------------------------------------------------------------------------
# problems and rendering

HANDLERS = "\n".join(f"# line {i}" for i in range(1, 11)) + "\nhandlerOn:\n  sucess:\n    command: echo\n"


def test_render_format_exactly():
    doc = load1(HANDLERS)
    problems = Problems(doc)
    problems.error(("handlerOn", "sucess"), "unknown key 'sucess'", key=True,
                   hint=unknown_key_hint("sucess", ["success", "failure", "exit"]))
    err = SourceError(problems, {doc.file: doc.text})
    expected = (
        "dag.yaml:12:3: error: unknown key 'sucess' (handlerOn.sucess)\n"
        "   11 | handlerOn:\n"
        "   12 |   sucess:\n"
        "      |   ^\n"
        "  hint: did you mean 'success'?"
    )
    assert err.render() == expected
    assert str(err) == expected
    colored = err.render(color=True)
    assert "\x1b[" in colored and "unknown key 'sucess'" in colored


def test_render_unsupported_first_line_and_order():
    doc = load1("executor: docker\nsteps: []\n")
    problems = Problems(doc)
    problems.error(("steps",), "no steps")
    problems.unsupported(("executor",), "'executor: docker'", hint="use a container step")
    assert len(problems) == 2 and problems
    err = SourceError(list(problems), {doc.file: doc.text})
    assert err.render() == (
        "dag.yaml:1:11: not supported yet: 'executor: docker' (executor)\n"
        "    1 | executor: docker\n"
        "      |           ^\n"
        "  hint: use a container step\n"
        "dag.yaml:2:8: error: no steps (steps)\n"
        "    1 | executor: docker\n"
        "    2 | steps: []\n"
        "      |        ^"
    )


def test_caret_follows_tabs():
    err = SourceError([Problem("bad", Mark("f.yaml", 1, 3))], {"f.yaml": "\t\tx: 1\n"})
    assert err.render().splitlines()[-1] == "      | \t\t^"


def test_problems_collector():
    doc = load1("a: 1\nb: {c: 2}\n")
    problems = Problems(doc)
    assert not problems and len(problems) == 0
    p = problems.error(("b", "c"), "too big", hint="use 1")
    assert p == Problem("too big", Mark("dag.yaml", 2, 8), ("b", "c"), "use 1", "error")
    other = Problems(load1("x: 1\n", file="other.yaml"))
    other.error(("x",), "bad x")
    problems.extend(other)
    problems.add(Problem("file-level", Mark("aaa.yaml", 0, 0)))
    err = SourceError(problems, {"dag.yaml": doc.text})
    assert [str(q.mark) for q in err.problems] == ["aaa.yaml", "dag.yaml:2:8", "other.yaml:1:4"]
    assert "aaa.yaml: error: file-level" in err.render()
    assert err.problems[1].to_dict() == {
        "file": "dag.yaml", "line": 2, "col": 8, "path": "b.c",
        "message": "too big", "hint": "use 1", "kind": "error",
    }
    assert err.problems[0].to_dict()["line"] is None


def test_source_error_pickles():
    import pickle

    err = SourceError([Problem("bad", Mark("f.yaml", 1, 1))], {"f.yaml": "x\n"})
    again = pickle.loads(pickle.dumps(err))
    assert again.render() == err.render()


def test_did_you_mean():
    assert did_you_mean("sucess", ["success", "failure"]) == "success"
    assert did_you_mean("ONEXIT", ["onExit", "onSuccess"]) == "onExit"
    assert did_you_mean("exit-handlerr", ["exit-handler", "main"]) == "exit-handler"
    assert did_you_mean("zzz", ["success", "failure"]) is None
    assert unknown_key_hint("retryPolicyy", ["retryPolicy", "repeatPolicy"]) == "did you mean 'retryPolicy'?"
    assert unknown_key_hint("qqq", ["retryPolicy"]) is None


def test_format_path():
    assert format_path(("steps", 2, "retryPolicy", "limit")) == "steps[2].retryPolicy.limit"
    assert format_path(("steps", "Copy TAB_1", "command")) == 'steps["Copy TAB_1"].command'
    assert format_path(("spec", "templates", 0, "exit-handler")) == "spec.templates[0].exit-handler"
    assert format_path((0, "name")) == "[0].name"
    assert format_path(("a.b", "", "9lives")) == '["a.b"][""]["9lives"]'
    assert format_path(("on", True, None, 1.5)) == "on[true][null][1.5]"
    assert format_path(()) == ""


def test_closed_bracket_pairs_keep_a_long_file_on_libyaml():
    """`depends: [sN]` on every step closes itself: 5,000 of them are one level, not 5,000
    (the pure-Python composer took 5x as long on a 50,000-step chain)."""
    from flowport.translators.source.limits import _INLINE_DEPTH, _depth_bound

    chain = "steps:\n" + "".join(f"  - name: s{i}\n    depends: [s{i - 1}, x]\n" for i in range(5000))
    assert _depth_bound(chain) < _INLINE_DEPTH
    hidden = "a: [" + '"[x", ' * 5000 + "]\n"  # brackets inside quotes still count as levels
    assert _depth_bound(hidden) > 2 * 5000
