"""The Argo executor's rules without Docker or Prefect: a fake leaf runs `args` as
`[exit-code, stdout]` (after substitution), so control flow, phases, hooks and variables
can be checked in milliseconds."""

from __future__ import annotations

import textwrap

from flowport.adapter.argo.executor import ERROR, FAILED, RUNNING, SUCCEEDED, Executor, now
from flowport.adapter.argo.leaf import resolve_container
from flowport.translators import check


def fake_leaf(ex, node, tmpl, scope, exit_ctx, on_running):
    node.phase, node.started_at = RUNNING, now()
    if on_running:
        on_running()
    why = ex.blocked(exit_ctx)
    if why:
        node.finish(FAILED, why)
        return
    c = resolve_container(tmpl.container, scope)
    code, out = int(c.cmd[0]), (c.cmd[1] if len(c.cmd) > 1 else "")
    node.exit_code = code
    node.outputs = {"result": out, "exitCode": str(code)}
    params = {op.name: out for op in tmpl.outputs}
    if params:
        node.outputs["parameters"] = params
    node.finish(SUCCEEDED if code == 0 else FAILED, None if code == 0 else f"Error (exit code {code})")


def run(tmp_path, spec: str, params=None) -> Executor:
    text = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec:\n" + \
        textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ") + """
  - name: ok
    container: {image: x, args: ["0", "fine"]}
  - name: fail
    container: {image: x, args: ["2", "bad"]}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: x, args: ["0", "{{inputs.parameters.m}}"]}
"""
    p = tmp_path / "w.yaml"
    p.write_text(text)
    r = check(p)
    assert r.ok, r.error().render()
    ex = Executor(r.workflow.argo, workflow_name="w", uid="u", params=params or {}, run_leaf=fake_leaf)
    ex.run_workflow()
    return ex


def phases(ex: Executor) -> dict[str, str]:
    out = {}
    for n in ex.records():
        out.setdefault(n.display_name, n.phase)
    return out


def test_exit_handler_table(tmp_path):
    ex = run(tmp_path, """
        entrypoint: ok
        onExit: fail
        templates:
        """)
    assert (ex.status, phases(ex)["onExit"]) == (FAILED, FAILED)
    ex = run(tmp_path, """
        entrypoint: fail
        onExit: ok
        templates:
        """)
    assert ex.status == FAILED and ex.message == "Error (exit code 2)" and phases(ex)["onExit"] == SUCCEEDED


def test_exit_handler_gets_workflow_status_and_failures(tmp_path):
    ex = run(tmp_path, """
        entrypoint: fail
        onExit: report
        templates:
        - name: report
          container: {image: x, args: ["0", "{{workflow.status}} {{workflow.failures}}"]}
        """)
    out = next(n for n in ex.records() if n.display_name == "onExit").outputs["result"]
    assert out.startswith('Failed "[{\\"displayName\\":\\"w\\",\\"message\\":\\"Error (exit code 2)\\"')


def test_steps_group_failure_and_continue_on(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: fail, continueOn: {failed: true}}
            - {name: b, template: ok}
          - - {name: c, template: echo, arguments: {parameters: [{name: m, value: "{{steps.a.exitCode}}/{{steps.b.outputs.result}}"}]}}
          - - {name: d, template: fail}
          - - {name: e, template: ok}
        """)
    p = phases(ex)
    assert p["a"] == FAILED and p["c"] == SUCCEEDED and p["d"] == FAILED and "e" not in p
    assert next(n for n in ex.records() if n.display_name == "c").outputs["result"] == "2/fine"
    assert ex.status == FAILED and ex.message.startswith("child 'w[2].d' failed")


def test_dag_phase_from_targets_only(tmp_path):
    ex = run(tmp_path, """
        entrypoint: d
        templates:
        - name: d
          dag:
            tasks:
            - {name: A, template: fail}
            - {name: B, template: ok, depends: "A.Failed"}
            - {name: C, template: ok, depends: "A"}
            - {name: D, template: ok, depends: "B || C"}
        """)
    p = phases(ex)
    assert p["B"] == SUCCEEDED and p["C"] == "Omitted" and p["D"] == SUCCEEDED
    assert ex.status == SUCCEEDED  # A's failure is handled by depends; leaf D succeeded


def test_omitted_leaf_inherits_branch_failure_and_target(tmp_path):
    ex = run(tmp_path, """
        entrypoint: d
        templates:
        - name: d
          dag:
            tasks:
            - {name: A, template: fail}
            - {name: B, template: ok, dependencies: [A]}
            - {name: X, template: ok}
        """)
    assert phases(ex)["B"] == "Omitted" and ex.status == FAILED
    ex = run(tmp_path, """
        entrypoint: d
        arguments: {parameters: [{name: t, value: X}]}
        templates:
        - name: d
          dag:
            target: "{{workflow.parameters.t}}"
            tasks:
            - {name: A, template: fail}
            - {name: X, template: ok}
        """)
    assert "A" not in phases(ex) and ex.status == SUCCEEDED


def test_when_invalid_errors_the_node(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: ok, when: "my-value == my-value"}
        """)
    assert phases(ex)["a"] == ERROR and ex.status == FAILED  # a steps template fails


def test_retry_policy_limit_and_expression(tmp_path):
    ex = run(tmp_path, """
        entrypoint: r
        templates:
        - name: r
          retryStrategy: {limit: 3, expression: 'asInt(lastRetry.exitCode) < 2'}
          container: {image: x, args: ["2"]}
        """)
    root = ex.nodes["w"]
    assert root.node_type == "Retry" and root.message == "retryStrategy.expression evaluated to false"
    assert [n.display_name for n in ex.records()] == ["w", "w(0)"]
    ex = run(tmp_path, """
        entrypoint: r
        templates:
        - name: r
          retryStrategy: {limit: 2}
          container: {image: x, args: ["{{=asInt(retries) < 2 ? '1' : '0'}}"]}
        """)
    assert ex.status == SUCCEEDED and [n.display_name for n in ex.records()] == ["w", "w(0)", "w(1)", "w(2)"]


def test_missing_input_is_an_error_and_params_override(tmp_path):
    ex = run(tmp_path, """
        entrypoint: echo
        templates:
        """)
    assert ex.status == ERROR and "inputs.parameters.m was not supplied" in ex.message
    ex = run(tmp_path, """
        entrypoint: echo
        arguments: {parameters: [{name: m, value: a}]}
        templates:
        """, params={"m": "b"})
    assert ex.nodes["w"].outputs["result"] == "b"


def test_skipped_producer_output_is_dropped_for_a_defaulted_input(tmp_path):
    ex = run(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: p, template: ok, when: "a == b"}
          - - {name: c, template: dflt, arguments: {parameters: [{name: m, value: "{{steps.p.outputs.result}}"}]}}
        - name: dflt
          inputs: {parameters: [{name: m, default: fallback}]}
          container: {image: x, args: ["0", "{{inputs.parameters.m}}"]}
        """)
    assert next(n for n in ex.records() if n.display_name == "c").outputs["result"] == "fallback"
