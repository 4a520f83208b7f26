"""Dagu's variable language (src/flowport/lang/dagu_vars.py; jq paths: lang/paths.py).

Expected values come from Dagu's own tests where one exists (builder_test.go @v1.17.4,
internal/cmn/eval/*_test.go @v2.6.5, internal/cmn/value/*_test.go @v2.15).
"""

from __future__ import annotations


import pytest

from flowport.lang.dagu_vars import expand, match_expected, parse_params, resolve_params
from flowport.lang.paths import json_path

CONFIG = '{"host":"localhost","port":8080}'


def fake_shell(calls: list[str] | None = None):
    """Stands in for `sh -c`: understands `echo ARGS` and `/bin/echo ARGS`."""

    def run(cmd: str) -> str:
        if calls is not None:
            calls.append(cmd)
        prog, _, args = cmd.strip().partition(" ")
        assert prog in ("echo", "/bin/echo"), cmd
        return args.strip()

    return run


# --------------------------------------------------------------------------- module hygiene


# --------------------------------------------------------------------------- plain variables


@pytest.mark.parametrize(
    "text, want",
    [
        ("echo ${NAME}", "echo World"),
        ("echo $NAME", "echo World"),
        ("$NAME$NAME", "WorldWorld"),
        ("${NAME}_x", "World_x"),
        ("$NAME_x", "$NAME_x"),  # the name is NAME_x, undefined
        ("a-$NAME.txt", "a-World.txt"),  # not JSON: the plain phase still applies
        ("${FOO_BAR} ${FOO123}", "fb f123"),
        ("${}", "${}"),
        ("${FOO${BAR}}", "${FOO${BAR}}"),  # nested: not supported (Dagu)
    ],
)
def test_plain_variables(text, want):
    vars_ = {"NAME": "World", "FOO_BAR": "fb", "FOO123": "f123", "FOO": "1", "BAR": "2"}
    assert expand(text, vars_) == want


def test_undefined_variables_are_left_for_the_shell():
    assert expand("echo $HOME ${USER} $1", {}) == "echo $HOME ${USER} $1"
    assert expand("User ${USER} env $HOME", {"USER": "alice"}) == "User alice env $HOME"


def test_keep_unknown_false_blanks_undefined_plain_references():
    assert expand("a=$A b=${B} c=$1 d=$D", {"D": "d"}, keep_unknown=False) == "a= b= c= d=d"
    # quoted, dotted and POSIX forms are not plain references
    assert expand("'$A' ${A.b} ${A:-x}", {}, keep_unknown=False) == "'$A' ${A.b} ${A:-x}"


def test_positional_parameters():
    vars_ = {"1": "one", "2": "two", "10": "ten"}
    assert expand("$1 ${2} ${10}", vars_) == "one two ten"
    assert expand("$10", vars_) == "ten"  # Dagu reads $10 as the variable "10"
    assert expand("$1abc $1_x", vars_) == "$1abc $1_x"  # not a Dagu reference
    assert expand("$3", vars_) == "$3"


def test_empty_value_is_a_value():
    assert expand("[$E]", {"E": ""}) == "[]"


def test_posix_forms_and_command_substitution_are_left_for_the_shell():
    vars_ = {"X": "abcdef"}
    assert expand("${X:-d} ${X:0:3} ${#X} ${X%f}", vars_) == "${X:-d} ${X:0:3} ${#X} ${X%f}"
    assert expand("echo $(date +%s) $(echo $X)", vars_) == "echo $(date +%s) $(echo abcdef)"
    assert expand("echo $(date)", vars_, backtick=fake_shell()) == "echo $(date)"


def test_dollar_escapes_are_left_for_the_shell():
    vars_ = {"X": "v", "$": "no"}
    assert expand(r"echo \$X \${X}", vars_) == r"echo \$X \${X}"
    assert expand(r"echo \\$X", vars_) == r"echo \\v"  # the backslash is escaped, not the $
    assert expand("echo $$ $$X", vars_) == "echo $$ $$X"
    assert expand("echo $$$X", vars_) == "echo $$v"


