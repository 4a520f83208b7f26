"""Argo workflows end to end on a real Docker Engine (local stand-in images, nothing pulled),
under Prefect: every row of the Argo lifecycle table of DESIGN.md §4, hooks, loops,
outputs, when/depends, retries, stop and terminate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest
from testkit.procs import wait_until
from testkit.reports import by_display, log_text
from testkit.servers import HttpReceiver, ReceivedRequest
from testkit.workflows import argo_workflow

pytestmark = pytest.mark.usefixtures("docker_engine")

LEAVES = """
  - name: ok
    container: {image: busybox, command: [sh, -c], args: ["echo ok"]}
  - name: fail
    container: {image: busybox, command: [sh, -c], args: ["echo failing; exit 3"]}
  - name: say
    inputs: {parameters: [{name: msg}]}
    container: {image: busybox, command: [echo], args: ["{{inputs.parameters.msg}}"]}
  - name: sleep
    container: {image: busybox, command: [sleep], args: ["30"]}
"""


def argo(spec: str, leaves: bool = True) -> str:
    return argo_workflow(spec) + (LEAVES if leaves else "")


def t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# ------------------------------------------------------------------ workflow exit handler


def test_entry_succeeded_exit_handler_runs_and_workflow_succeeds(run_dag):
    r = run_dag(argo("""
        entrypoint: ok
        onExit: report
        templates:
        - name: report
          container: {image: busybox, command: [sh, -c], args: ["echo status={{workflow.status}} failures={{workflow.failures}}"]}
        """))
    n = by_display(r)
    assert r.status == "Succeeded" and r.message is None
    assert n["onExit"].phase == "Succeeded" and n["onExit"].kind == "handler"
    assert "status=Succeeded failures=null" in log_text(r)
    assert t(n["onExit"].started_at) >= t(r.nodes[0].finished_at)


def test_failing_exit_handler_turns_success_into_failed(run_dag):
    r = run_dag(argo("""
        entrypoint: ok
        onExit: fail
        templates:
        """))
    assert r.status == "Failed" and by_display(r)["onExit"].phase == "Failed"
    assert r.message == "Error (exit code 3)"
    assert by_display(r)[r.workflow].phase == "Succeeded"  # the entry node keeps its phase


def test_erroring_exit_handler_turns_success_into_error(run_dag):
    r = run_dag(argo("""
        entrypoint: ok
        hooks:
          exit: {template: broken}
        templates:
        - name: broken
          container: {image: "flowport-no-such-image:1", imagePullPolicy: Never}
        """))
    assert r.status == "Error" and by_display(r)["onExit"].phase == "Error"


def test_entry_failed_exit_handler_runs_result_does_not_matter(run_dag):
    r = run_dag(argo("""
        entrypoint: fail
        onExit: exit-steps
        templates:
        - name: exit-steps
          steps:
          - - {name: cry, template: say, when: "{{workflow.status}} != Succeeded", arguments: {parameters: [{name: msg, value: "boohoo {{workflow.status}}"}]}}
            - {name: celebrate, template: ok, when: "{{workflow.status}} == Succeeded"}
          - - {name: also-fails, template: fail}
        """))
    n = by_display(r)
    assert r.status == "Failed" and r.message == "Error (exit code 3)"
    assert n["cry"].phase == "Succeeded" and n["celebrate"].phase == "Skipped"
    assert n["onExit"].phase == "Failed"  # ... and it changes nothing
    assert "boohoo Failed" in log_text(r)


def test_skipped_entry_counts_as_succeeded(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        onExit: ok
        templates:
        - name: main
          steps:
          - - {name: never, template: fail, when: "1 == 2"}
        """))
    assert r.status == "Succeeded" and by_display(r)["never"].phase == "Skipped"
    assert by_display(r)["onExit"].phase == "Succeeded"


