"""Issue 10 item 7 (Argo): files Argo accepts are accepted, and run as Argo runs them."""

from __future__ import annotations

import textwrap

from flowport.translators import check

from test_argo_semantics import run


def write(tmp_path, text: str):
    p = tmp_path / "wf.yaml"
    p.write_text(textwrap.dedent(text).lstrip())
    return p


def test_template_defaults_keep_only_the_body_of_the_templates_own_type(tmp_path):
    r = check(write(tmp_path, """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: d}
        spec:
          entrypoint: s
          templateDefaults:
            timeout: 30s
            container: {image: busybox, env: [{name: A, value: "1"}, {name: B, value: "2"}]}
            script: {image: alpine, env: [{name: A, value: "s"}]}
          templates:
          - name: s
            script: {image: python:3, command: [python], source: print(1), env: [{name: C, value: "3"}]}
          - name: c
            container: {command: [echo], env: [{name: B, value: "two"}]}
          - name: st
            steps: [[{name: a, template: c}]]
        """))
    assert r.ok, r.error().render()
    t = r.workflow.argo.templates
    assert t["s"].kind == "script" and t["s"].container.image == "python:3"
    assert dict(t["s"].container.env) == {"A": "s", "C": "3"}
    assert t["c"].container.image == "busybox" and t["c"].container.entrypoint == ("echo",)
    assert dict(t["c"].container.env) == {"A": "1", "B": "two"}
    assert t["st"].kind == "steps" and t["s"].timeout == "30s" and t["st"].timeout == "30s"


def test_step_and_task_exit_hooks_with_an_expression_run_only_when_it_is_true(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: a
              template: ok
              hooks: {exit: {template: ok, expression: 'steps.a.status == "Failed"'}}
            - name: b
              template: fail
              continueOn: {failed: true}
              hooks: {exit: {template: ok, expression: 'steps.b.status == "Failed"'}}
          - - {name: d, template: dag}
        - name: dag
          dag:
            tasks:
            - {name: t, template: ok, hooks: {exit: {template: ok, expression: 'tasks.t.outputs.result == "fine"'}}}
            - {name: u, template: ok, hooks: {exit: {template: ok, expression: "false"}}}
        """)
    names = {n.display_name for n in ex.records()}
    assert "b.onExit" in names and "t.onExit" in names
    assert "a.onExit" not in names and "u.onExit" not in names


def test_skipped_or_omitted_producers_hand_their_output_defaults_to_consumers(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: p, template: prod, when: "a == b"}
          - - {name: c, template: echo, arguments: {parameters: [{name: m, value: "{{steps.p.outputs.parameters.o}}"}]}}
          - - {name: d, template: dag}
          outputs:
            parameters:
            - {name: agg, valueFrom: {parameter: "{{steps.p.outputs.parameters.o}}"}}
        - name: dag
          dag:
            tasks:
            - {name: f, template: fail}
            - {name: q, template: prod, depends: f.Succeeded}
            - {name: r, template: echo, depends: q.Omitted || q.Succeeded,
               arguments: {parameters: [{name: m, value: "{{tasks.q.outputs.parameters.o}}"}]}}
        - name: prod
          container: {image: x, args: ["0", "made"]}
          outputs:
            parameters:
            - {name: o, valueFrom: {path: /tmp/o, default: from-default}}
        """)
    out = {n.display_name: n for n in ex.records()}
    assert out["c"].outputs["result"] == "from-default"
    assert out["r"].outputs["result"] == "from-default"
    assert out["w"].outputs["parameters"]["agg"] == "from-default"