def test_values_are_not_rescanned_by_the_plain_phase():
    assert expand("$A", {"A": "$B", "B": "b"}) == "$B"


def test_fast_path_returns_same_object():
    text = "plain text without references"
    assert expand(text, {"X": "1"}) is text
    tick = "has `backtick` but no callable"
    assert expand(tick, {}) is tick


# --------------------------------------------------------------------------- single quotes


@pytest.mark.parametrize(
    "text, want",
    [
        ("'$FOO'", "'$FOO'"),
        ("'${FOO}'", "'${FOO}'"),
        ("'${FOO}' stays", "'${FOO}' stays"),
        ("echo '$1'", "echo '$1'"),
        ("awk '{print $1}' $FOO", "awk '{print $1}' bar"),
        ("echo 'hello $FOO world'", "echo 'hello $FOO world'"),
        ("${FOO}'", "bar'"),  # unterminated quote protects nothing
        ("$FOO'", "bar'"),
        ("echo \"it's $FOO\"", "echo \"it's bar\""),  # ' inside double quotes is literal
        ("echo \"it's\" $FOO 'x'", "echo \"it's\" bar 'x'"),
        (r"echo \'$FOO\'", r"echo \'bar\'"),  # escaped quotes are not quotes
        ("echo 'a'$FOO'b'", "echo 'a'bar'b'"),
    ],
)
def test_single_quotes_protect_plain_variables(text, want):
    assert expand(text, {"FOO": "bar", "1": "one"}) == want


def test_ansi_c_quotes_do_not_protect():
    # Dagu (TestString_CommandLikeStringWithSingleQuoteAfterVar)
    vars_ = {"MY_VALUE": "hello", "BUCKET_PREFIX": "gs://", "PROJECT_BUCKET": "my-bucket"}
    assert expand("""nu -c "print $'got: ${MY_VALUE}'\"""", vars_) == """nu -c "print $'got: hello'\""""
    assert expand("print $'got: $MY_VALUE'", vars_) == "print $'got: hello'"
    assert expand("print $'b: ${BUCKET_PREFIX}${PROJECT_BUCKET}'", vars_) == "print $'b: gs://my-bucket'"
    assert expand("print $'got: ${MISSING}'", vars_) == "print $'got: ${MISSING}'"


def test_json_paths_are_replaced_inside_single_quotes():
    assert expand("echo '${CONFIG.host}'", {"CONFIG": CONFIG}) == "echo 'localhost'"


# --------------------------------------------------------------------------- JSON paths / dotted


def test_json_path_reference_example():
    assert expand("${CONFIG.host}:${CONFIG.port}", {"CONFIG": CONFIG}) == "localhost:8080"
    assert expand("Starting server at ${CONFIG.host}:${CONFIG.port}", {"CONFIG": CONFIG}) == (
        "Starting server at localhost:8080"
    )


def test_unbraced_json_path():
    assert expand("host: $CONFIG.host", {"CONFIG": CONFIG}) == "host: localhost"
    vars_ = {"FOO": '{"one": "1", "two": "2", "three": "3"}'}
    assert expand("Multi: ${FOO.one}, $FOO.two , and ${FOO.three}", vars_) == "Multi: 1, 2 , and 3"


def test_unbraced_json_path_runs_to_whitespace():
    # Dagu's regex takes ".host:$CONFIG.port" as the path, which is no jq path; the plain phase
    # then replaces $CONFIG with the whole document.
    assert expand("$CONFIG.host:$CONFIG.port", {"CONFIG": '{"host":"h"}'}) == (
        '{"host":"h"}.host:{"host":"h"}.port'
    )