def test_active_deadline_fails_the_workflow_but_exit_handler_runs(run_dag):
    started = time.monotonic()
    r = run_dag(argo("""
        entrypoint: main
        activeDeadlineSeconds: 2
        onExit: slow-exit
        templates:
        - name: main
          steps:
          - - {name: long, template: sleep}
        - name: slow-exit
          container: {image: busybox, command: [sh, -c], args: ["sleep 3; echo exit handler done"]}
        """))
    n = by_display(r)
    assert r.status == "Failed" and n["long"].phase == "Failed"
    assert n["onExit"].phase == "Succeeded"  # ignores the workflow deadline
    assert "exit handler done" in log_text(r)
    assert time.monotonic() - started < 25


# ------------------------------------------------------------------ step and task exit hooks


def test_step_exit_hook_sees_outputs_blocks_next_group_and_keeps_phase(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: a
              template: produce
              hooks:
                exit:
                  template: hook
                  arguments: {parameters: [{name: v, value: "{{steps.a.outputs.parameters.p}}/{{steps.a.status}}/{{steps.a.exitCode}}"}]}
            - {name: skipped, template: ok, when: "a == b", onExit: hook-plain}
          - - {name: b, template: ok, onExit: fail}
          - - {name: c, template: ok}
        - name: produce
          container: {image: busybox, command: [sh, -c], args: ["printf val > /tmp/p; exit 1"]}
          outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}}]}
        - name: hook
          inputs: {parameters: [{name: v}]}
          container: {image: busybox, command: [sh, -c], args: ["sleep 1; echo hook got {{inputs.parameters.v}}"]}
        - name: hook-plain
          container: {image: busybox}
        """))
    n = by_display(r)
    # a failed, so the group failed and later groups never ran; its exit hook still ran
    assert n["a"].phase == "Failed" and n["a.onExit"].phase == "Succeeded"
    assert "hook got val/Failed/1" in log_text(r)
    assert n["skipped"].phase == "Skipped" and "skipped.onExit" not in n
    assert "b" not in n and r.status == "Failed"


def test_exit_hook_failure_does_not_change_step_and_blocks_next_group(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: ok, onExit: slow-fail}
          - - {name: b, template: ok}
        - name: slow-fail
          container: {image: busybox, command: [sh, -c], args: ["sleep 1; exit 1"]}
        """))
    n = by_display(r)
    assert n["a"].phase == "Succeeded" and n["a.onExit"].phase == "Failed"
    assert n["b"].phase == "Succeeded" and r.status == "Succeeded"
    assert t(n["b"].started_at) >= t(n["a.onExit"].finished_at)


def test_dag_dependants_wait_for_exit_hooks(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: ok, hooks: {exit: {template: slow}}}
            - {name: B, template: ok, depends: A}
        - name: slow
          container: {image: busybox, command: [sh, -c], args: ["sleep 2"]}
        """))
    n = by_display(r)
    assert r.status == "Succeeded" and n["A.onExit"].phase == "Succeeded"
    assert t(n["B"].started_at) >= t(n["A.onExit"].finished_at)


# ------------------------------------------------------------------ named hooks


def test_workflow_hooks_fire_once_and_finish_before_exit_handler(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        onExit: ok
        hooks:
          running: {expression: workflow.status == "Running", template: say, arguments: {parameters: [{name: msg, value: "run hook"}]}}
          done: {expression: workflow.status == "Succeeded", template: slow}
          failed: {expression: workflow.status == "Failed", template: ok}
        templates:
        - name: main
          steps:
          - - {name: s, template: ok}
        - name: slow
          container: {image: busybox, command: [sh, -c], args: ["sleep 1"]}
        """))
    n = by_display(r)
    names = [x.display_name for x in r.nodes]
    assert names.count("hooks.running") == 1 and names.count("hooks.done") == 1
    assert "hooks.failed" not in n  # never true: no node
    assert n["hooks.done"].kind == "hook" and n["hooks.done"].phase == "Succeeded"
    assert t(n["onExit"].started_at) >= t(n["hooks.done"].finished_at)
    assert r.status == "Succeeded"


