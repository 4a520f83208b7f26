"""Dagu V3 `action:` + `with:` steps and the `exec: {command, args}` form."""

from __future__ import annotations

from testkit.reports import read

from flowport.model import Container, Mail
from flowport.translators import check


def test_exec_and_noop_actions_run(run_dag, tmp_path):
    report = run_dag("""
        steps:
          - id: greet
            action: exec
            with:
              command: printf
              args: ["%s-%s-%s", hello, 3, true]
            output: GREETING
          - id: nothing
            action: noop
          - id: direct
            exec: {command: sh, args: [-c, "echo $GREETING > greeting.txt"]}
    """)
    assert report.status == "succeeded", report.message
    assert report.outputs["GREETING"] == "hello-3-true"
    assert read(tmp_path / "greeting.txt").strip() == "hello-3-true"


def test_container_and_mail_actions_become_their_executors(tmp_path):
    dag = tmp_path / "dag.yaml"
    dag.write_text("""
steps:
  - id: build
    action: docker.run
    with:
      image: alpine:3
      command: echo built
  - id: tell
    action: mail.send
    with: {from: a@example.test, to: b@example.test, subject: done, message: hi}
""")
    result = check(dag)
    assert result.ok, result.error().render()
    build, tell = result.workflow.steps
    assert isinstance(build.action, Container) and build.action.image == "alpine:3"
    assert build.action.cmd == ("echo", "built")
    assert isinstance(tell.action, Mail) and tell.action.to == ("b@example.test",)


def test_unknown_actions_and_mixed_forms_are_reported(tmp_path):
    dag = tmp_path / "dag.yaml"
    dag.write_text("""
steps:
  - id: q
    action: jq.filter
    with: {filter: .a}
  - id: both
    action: exec
    command: echo hi
    with: {command: echo}
""")
    rendered = check(dag).error().render()
    assert "dag.yaml:4:13: not supported yet: the 'jq.filter' action" in rendered
    assert "dag.yaml:8:5: error: `action:` cannot be used together with `command:`" in rendered