def test_json_path_nested_arrays_and_types():
    data = {
        "DATA": '{"items": [{"name": "first"}, {"name": "second"}], "ok": true, "n": null,'
        ' "obj": {"b": 2, "a": [1, 2.5, "x"]}, "msg": "Hello \\"World\\" with \'quotes\'"}'
    }
    assert expand("${DATA.items[1].name}", data) == "second"
    assert expand("${DATA.items.[1].name}", data) == "second"  # gojq form used in Dagu's tests
    assert expand("${DATA.items[-1].name}", data) == "second"
    assert expand("${DATA.ok}", data) == "true"
    assert expand("${DATA.n}", data) == "<nil>"
    assert expand("${DATA.obj}", data) == '{"a":[1,2.5,"x"],"b":2}'
    assert expand("${DATA.items}", data) == '[{"name":"first"},{"name":"second"}]'
    assert expand("${DATA.msg}", data) == "Hello \"World\" with 'quotes'"
    assert expand("${USERS.[0].email}", {"USERS": '[{"email": "a@x"}]'}) == "a@x"


def test_json_path_unresolvable_is_left_as_written():
    vars_ = {"FOO": '{"bar":"NotAnObject"}', "TEXT": "not json", "CONFIG": CONFIG}
    assert expand("Data => ${FOO.bar.baz}", vars_) == "Data => ${FOO.bar.baz}"  # type error
    assert expand("${TEXT.a}", vars_) == "${TEXT.a}"
    assert expand("${UNDEFINED.a}", vars_) == "${UNDEFINED.a}"
    assert expand("${CONFIG.host-name}", vars_) == "${CONFIG.host-name}"  # not a jq path


def test_json_path_missing_key_is_nil_like_dagu():
    # Dagu/gojq: a missing key is null, printed "<nil>" (pipeline_test.go QuotedNonExistentJSONPath)
    assert expand("${CONFIG.missing}", {"CONFIG": CONFIG}) == "<nil>"
    assert expand("${CONFIG.missing.deeper}", {"CONFIG": CONFIG}) == "<nil>"


def test_dotted_names_from_variables_come_first():
    vars_ = {
        "build.exitCode": "0",
        "build.stdout": "/logs/build.out",
        "build": '{"exitCode": 9}',
    }
    assert expand("rc=${build.exitCode} log=${build.stdout}", vars_) == "rc=0 log=/logs/build.out"
    assert expand("rc=$build.exitCode", vars_) == "rc=0"
    assert expand("${other.stdout}", vars_) == "${other.stdout}"


def test_sub_dag_output_reference():
    vars_ = {"OUT1": '{"name":"child","outputs":{"OUT":"hello"}}'}
    assert expand("echo ${OUT1.outputs.OUT}", vars_) == "echo hello"


def test_json_values_are_rescanned_by_the_plain_phase():
    # Dagu replaces JSON references first and then scans the whole text for $VAR.
    assert expand("${J.cmd}", {"J": '{"cmd":"echo $X"}', "X": "x"}) == "echo x"


# --------------------------------------------------------------------------- json_path helper


@pytest.mark.parametrize(
    "value, path, want",
    [
        (CONFIG, ".host", "localhost"),
        (CONFIG, "host", "localhost"),  # leading dot added
        (CONFIG, ".port", "8080"),
        ('{"a":{"b":[10,{"c":"deep"}]}}', ".a.b[1].c", "deep"),
        ('{"a":{"b":[10,{"c":"deep"}]}}', ".a.b[0]", "10"),
        ('{"a":{"b":[10,{"c":"deep"}]}}', ".a.b[5]", "<nil>"),
        ('{"a b":1}', '."a b"', "1"),
        ('{"a b":1}', '.["a b"]', "1"),
        ("[1,2,3]", "[2]", "3"),
        ("[1,2,3]", ".[-1]", "3"),
        ('{"x":1.5}', ".x", "1.5"),
        ('{"x":1234567}', ".x", "1.234567e+06"),  # Go's %v of a float64
        ('{"x":123456}', ".x", "123456"),
        ('{"x":0.00001}', ".x", "1e-05"),
        ('{"x":-2}', ".x", "-2"),
        ('{"x":false}', ".x", "false"),
        ('{"x":{"z":1,"a":"<&>"}}', ".x", '{"a":"\\u003c\\u0026\\u003e","z":1}'),
        ('{"x":[1e21, 0.0000001, 100]}', ".x", "[1e+21,1e-7,100]"),
        ('{"x":"s"}', ".", '{"x":"s"}'),
        ("null", ".a", "<nil>"),
        ('"text"', ".a", None),
        ("not json", ".a", None),
        ('{"a":1}', ".a.b", None),
        ('{"a":[1]}', ".a.x", None),
        ('{"a":{"b":1}}', ".a[0]", None),
        ('{"a":1}', ".a | .b", None),  # unsupported jq
        ('{"a":1}', ".[invalid", None),
        ("NaN", ".a", None),
    ],
)
def test_json_path(value, path, want):
    assert json_path(value, path) == want