def test_step_named_hooks_running_and_result(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - name: job
              template: failing-slowly
              hooks:
                running: {expression: 'tasks["job"].status == "Running"', template: ok}
                failed: {expression: 'tasks.job.status == "Failed"', template: ok}
                succeeded: {expression: 'tasks.job.status == "Succeeded"', template: ok}
        - name: failing-slowly
          container: {image: busybox, command: [sh, -c], args: ["sleep 1; exit 1"]}
        """))
    n = by_display(r)
    assert n["job"].phase == "Failed" and r.status == "Failed"
    assert n["job.hooks.running"].phase == "Succeeded" and n["job.hooks.failed"].phase == "Succeeded"
    assert "job.hooks.succeeded" not in n


# ------------------------------------------------------------------ control flow and outputs


def test_loops_outputs_and_aggregation(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: gen
              template: num
              arguments: {parameters: [{name: n, value: "{{item.n}}"}]}
              withItems: [{n: 1}, {n: 2}, {n: 3}]
          - - name: even
              template: say
              arguments: {parameters: [{name: msg, value: "{{item}}"}]}
              withParam: "{{steps.gen.outputs.result}}"
              when: "{{item}} != 1"
            - name: seq
              template: say
              arguments: {parameters: [{name: msg, value: "{{item}}"}]}
              withSequence: {count: "2", format: "u%02d"}
            - name: all-params
              template: say
              arguments: {parameters: [{name: msg, value: "{{steps.gen.outputs.parameters.sq}}"}]}
        - name: num
          inputs: {parameters: [{name: n}]}
          script:
            image: python:3
            command: [python]
            source: |
              n = {{inputs.parameters.n}}
              open("/tmp/sq", "w").write(str(n * n))
              print(n)
          outputs: {parameters: [{name: sq, valueFrom: {path: /tmp/sq}, globalName: last-square}]}
        """))
    n = by_display(r)
    assert r.status == "Succeeded"
    assert [n[f"gen({i}:n:{i + 1})"].phase for i in range(3)] == ["Succeeded"] * 3
    assert n["gen(1:n:2)"].outputs == {"result": "2", "exitCode": "0", "parameters": {"sq": "4"}}
    assert n["even(0:1)"].phase == "Skipped" and n["even(2:3)"].phase == "Succeeded"
    assert n["seq(0:u00)"].phase == "Succeeded" and n["seq(1:u01)"].phase == "Succeeded"
    assert n["all-params"].outputs["result"] == '["1","4","9"]'
    assert r.outputs["last-square"] in ("1", "4", "9")


def test_depends_when_and_dag_phase(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: ok}
            - {name: B, template: fail, depends: A}
            - {name: C, template: ok, depends: "B.Failed"}
            - {name: D, template: ok, depends: "B"}
            - {name: E, template: ok, depends: "A", when: "{{tasks.A.outputs.result}} == nope"}
            - {name: F, template: ok, depends: "C && E"}
        """))
    n = by_display(r)
    assert n["C"].phase == "Succeeded" and n["D"].phase == "Omitted"
    assert n["E"].phase == "Skipped" and n["F"].phase == "Succeeded"
    assert n["D"].message == "omitted: depends condition not met"
    # the leaves D (Omitted, after failed B) and F decide: B's failure reaches D's branch
    assert r.status == "Failed"


def test_exit_code_and_continue_on(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: f, template: fail, continueOn: {failed: true}}
          - - {name: show, template: say, arguments: {parameters: [{name: msg, value: "code={{steps.f.exitCode}} {{steps.f.status}}"}]}}
        """))
    assert r.status == "Succeeded" and by_display(r)["f"].phase == "Failed"
    assert "code=3 Failed" in log_text(r)


