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