# --------------------------------------------------------------------------- quoted references


def test_quoted_reference_is_go_quoted():
    vars_ = {"MSG": 'say "hi"', "ML": "a\nb", "PLAIN": "x y", "J": '{"k":"v\\"w"}'}
    assert expand('{"val": "${MSG}"}', vars_) == '{"val": "say \\"hi\\""}'
    assert expand('echo "${ML}"', vars_) == 'echo "a\\nb"'
    assert expand('echo "${PLAIN}"', vars_) == 'echo "x y"'
    assert expand('{"k": "${J.k}"}', vars_) == '{"k": "v\\"w"}'
    assert expand('{"val": "${MISSING}"}', vars_) == '{"val": "${MISSING}"}'
    assert expand('{"val": "${MISSING.path}"}', vars_) == '{"val": "${MISSING.path}"}'
    # only when the quotes hold exactly one braced reference
    assert expand('echo "${MSG} now"', vars_) == 'echo "say "hi" now"'
    assert expand('echo "$MSG"', vars_) == 'echo "say "hi""'


# --------------------------------------------------------------------------- namespaces (V3)


NS = {
    "params": {"x": "px", "region": "eu"},
    "env": {"HOME": "/home/u"},
    "context": {"run.status": "succeeded", "run.id": "r-1"},
    "steps": {"build.outputs.image": "img:1"},
}


def test_namespaces():
    text = "${params.x} ${env.HOME} ${context.run.status} ${context.run.id} ${steps.build.outputs.image}"
    assert expand(text, {}, namespaces=NS) == "px /home/u succeeded r-1 img:1"
    assert expand("${ params.region }", {}, namespaces=NS) == "eu"


def test_namespaces_are_replaced_inside_single_quotes():
    assert expand("echo '${params.x}' '$X'", {"X": "v"}, namespaces=NS) == "echo 'px' '$X'"


def test_unknown_namespace_key_stays_literal_and_untouched():
    # a missing key is kept verbatim, even when a JSON variable of that name exists
    vars_ = {"params": '{"nope": "from-json"}'}
    assert expand("${params.nope} ${context.run.nope}", vars_, namespaces=NS) == (
        "${params.nope} ${context.run.nope}"
    )
    assert expand(r"\${params.x}", {}, namespaces=NS) == r"\${params.x}"


def test_namespace_absent_from_mapping_is_an_ordinary_reference():
    assert expand("${other.x}", {}, namespaces=NS) == "${other.x}"
    assert expand("${other.x}", {"other": '{"x": 1}'}, namespaces=NS) == "1"
    assert expand("${params.x}", {}) == "${params.x}"  # no namespaces given
    assert expand("${params}", {"params": "P"}, namespaces=NS) == "P"
    assert expand("${params}", {}, namespaces={"params": {"": '{"x":1}'}}) == '{"x":1}'


def test_namespace_values_feed_later_phases():
    ns = {"params": {"cmd": "echo `echo hi` $X"}}
    assert expand("${params.cmd}", {"X": "x"}, namespaces=ns, backtick=fake_shell()) == "echo hi x"


# --------------------------------------------------------------------------- backticks


def test_backticks_run_after_variable_replacement():
    calls: list[str] = []
    out = expand("v=`echo $X` w=`/bin/echo ${Y}`", {"X": "a", "Y": "b c"}, backtick=fake_shell(calls))
    assert out == "v=a w=b c"
    assert calls == ["echo a", "/bin/echo b c"]


def test_backticks_untouched_without_callable():
    assert expand("v=`echo $X`", {"X": "a"}) == "v=`echo a`"