def test_retry_attempts_and_retries_variable(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          retryStrategy: {limit: 2}
          container: {image: busybox, command: [sh, -c], args: ["echo attempt {{retries}}; exit 1"]}
        """, leaves=False))
    n = by_display(r)
    root = r.nodes[0]
    assert r.status == "Failed" and root.node_type == "Retry" and root.message == "No more retries left"
    assert [n[f"{root.display_name}({i})"].phase for i in range(3)] == ["Failed"] * 3
    assert "attempt 2" in log_text(r)


def test_prefect_final_state_carries_the_phase(run_dag, prefect_server):
    from prefect.client.orchestration import get_client

    r = run_dag(argo("""
        entrypoint: fail
        templates:
        """))
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(r.run_id).state
        # this run's task runs: the server's first page of all of them may hold none of them
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[r.run_id])))
    assert state.type.value == "FAILED" and state.name == "Failed"
    assert any(tr.name == r.workflow for tr in tasks)  # the leaf ran as a task run named like Argo's node


def test_public_build_flow_runs_argo_with_argo_semantics(tmp_path, prefect_server):
    """`flowport.build_flow` builds the one run core for an Argo file too: the container
    that exits 3 fails the flow run as Argo fails the workflow, the exit handler runs, and
    the run report is published as the flow run's artifact (as for Dagu)."""
    import flowport
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    path = tmp_path / "wf.yaml"
    path.write_text(argo("""
        entrypoint: fail
        onExit: say-bye
        templates:
        - name: say-bye
          container: {image: busybox, command: [sh, -c], args: ["echo bye {{workflow.status}}"]}
        """))
    state = flowport.build_flow(flowport.load(path))(return_state=True)
    assert state.type.value == "FAILED" and state.name == "Failed", state
    assert state.message.endswith("Failed (Error (exit code 3))"), state.message
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
        tasks = {tr.name for tr in client.read_task_runs()}
    report = json.loads(artifacts[0].data.split("```json", 1)[1].split("```", 1)[0])
    assert report["status"] == "Failed" and report["dialect"] == "argo"
    assert [n["phase"] for n in report["nodes"] if n["display_name"] == "onExit"] == ["Succeeded"]
    assert "onExit" in tasks


# ------------------------------------------------------------------ stop and terminate


STOPPABLE = """
    entrypoint: main
    onExit: exit
    templates:
    - name: main
      dag:
        tasks:
        - {name: A, template: sleep, onExit: ok}
        - {name: B, template: ok, depends: A}
    - name: exit
      container: {image: busybox, command: [sh, -c], args: ["echo exit saw {{workflow.status}}"]}
    """


def _stop_when_running(node: str, strategy: str | None):
    from flowport.adapter.core import RUNS

    def watch():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for run_id, active in list(RUNS.items()):
                if any(n.display_name == node and n.phase == "Running" for n in active.program.records()):
                    time.sleep(0.5)
                    active.control.request_stop("test", strategy=strategy)
                    return
            time.sleep(0.05)

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    return th


def test_stop_kills_running_steps_and_still_runs_exit_handlers(run_dag):
    _stop_when_running("A", "Stop")
    started = time.monotonic()
    r = run_dag(argo(STOPPABLE))
    n = by_display(r)
    assert r.status == "Failed" and r.message == "Stopped with strategy 'Stop'"
    assert n["A"].phase == "Failed" and n["A"].message == "workflow shutdown with strategy: Stop"
    assert n["A.onExit"].phase == "Succeeded" and n["onExit"].phase == "Succeeded"
    assert "B" not in n
    assert "exit saw Failed" in log_text(r)
    assert time.monotonic() - started < 25


def test_terminate_skips_exit_handlers(run_dag):
    _stop_when_running("A", "Terminate")
    r = run_dag(argo(STOPPABLE))
    n = by_display(r)
    assert r.status == "Failed" and r.message == "Stopped with strategy 'Terminate'"
    assert n["A"].phase == "Failed" and "A.onExit" not in n and "onExit" not in n


def _containers_of(workflow_label: str) -> list[dict]:
    from flowport.adapter.runners.docker import shared_client

    return shared_client().api.containers(all=True, filters={"label": [f"flowport.workflow={workflow_label}"]})


@pytest.mark.parametrize("on_cancel,second", [("stop", False), ("terminate", False), ("stop", True)])
def test_ctrl_c_on_flowport_run(tmp_path, prefect_server, on_cancel, second):
    """`flowport run`: the first Ctrl-C stops (exit handlers run) unless --on-cancel
    terminate; a second Ctrl-C terminates (the exit handler is killed)."""
    name = f"ctrlc-{on_cancel}-{int(second)}"
    wf = tmp_path / "wf.yaml"
    wf.write_text(argo(STOPPABLE.replace("generateName", "name")).replace("generateName: t-", f"name: {name}")
                  .replace('args: ["echo exit saw {{workflow.status}}"]', 'args: ["sleep 20"]' if second else 'args: ["echo exit saw {{workflow.status}}"]'))
    report = tmp_path / "report.json"
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "run", str(wf), "--no-logs", "--report", str(report),
                             "--on-cancel", on_cancel], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60

    def running(step: str) -> bool:
        return any(c["State"] == "running" and c["Labels"].get("flowport.step") == step for c in _containers_of(name))

    try:
        wait_until(lambda: running("A"), deadline - time.monotonic(), "step A never ran", proc=proc)
        proc.send_signal(signal.SIGINT)
        if second:
            wait_until(lambda: running("onExit"), deadline - time.monotonic(), "onExit never ran", proc=proc)
            proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    data = json.loads(report.read_text())
    nodes = {n["display_name"]: n for n in data["nodes"]}
    assert proc.returncode == 1, out.decode()
    assert data["status"] == "Failed"
    if on_cancel == "terminate":
        assert data["message"] == "Stopped with strategy 'Terminate'" and "onExit" not in nodes
    elif second:
        assert data["message"] == "Stopped with strategy 'Terminate'"
        assert nodes["onExit"]["phase"] == "Failed"
    else:
        assert data["message"] == "Stopped with strategy 'Stop'"
        assert nodes["onExit"]["phase"] == "Succeeded" and nodes["A.onExit"]["phase"] == "Succeeded"
    assert b"STEP" in out  # the argo-get-like tree
    assert not [c for c in _containers_of(name) if c["State"] == "running"]


