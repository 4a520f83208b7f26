"""Argo YAML → IR: what is translated, and every problem reported with file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from flowport.lang.argo_tags import Unresolved, item_label, item_scope, sequence_items, substitute
from flowport.translators import check
from flowport.lang.durations import parse_duration
from testkit.workflows import write_argo


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip())
    return p


STEPS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: demo-
spec:
  entrypoint: main
  onExit: cleanup
  arguments:
    parameters: [{name: greeting, value: hi}]
  nodeSelector: {disk: ssd}
  templates:
  - name: main
    steps:
    - - name: first
        template: say
        arguments:
          parameters: [{name: msg, value: "{{workflow.parameters.greeting}}"}]
        hooks:
          exit: {template: cleanup}
          started: {template: cleanup, expression: steps.first.status == "Running"}
    - - name: loop
        template: say
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withItems: [a, {k: 1}]
        when: "{{steps.first.status}} == Succeeded"
        continueOn: {failed: true}
  - name: say
    inputs:
      parameters: [{name: msg, default: none}]
    retryStrategy: {limit: "2", retryPolicy: Always, backoff: {duration: 1s, factor: 2}}
    container:
      image: busybox
      command: [echo]
      args: ["{{inputs.parameters.msg}}"]
      resources: {limits: {cpu: 1}}
    outputs:
      parameters:
      - name: out
        valueFrom: {path: /tmp/out, default: x}
        globalName: g
  - name: cleanup
    script:
      image: python:3
      command: [python]
      source: print("bye")
"""


def test_steps_workflow_translates(tmp_path):
    r = check(write(tmp_path, "wf.yaml", STEPS))
    assert r.ok, r.error().render()
    wf = r.workflow
    spec = wf.argo
    assert wf.dialect == "argo" and wf.name == "demo" and spec.generate_name == "demo-"
    assert spec.entrypoint == "main" and spec.exit_hook.template == "cleanup"
    assert [(p.name, p.value) for p in spec.arguments] == [("greeting", "hi")]
    main = spec.templates["main"]
    assert main.kind == "steps" and [[c.name for c in g] for g in main.steps] == [["first"], ["loop"]]
    first = main.steps[0][0]
    assert first.exit_hook.template == "cleanup"
    assert [(h.name, h.expression) for h in first.hooks] == [("started", 'steps.first.status == "Running"')]
    loop = main.steps[1][0]
    assert loop.loop.items == ("a", {"k": 1}) and loop.continue_failed and loop.when
    say = spec.templates["say"]
    assert say.container.entrypoint == ("echo",) and say.container.cmd == ("{{inputs.parameters.msg}}",)
    assert say.retry.limit == "2" and say.retry.policy == "Always" and say.retry.backoff_duration == "1s"
    assert say.outputs[0].path == "/tmp/out" and say.outputs[0].global_name == "g"
    assert spec.templates["cleanup"].container.script == 'print("bye")'
    assert spec.templates["cleanup"].container.entrypoint == ("python",)
    # Kubernetes-only keys are accepted and listed for `plan`
    assert any("spec.nodeSelector" in n for n in wf.ignored)
    assert any("resources" in n for n in wf.ignored)