def test_backtick_edge_cases():
    shell = fake_shell()
    assert expand("a `` b", {}, backtick=shell) == "a `` b"
    assert expand(r"a \`echo x\` b", {}, backtick=shell) == r"a \`echo x\` b"
    assert expand("a `echo unclosed", {}, backtick=shell) == "a `echo unclosed"
    assert expand("'`echo q`'", {}, backtick=shell) == "'q'"  # Dagu ignores quotes here


def test_backtick_errors_propagate():
    def boom(cmd: str) -> str:
        raise RuntimeError(cmd)

    with pytest.raises(RuntimeError):
        expand("`false`", {}, backtick=boom)


# --------------------------------------------------------------------------- parse_params


@pytest.mark.parametrize(
    "text, want",
    [
        ("", []),
        ("a b c", [(None, "a"), (None, "b"), (None, "c")]),
        ("KEY=value", [("KEY", "value")]),
        ('Z="A B C"', [("Z", "A B C")]),
        ('"foo bar" baz', [(None, "foo bar"), (None, "baz")]),
        ('Q="say \\"hi\\""', [("Q", 'say "hi"')]),
        ('N="a\\nb"', [("N", "a\nb")]),  # Go escapes decoded (strconv.Unquote)
        ('R="C:\\d"', [("R", "C:\\d")]),  # invalid escape: Dagu's fallback keeps it
        ("P3=`/bin/echo BAR`", [("P3", "`/bin/echo BAR`")]),
        ("`echo a b` x", [(None, "`echo a b`"), (None, "x")]),
        ("S='A B C'", [("S", "'A B C'")]),  # grouped, quotes kept
        ("S='abc'", [("S", "'abc'")]),  # exactly Dagu
        ("U=a=b", [("U", "a=b")]),
        ("E=", [(None, "E=")]),  # Dagu: no value, so the whole token is positional
        ('E=""', [("E", "")]),
        ("  a\t K=v  ", [(None, "a"), ("K", "v")]),
        ("--flag=x", [("--flag", "x")]),
        ("X=${A} Y=$1", [("X", "${A}"), ("Y", "$1")]),
    ],
)
def test_parse_params(text, want):
    assert parse_params(text) == want


def test_parse_params_complex_example():
    text = 'first P1=foo P2=${A001} P3=`/bin/echo BAR` X=bar Y=${P1} Z="A B C"'
    assert parse_params(text) == [
        (None, "first"),
        ("P1", "foo"),
        ("P2", "${A001}"),
        ("P3", "`/bin/echo BAR`"),
        ("X", "bar"),
        ("Y", "${P1}"),
        ("Z", "A B C"),
    ]


def test_parse_params_json_forms():
    assert parse_params('{"NAME": "Dagu", "AGE": 30, "ON": true}') == [
        ("AGE", "30"),
        ("NAME", "Dagu"),
        ("ON", "true"),
    ]
    assert parse_params('["a", 2, {"K": "v"}]') == [(None, "a"), (None, "2"), ("K", "v")]
    assert parse_params("{not json}") == [(None, "{not"), (None, "json}")]


# --------------------------------------------------------------------------- resolve_params


def test_resolve_params_dagu_complex_values():
    # TestBuild/ParamsWithComplexValues (builder_test.go @v1.17.4)
    tokens = parse_params('first P1=foo P2=${A001} P3=`/bin/echo BAR` X=bar Y=${P1} Z="A B C"')
    got = resolve_params(tokens, env={"A001": "TEXT"}, backtick=fake_shell())
    assert got == [
        ("1", "first"),
        ("P1", "foo"),
        ("P2", "TEXT"),
        ("P3", "BAR"),
        ("X", "bar"),
        ("Y", "foo"),
        ("Z", "A B C"),
    ]


def test_resolve_params_positional_reference():
    assert resolve_params(parse_params("TEST_PARAM $1"), env={}) == [("1", "TEST_PARAM"), ("2", "TEST_PARAM")]


def test_resolve_params_positional_numbering_counts_all_tokens():
    got = resolve_params(parse_params("a K=v b"), env={})
    assert got == [("1", "a"), ("K", "v"), ("3", "b")]