def test_jsonpath_filters_like_argos_jsonpath_library():
    from flowport.lang.exprlang import compile_expr
    from flowport.lang.paths import jsonpath_lookup as jp

    data = {"items": [{"name": "x", "age": 3}, {"name": "y", "age": 40}, {"name": "z"}], "min": 10}
    assert jp(data, '$.items[?(@.name=="x")].age') == [3]
    assert jp(data, "$.items[?(@.name != 'x')].name") == ["y", "z"]
    assert jp(data, "$.items[?(@.age >= 3 && @.age < 40)].name") == ["x"]
    assert jp(data, "$.items[?(@.age <= 3 || @.age > $.min)].name") == ["x", "y"]
    assert jp(data, "$.items[?(@.age)].name") == ["x", "y"]  # existence
    assert jp(data, '$.items[?(!(@.name == "x"))][0].name') == "y"
    assert jp(data, "$.items[?(@.age < 1)]") == []
    env = {"j": '{"items":[{"name":"x","age":3},{"name":"y","age":40}]}'}
    assert compile_expr("jsonpath(j, '$.items[?(@.name==\"y\")].age')[0]").evaluate(env) == 40


def test_sprig_functions_with_gos_output_formats():
    from flowport.lang.exprlang import compile_expr

    def ev(text, env=None):
        return compile_expr(text).evaluate(env or {})

    assert ev('sprig.sha256sum("abc")') == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert ev('sprig.sha1sum("abc")') == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert ev('sprig.adler32sum("abc")') == "38600999"
    assert ev('sprig.b64dec(sprig.b64enc("hi"))') == "hi" and ev('sprig.b32enc("hi")') == "NBUQ===="
    assert ev('sprig.date("2006-01-02T15:04:05Z07:00", 86400)') == "1970-01-02T00:00:00Z"
    assert ev('sprig.dateInZone("Mon Jan _2 3:04PM MST 2006", 0, "UTC")') == "Thu Jan  1 12:00AM UTC 1970"
    assert ev('sprig.htmlDate(0)') == "1970-01-01"
    t = 'sprig.toDate("2006-01-02 15:04", "2024-03-05 14:07")'
    assert ev(f"sprig.unixEpoch({t})") == "1709647620"
    assert ev(f'sprig.date("Jan 2, 2006 at 3:04pm (MST)", sprig.dateModify("-1h30m", {t}))') == \
        "Mar 5, 2024 at 12:37pm (UTC)"
    assert ev('toJson(sprig.toDate("2006-01-02", "2024-03-05"))') == '"2024-03-05T00:00:00Z"'
    assert ev('sprig.duration("3725")') == "1h2m5s" and ev("sprig.duration(95)") == "0s"  # a Go int is not int64
    assert ev('sprig.durationRound("49h")') == "2d" and ev("sprig.ago(sprig.now())") == "0s"
    assert ev('sprig.snakecase("HelloWorld")') == "hello_world" and ev('sprig.camelcase("a_b")') == "AB"
    assert ev('sprig.trunc(3, "hello")') == "hel" and ev('sprig.abbrev(5, "hello world")') == "he..."
    assert ev("sprig.seq(3)") == "1 2 3" and ev("sprig.until(3)") == [0, 1, 2]
    assert ev("sprig.round(3.14159, 2)") == 3.14 and ev("sprig.floor(1.5)") == 1.0
    assert ev('sprig.dig("a", "b", "none", {"a": {"b": 1}})') == 1
    assert ev('sprig.hasKey({"a": 1}, "a") && sprig.semverCompare("^1.2", "1.4.0")')
    assert ev('sprig.join(",", sprig.uniq([1, 1, 2]))') == "1,2"


def test_an_unknown_function_is_a_validate_error_at_its_name(tmp_path):
    r = check(write(tmp_path, """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: f}
        spec:
          entrypoint: t
          templates:
          - name: t
            container:
              image: busybox
              args: ["{{= sprig.sha256sum('a') }}", "x {{=sprig.upperr(inputs.parameters.x)}}"]
            retryStrategy: {limit: 1, expression: "sprig.bcrypt(lastRetry.exitCode) == 1"}
            outputs:
              parameters: [{name: o, valueFrom: {expression: "nosuch(1)"}}]
        """))
    found = sorted((p.mark.line, p.mark.col, p.message) for p in r.problems)
    assert found == [
        (10, 51, "invalid expression: unknown function sprig.upperr"),
        (11, 44, "invalid expression: function sprig.bcrypt is not supported yet"),
        (13, 55, "invalid expression: unknown function nosuch"),
    ]