def test_dag_dependencies_become_depends(tmp_path):
    r = check(write(tmp_path, "dag.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: d}
        spec:
          entrypoint: g
          templates:
          - name: g
            dag:
              target: C
              failFast: false
              tasks:
              - {name: A, template: t}
              - {name: B, template: t, dependencies: [A]}
              - {name: C, template: t, depends: "A.Failed || B"}
          - name: t
            container: {image: busybox}
        """))
    assert r.ok, r.error().render()
    g = r.workflow.argo.templates["g"]
    assert [t.depends for t in g.tasks] == [None, "A", "A.Failed || B"]
    assert g.target == "C" and g.fail_fast is False
    assert r.workflow.name == "d" and r.workflow.argo.name == "d"


def problems(r):
    return [(p.mark.line if p.mark else None, p.mark.col if p.mark else None, p.message, p.hint, p.kind)
            for p in r.problems]


def test_every_problem_at_once_with_positions(tmp_path):
    r = check(write(tmp_path, "bad.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: bad-}
        spec:
          entrypoint: mian
          onExit: exit-handlerr
          templates:
          - name: main
            steps:
            - - name: a
                tempalte: x
            - - name: b
                template: nope
          - name: exit-handler
            container: {image: busybox, volumeDevices: []}
          - name: k8s
            resource: {action: create}
          - name: art
            container: {image: busybox}
            outputs: {artifacts: [{name: a, path: /a, git: {repo: x}}]}
          - name: d
            dag:
              tasks:
              - {name: A, template: art, depends: "B.Succeeded"}
              - {name: B, template: art, depends: "A"}
              - {name: C, template: art, depends: "A.Bogus"}
        """))
    assert not r.ok
    found = problems(r)
    messages = " | ".join(m for _, _, m, _, _ in found)
    # all at once, each with its position
    assert all(line is not None for line, *_ in found)
    assert ("entrypoint names no template: 'mian'" in messages)
    assert any(m == "no template named 'exit-handlerr'" and h == "did you mean 'exit-handler'?" and (line, col) == (6, 11)
               for line, col, m, h, _ in found)
    assert any(m == "unknown step key 'tempalte'" and h == "did you mean 'template'?" and (line, col) == (11, 9)
               for line, col, m, h, _ in found)
    assert any(m == "no template named 'nope'" for _, _, m, _, _ in found)
    assert any(k == "unsupported" and "volumeDevices" in m for _, _, m, _, k in found)
    assert any(k == "unsupported" and "'resource'" in m and line == 17 for line, _, m, _, k in found)
    assert any(k == "unsupported" and "'git'" in m for _, _, m, _, k in found)
    assert "unknown task result A.Bogus" in messages
    assert "cycle" in messages
    rendered = r.error().render()
    assert "bad.yaml:6:11: error: no template named 'exit-handlerr' (spec.onExit)" in rendered


def test_named_hook_needs_expression_and_valid_syntax(tmp_path):
    r = check(write(tmp_path, "h.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: h}
        spec:
          entrypoint: t
          hooks:
            running: {template: t}
            broken: {template: t, expression: "workflow.status =="}
          templates:
          - name: t
            container: {image: busybox}
        """))
    msgs = [m for _, _, m, _, _ in problems(r)]
    assert any("hooks.running needs an `expression`" in m for m in msgs)
    assert any(m.startswith("invalid expression") for m in msgs)


def test_hooks_on_a_template_are_ignored_like_argo(tmp_path):
    r = check(write(tmp_path, "t.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: t}
        spec:
          entrypoint: t
          templates:
          - name: t
            container: {image: busybox}
            hooks:
              exit: {template: t}
        """))
    assert r.ok
    assert any("Argo drops `hooks`" in n for n in r.ignored)


LIB = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  entrypoint: hello
  onExit: bye
  arguments: {parameters: [{name: who, value: world}]}
  templates:
  - name: hello
    inputs: {parameters: [{name: who}]}
    steps:
    - - {name: inner, template: echo}
  - name: echo
    container: {image: busybox, args: [echo, hi]}
  - name: bye
    container: {image: busybox}