# ------------------------------------------------------------------ http and suspend


def _up_or_down(request: ReceivedRequest) -> tuple[int, dict[str, str], bytes]:
    """200 with a JSON body at /ok, 503 "down" anywhere else."""
    if request.path == "/ok":
        return 200, {}, b'{"ready": true}'
    return 503, {}, b"down"


def test_http_template_and_suspend_duration(run_dag):
    with HttpReceiver(respond=_up_or_down) as server:
        base = server.url("http", "")
        r = run_dag(argo(f"""
            entrypoint: main
            hooks:
              exit: {{template: down}}
            templates:
            - name: main
              steps:
              - - {{name: pause, template: pause}}
              - - {{name: get, template: up}}
              - - {{name: show, template: say, arguments: {{parameters: [{{name: msg, value: "got {{{{steps.get.outputs.result}}}}"}}]}}}}
            - name: pause
              suspend: {{duration: "1s"}}
            - name: up
              http:
                url: {base}/ok
                successCondition: response.statusCode == 200 && response.body contains "ready"
            - name: down
              http: {{url: {base}/down}}
            """))
    n = by_display(r)
    assert n["pause"].phase == "Succeeded" and n["pause"].node_type == "Suspend"
    assert (t(n["pause"].finished_at) - t(n["pause"].started_at)).total_seconds() >= 1
    assert n["get"].phase == "Succeeded" and n["get"].outputs["result"] == '{"ready": true}'
    assert 'got {"ready": true}' in log_text(r)
    # a non-2xx answer fails the http exit handler, which turns the workflow Failed
    assert n["onExit"].phase == "Failed" and r.status == "Failed"


# ------------------------------------------------------------------ issue 10 item 7: accepted as Argo accepts them


def test_template_defaults_container_block_does_not_reach_a_script_and_exit_hook_expression(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        templateDefaults:
          container: {image: busybox, env: [{name: WHO, value: container-default}]}
          script: {image: busybox, env: [{name: WHO, value: script-default}]}
        templates:
        - name: main
          steps:
          - - name: s
              template: s
              hooks: {exit: {template: c, expression: 'steps.s.outputs.result == "script-default"'}}
            - name: k
              template: c
              hooks: {exit: {template: c, expression: 'steps.k.status == "Failed"'}}
        - name: s
          script: {command: [sh], source: 'echo "$WHO"'}
        - name: c
          container: {command: [sh, -c], args: ['echo "$WHO"']}
        """, leaves=False))
    n = by_display(r)
    assert r.status == "Succeeded"
    assert n["s"].outputs["result"] == "script-default" and n["k"].outputs["result"] == "container-default"
    assert n["s.onExit"].phase == "Succeeded" and "k.onExit" not in n
