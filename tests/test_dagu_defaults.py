"""Dagu `defaults:` (step values every step and handler gets unless it sets its own) and the
keys around retries that Dagu reads differently (issue 10 item 7)."""

from __future__ import annotations

from pathlib import Path

from testkit.reports import phases, read

from flowport.translators import check


def _load(tmp_path: Path, text: str):
    path = tmp_path / "dag.yaml"
    path.write_text(text)
    return check(path)


def test_defaults_fill_what_a_step_does_not_set(tmp_path):
    result = _load(tmp_path, """
defaults:
  retry_policy: {limit: 2, interval_sec: 1}
  timeout_sec: 30
  env: [A=default]
  preconditions: ["test -d ."]
steps:
  - name: plain
    run: echo $A
  - name: own
    run: echo hi
    retry_policy: {limit: 0}
    timeout_sec: 5
    env: [B=own]
handler_on:
  exit:
    run: echo bye
""")
    assert result.ok, result.error().render()
    plain, own = result.workflow.steps
    assert (plain.retry.limit, plain.retry.interval, plain.timeout) == (2, 1, 30)
    assert (own.retry.limit, own.timeout) == (0, 5)
    assert own.env == (("A", "default"), ("B", "own"))
    assert [p.condition for p in plain.preconditions] == ["test -d ."]
    exit_handler = result.workflow.handlers.exit
    assert exit_handler.retry.limit == 2 and exit_handler.env == (("A", "default"),)


def test_defaults_retry_policy_retries_a_step_for_real(run_dag, tmp_path):
    report = run_dag("""
        defaults:
          retry_policy: {limit: 2, interval_sec: 0}
        steps:
          - name: flaky
            run: sh -c 'echo x >> tries.txt; [ $(wc -l < tries.txt) -ge 3 ]'
          - name: once
            run: sh -c 'echo x >> once.txt; exit 1'
            retry_policy: {limit: 0}
            continue_on: {failure: true}
    """)
    assert phases(report) == {"flaky": "succeeded", "once": "failed"}
    assert read(tmp_path / "tries.txt").count("x") == 3
    assert read(tmp_path / "once.txt").count("x") == 1


def test_step_params_have_no_effect_outside_a_sub_dag_call(tmp_path):
    """Dagu reads a step's `params` only for a sub-DAG call (`call:`/V1 `run:`); on a command
    step it does nothing, so flowport accepts it and `plan` lists it as without effect."""
    result = _load(tmp_path, """
steps:
  - name: a
    command: echo hi
    params: "X=1"
""")
    assert result.ok, result.error().render()
    assert result.workflow.ignored == ("steps[0].params: no effect under Prefect",)


def test_new_schema_reads(tmp_path):
    """Fields the schema walk found flowport did not read (issue 10 item 7)."""
    result = _load(tmp_path, """
shell: bash
shell_args: [-e, -u]
schedule:
  - expression: "0 1 * * *"
    kind: cron
  - "30 2 * * *"
params:
  schema: ./params.schema.json
  values: {region: eu, size: 3}
steps:
  - name: a
    run: echo hi
  - name: b
    type: docker
    with: {image: busybox, command: [echo, 1]}
  - name: c
    shell: sh
    shell_args: [-x]
    run: echo c
""")
    assert result.ok, result.error().render()
    wf = result.workflow
    assert wf.shell == ("bash", "-e", "-u")
    assert wf.schedule == ("0 1 * * *", "30 2 * * *")
    assert [(p.name, p.default) for p in wf.params] == [("region", "eu"), ("size", "3")]
    assert "params.schema: no effect under Prefect" in wf.ignored
    assert wf.steps[1].action.cmd == ("echo", "1")
    assert wf.steps[2].action.shell == ("sh", "-x")