"""


def test_workflow_template_refs_resolve_from_templates_dir(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "lib.yaml", LIB)
    wf = write(tmp_path, "use.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: use-}
        spec:
          workflowTemplateRef: {name: lib}
          arguments: {parameters: [{name: who, value: you}]}
        """)
    r = check(wf, templates=[lib])
    assert r.ok, r.error().render()
    spec = r.workflow.argo
    assert spec.entrypoint == "hello" and spec.exit_hook.template == "bye"
    assert [(p.name, p.value) for p in spec.arguments] == [("who", "you")]
    # templateRef: the template and what it calls come in under "<wt>/<name>"
    wf2 = write(tmp_path, "ref.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: ref-}
        spec:
          entrypoint: m
          templates:
          - name: m
            steps:
            - - name: call
                templateRef: {name: lib, template: hello}
                arguments: {parameters: [{name: who, value: x}]}
        """)
    r2 = check(wf2, templates=[lib / "lib.yaml"])
    assert r2.ok, r2.error().render()
    t = r2.workflow.argo.templates
    assert t["m"].steps[0][0].template == "lib/hello"
    assert t["lib/hello"].steps[0][0].template == "lib/echo" and "lib/echo" in t
    # without --templates: an error at the reference, with a hint
    r3 = check(wf2)
    assert not r3.ok
    p = r3.problems[0]
    assert "WorkflowTemplate 'lib' not found" in p.message and "--templates" in p.hint and p.mark.line == 10


def test_a_templates_file_edited_between_checks_is_read_again(tmp_path):
    """Templates files are parsed once a process (an audit checks every workflow against
    them), but an edited one is what the next check sees."""
    lib = write(tmp_path, "lib.yaml", LIB)
    wf = write_argo(tmp_path, "workflowTemplateRef: {name: lib}")
    assert check(wf, templates=[lib]).ok
    lib.write_text(LIB.replace("name: lib", "name: renamed"))
    again = check(wf, templates=[lib])
    assert not again.ok and "WorkflowTemplate 'lib' not found" in again.problems[0].message
    lib.write_text("kind: [")
    broken = check(wf, templates=[lib])
    assert [p.message for p in broken.problems] == ["WorkflowTemplate 'lib' not found"]
    assert broken.problems[0].mark.file == str(wf) and f"could not be read and may define it: {lib}:" in broken.problems[0].hint


BROKEN_LIB = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  labels: {name: not-this}
  name: only-broken
spec:
  templates:
  - name: main
    container: {image: busybox
"""


def test_an_unparsable_templates_file_fails_only_the_workflows_that_need_it(tmp_path):
    """As Argo: a WorkflowTemplate that does not parse is never created, so only a reference
    nothing else defines fails (`templateresolution/context.go`: "workflow template %s not
    found"); the broken file is its own error, not one of every workflow."""
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "good.yaml", LIB)
    write(lib, "broken.yaml", BROKEN_LIB)
    plain = write_argo(tmp_path, "entrypoint: m\ntemplates:\n- {name: m, container: {image: busybox}}", name="plain.yaml")
    good = write_argo(tmp_path, """
        entrypoint: m
        templates:
        - name: m
          steps:
          - - {name: call, templateRef: {name: lib, template: echo}}
        """, name="good-ref.yaml")
    assert check(plain, templates=[lib]).ok and check(good, templates=[lib]).ok
    for spec in ("workflowTemplateRef: {name: only-broken}",
                 "entrypoint: m\ntemplates:\n- {name: m, steps: [[{name: c, templateRef: {name: only-broken, template: main}}]]}"):
        r = check(write_argo(tmp_path, spec, name="needs-broken.yaml"), templates=[lib])
        p = next(p for p in r.problems if "not found" in p.message)
        assert "WorkflowTemplate 'only-broken' not found" in p.message and p.mark.file.endswith("needs-broken.yaml")
        assert f"{lib / 'broken.yaml'} names a WorkflowTemplate 'only-broken' but cannot be parsed ({lib / 'broken.yaml'}:10:1" in p.hint
        assert all(q.mark.file.endswith("needs-broken.yaml") for q in r.problems)
    # a name no file defines: the broken file is not blamed, its name was read
    r = check(write_argo(tmp_path, "workflowTemplateRef: {name: elsewhere}", name="other.yaml"), templates=[lib])
    assert "broken.yaml" not in r.problems[0].hint and "--templates" in r.problems[0].hint
    # the broken file checked on its own keeps its own errors
    own = check(lib / "broken.yaml")
    assert [(p.mark.line, p.mark.col) for p in own.problems] == [(10, 1)]