def test_resolve_params_named_token_is_dollar_n_while_evaluating():
    got = resolve_params(parse_params("K=v X=$1"), env={})
    assert got == [("K", "v"), ("X", "K=v")]


def test_resolve_params_without_backtick_keeps_backticks():
    assert resolve_params(parse_params("P=`echo x`"), env={}) == [("P", "`echo x`")]


def test_resolve_params_env_and_undefined():
    got = resolve_params(parse_params("A=${HOME}/x B=${NOPE} C='$HOME'"), env={"HOME": "/h"})
    assert got == [("A", "/h/x"), ("B", "${NOPE}"), ("C", "'$HOME'")]


def test_resolve_params_named_override():
    tokens = parse_params("P1=foo Y=${P1}")
    got = resolve_params(tokens, overrides=[("P1", "bar")], env={})
    assert got == [("P1", "bar"), ("Y", "bar")]  # later params see the override


def test_resolve_params_override_values_are_literal():
    got = resolve_params(parse_params("P=x"), overrides=[("P", "${HOME}`echo x`")], env={"HOME": "/h"},
                         backtick=fake_shell())
    assert got == [("P", "${HOME}`echo x`")]


def test_resolve_params_new_named_override_is_appended():
    got = resolve_params(parse_params("A=1"), overrides=[("B", "2")], env={})
    assert got == [("A", "1"), ("B", "2")]


def test_resolve_params_positional_overrides():
    tokens = parse_params("one two")
    got = resolve_params(tokens, overrides=[(None, "uno"), (None, "dos"), (None, "tres")], env={})
    assert got == [("1", "uno"), ("2", "dos"), ("3", "tres")]
    got = resolve_params(parse_params("one two"), overrides=[("2", "zwei")], env={})
    assert got == [("1", "one"), ("2", "zwei")]
    # k-th positional override replaces the k-th token, keeping its name (Dagu v2)
    got = resolve_params(parse_params("K=v two"), overrides=[(None, "x")], env={})
    assert got == [("K", "x"), ("2", "two")]


def test_resolve_params_overrides_without_declared_params():
    got = resolve_params([], overrides=[(None, "a"), ("K", "v"), (None, "b")], env={})
    assert got == [("1", "a"), ("K", "v"), ("3", "b")]


def test_resolve_params_accepts_empty_string_key_as_positional():
    got = resolve_params(parse_params("one"), overrides=[("", "uno")], env={})
    assert got == [("1", "uno")]


# --------------------------------------------------------------------------- match_expected


@pytest.mark.parametrize(
    "actual, expected, want",
    [
        ("foo", "foo", True),
        ("foo", "fo", False),
        ("foo\n", "foo", True),
        ("foo\r\n", "foo", True),
        ("a\nfoo\nb", "foo", True),  # Dagu matches line by line
        ("a\nb", "a\nb", False),
        ("", "", True),
        ("", "x", False),
        ("3", "re:[1-5]", True),
        ("6", "re:[1-5]", False),
        ("day 3", "re:[1-5]", True),  # unanchored
        ("day 3", "re:^[1-5]$", False),
        ("x\n3", "re:^[1-5]$", True),
        ("", "re:^$", True),
        ("abc", "re:(", False),  # invalid regex never matches
        ("re:x", "re:^x$", False),  # the prefix is not part of the pattern
        ("re:x", "re:re:x", True),
    ],
)
def test_match_expected(actual, expected, want):
    assert match_expected(actual, expected) is want


def test_step_property_slices_and_output_paths():
    props = {"build.stdout": "/logs/build.out", "build.output": '{"a": {"b": "deep"}}', "build.exitCode": "0"}
    assert expand("${build.stdout:0:5}|${build.stdout:7}|${build.exitCode:0:1}", props) == "/logs|uild.out|0"
    assert expand("${build.output.a.b}", props) == "deep"
    # malformed slices stay as written (Dagu logs and leaves them)
    assert expand("${build.stdout:x} ${build.stdout:} ${build.stdout:1:2:3}", props) == (
        "${build.stdout:x} ${build.stdout:} ${build.stdout:1:2:3}")