def test_metadata_names_are_read_from_a_text_that_does_not_parse():
    from flowport.translators.argo.refs import metadata_names

    text = ("metadata:\n  # c\n  labels:\n    name: nested\n  name: \"first\"\nspec: {\n---\n"
            "metadata: {generateName: g-, 'name': second}\n---\nmetadata:\n  generateName: x-\nspec: [\n")
    assert metadata_names(text) == ("first", "second")


def test_workflow_template_runs_like_submit_from(tmp_path):
    r = check(write(tmp_path, "wt.yaml", LIB))
    assert r.ok, r.error().render()
    assert r.workflow.argo.generate_name == "lib-" and r.workflow.argo.kind == "WorkflowTemplate"


def test_unsupported_kinds(tmp_path):
    r = check(write(tmp_path, "s.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowEventBinding
        metadata: {name: c}
        spec: {}
        """))
    assert not r.ok and r.problems[0].kind == "unsupported" and "WorkflowEventBinding" in r.problems[0].message


@pytest.mark.parametrize("text,seconds", [("10", 10), (10, 10), ("1m30s", 90), ("2h", 7200), ("500ms", 0.5), ("x", None)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_substitution_rules():
    scope = {"inputs.parameters.a": "1", "steps.x.outputs.result": "{{not.again}}", "workflow.name": "w"}
    assert substitute("{{inputs.parameters.a}}-{{ workflow.name }}", scope) == "1-w"
    assert substitute("{{steps.x.outputs.result}}", scope) == "{{not.again}}"  # one pass only
    assert substitute("{{workflow.unknown}}", scope) == "{{workflow.unknown}}"  # left verbatim
    with pytest.raises(Unresolved):
        substitute("{{steps.y.outputs.result}}", scope)  # steps./tasks./inputs. must resolve
    assert substitute("{{=asInt(inputs.parameters.a) + 1}}", scope) == "2"
    assert substitute("{{=workflow.name == 'w' ? 'yes' : 'no'}}", scope) == "yes"


def test_loop_items():
    assert item_label({"b": 2, "a": "x"}) == "a:x,b:2"
    assert item_scope({"num": 1})["item.num"] == "1"
    assert item_scope(3)["item"] == "3"
    assert sequence_items("3", None, None, None) == ["0", "1", "2"]
    assert sequence_items(None, "5", "3", None) == ["5", "4", "3"]
    assert sequence_items("2", "1", None, "user%02d") == ["user01", "user02"]


CRON = """
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly
spec:
  schedules: ["0 2 * * *", "30 14 * * 1"]
  timezone: Europe/Paris
  suspend: true
  concurrencyPolicy: Replace
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container: {image: busybox, command: [echo, hi]}
"""


def test_cron_workflow_runs_its_workflow_spec_and_keeps_the_schedule(tmp_path):
    from flowport.cli.deploy import workflow_schedules

    checked = check(write(tmp_path, "cron.yaml", CRON))
    assert checked.ok, [p.message for p in checked.problems]
    wf = checked.workflow
    assert wf.name == "nightly" and wf.argo.entrypoint == "main"
    crons = workflow_schedules(wf)
    assert [(c.cron, c.timezone, c.active) for c in crons] == [
        ("0 2 * * *", "Europe/Paris", False), ("30 14 * * 1", "Europe/Paris", False)]
    assert any("concurrencyPolicy" in i for i in checked.ignored)


def test_cron_workflow_problems_point_into_the_file_as_written(tmp_path):
    text = CRON.replace("container: {image: busybox, command: [echo, hi]}",
                        "container: {image: busybox, comand: [echo, hi]}").replace(
                        'schedules: ["0 2 * * *", "30 14 * * 1"]', "timezone2: x")
    checked = check(write(tmp_path, "cron.yaml", text))
    found = {(p.mark.line, p.message.split(" (")[0]) for p in checked.problems}
    assert (14, "unknown container key 'comand'") in found
    assert (6, "a CronWorkflow needs `schedule` or `schedules`") in found
    assert (6, "unknown CronWorkflow spec key 'timezone2'") in found
