"""People in the loop and locks without a server: what `validate` reads (Argo `suspend: {}`
with supplied outputs, `synchronization`, `inline`; Dagu `approval`, `handlerOn.wait`,
`maxActiveRuns`), the pause form and its answers, and the in-process locks (the Prefect
limits and pauses themselves: integration/test_server.py)."""

from __future__ import annotations

import json
import textwrap
import threading
import time

import pytest

from flowport.adapter import locks, pauses
from flowport.adapter.argo.executor import FAILED, PENDING, RUNNING, SUCCEEDED, Executor, argo_locks, now
from flowport.adapter.argo.leaf import suspend_pause
from flowport.adapter.runners.base import StopToken
from flowport.translators import check
from testkit.workflows import check_argo



def argo(tmp_path, spec: str):
    return check_argo(tmp_path, spec, "{name: w}", "w.yaml")


def dagu(tmp_path, text: str):
    p = tmp_path / "d.yaml"
    p.write_text(textwrap.dedent(text))
    return check(p)


# ------------------------------------------------------------------ Argo: what validate reads

def test_suspend_without_duration_is_a_pause_whose_form_is_the_supplied_outputs(tmp_path):
    r = argo(tmp_path, """
        entrypoint: gate
        templates:
        - name: gate
          inputs: {parameters: [{name: env, default: dev, enum: [dev, prod]}]}
          suspend: {}
          activeDeadlineSeconds: 30
          outputs:
            parameters:
            - {name: env, valueFrom: {supplied: {}}}
            - {name: note, valueFrom: {supplied: {}, default: none}}
            - {name: approver, valueFrom: {supplied: {}}}
        """)
    assert r.ok, r.error().render()
    tmpl = r.workflow.argo.templates["gate"]
    assert tmpl.kind == "suspend" and tmpl.suspend_duration is None
    ex = Executor(r.workflow.argo, workflow_name="w-1", uid="u", params={}, run_leaf=lambda *a: None)
    from flowport.adapter.argo.nodes import Node

    pause = suspend_pause(ex, Node("w-1", "w-1", "step", "Suspend", template="gate"), tmpl,
                          {"inputs.parameters.env": "prod"}, 30.0)
    fields = {f.name: f for f in pause.fields}
    assert (fields["env"].default, fields["env"].choices) == ("prod", ("dev", "prod"))  # the input's value, enum
    assert fields["note"].default == "none" and not fields["note"].required
    assert fields["approver"].default is None and fields["approver"].required  # Argo: no resume without it
    assert pause.timeout == 30.0 and "w-1" in pause.description


def test_synchronization_at_workflow_and_template_level(tmp_path):
    r = argo(tmp_path, """
        entrypoint: main
        synchronization:
          mutexes: [{name: wf-lock}]
          semaphores: [{configMapKeyRef: {name: limits, key: build}}]
        templates:
        - name: main
          synchronization: {mutex: {name: one, namespace: team}}
          container: {image: busybox}
        """)
    assert r.ok, r.error().render()
    spec = r.workflow.argo
    assert [(lk.name, lk.label, lk.size) for lk in argo_locks(spec.sync, spec.namespace)] == [
        ("argo-default-mutex-wf-lock", "default/Mutex/wf-lock", 1),
        ("argo-default-semaphore-limits-build", "default/ConfigMap/limits/build", None)]
    assert argo_locks(spec.templates["main"].sync, spec.namespace)[0].label == "team/Mutex/one"


def test_a_semaphore_needs_its_config_map_key(tmp_path):
    r = argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          synchronization: {semaphores: [{configMapKeyRef: {name: limits}}]}
          container: {image: busybox}
        """)
    assert not r.ok and "configMapKeyRef needs `name` and `key`" in r.problems[0].message
    assert r.problems[0].mark.line == 8


def test_inline_templates_in_dag_tasks_and_steps(tmp_path):
    r = argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - name: a
              inline: {container: {image: busybox, args: ["{{inputs.parameters.m}}"]}, inputs: {parameters: [{name: m}]}}
              arguments: {parameters: [{name: m, value: hi}]}
            - name: b
              depends: a
              inline:
                steps: [[{name: s, inline: {suspend: {duration: "1"}}}]]
        """)
    assert r.ok, r.error().render()
    templates = r.workflow.argo.templates
    a, b = templates["main"].tasks
    assert templates[a.template].kind == "container" and templates[b.template].kind == "steps"
    inner = templates[b.template].steps[0][0]
    assert templates[inner.template].kind == "suspend"
    both = argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps: [[{name: s, template: main, inline: {container: {image: busybox}}}]]
        """)
    assert not both.ok and "either `template` or `inline`" in both.problems[0].message


# ------------------------------------------------------------------ Dagu: what validate reads

def test_dagu_approval_wait_handler_wait_mail_and_max_active_runs(tmp_path):
    r = dagu(tmp_path, """
        name: gate
        maxActiveRuns: 2
        mailOn: {wait: true}
        waitMail: {from: a@x.org, to: b@x.org, prefix: "[WAIT]"}
        smtp: {host: 127.0.0.1, port: "25"}
        steps:
          - name: build
            command: echo built
            approval: {prompt: "Ship?", input: [VERSION, NOTE], required: [VERSION]}
        handlerOn:
          wait: {command: echo "$DAG_WAITING_STEPS"}
        """)
    assert r.ok, r.error().render()
    wf = r.workflow
    assert wf.max_active_runs == 2 and wf.handlers.wait is not None
    assert wf.mail.on_wait and wf.mail.wait_mail.prefix == "[WAIT]"
    assert wf.steps[0].approval.inputs == ("VERSION", "NOTE") and wf.steps[0].approval.required == ("VERSION",)
    bad = dagu(tmp_path, """
        steps:
          - name: build
            command: echo built
            approval: {input: [A], required: [B], rewindTo: build}
        """)
    kinds = sorted((p.kind, p.mark.line) for p in bad.problems)
    assert kinds == [("error", 5), ("unsupported", 5)]  # B is not an input; rewindTo


# ------------------------------------------------------------------ the pause form and answers

def test_the_form_takes_the_values_then_decision_and_reason():
    pause = pauses.Pause("n", "text", (pauses.Field("VERSION", default="", required=True),
                                       pauses.Field("decision", default="x"), pauses.Field("env", choices=("a", "b"), default="a")))
    schema = pauses.form_model(pause).model_json_schema()
    names = list(schema["properties"])
    assert names == ["VERSION", "decision", "env", "flowport_decision", "reason"]  # a value keeps its name
    assert schema["properties"]["VERSION"][pauses.REQUIRED] is True and "required" not in schema
    assert schema["properties"]["env"]["enum"] == ["a", "b"]
    body = pauses.answer_input(names, {"VERSION": "1.2"})
    assert body == {"VERSION": "1.2", "flowport_decision": "resume"}
    assert pauses.read_answer(pause, body) == pauses.Answer(pauses.RESUMED, {"VERSION": "1.2", "decision": "x", "env": "a"})
    assert pauses.read_answer(pause, {"flowport_decision": "resume"}).verdict == pauses.INCOMPLETE
    rejected = pauses.read_answer(pause, pauses.answer_input(names, {}, reject=True, reason="no"))
    assert (rejected.verdict, rejected.reason) == (pauses.REJECTED, "no")


def test_a_stop_or_the_timeout_ends_the_wait_before_the_pause():
    stop = StopToken()
    busy = lambda: True  # noqa: E731 - something else runs: the pause never begins
    t0 = time.monotonic()
    answer = pauses.wait_for_person("run-a", pauses.Pause("n", "t", timeout=0.3), stop, _Log(), busy=busy)
    assert answer.verdict == pauses.TIMED_OUT and time.monotonic() - t0 < 3
    threading.Timer(0.2, stop.stop).start()
    assert pauses.wait_for_person("run-a", pauses.Pause("n", "t"), stop, _Log(), busy=busy).verdict == pauses.STOPPED
    assert pauses.waiting_nodes("run-a") == set()


class _Log:
    def info(self, *a):
        pass

    warning = info


# ------------------------------------------------------------------ locks

def test_a_semaphore_size_comes_from_the_config_maps_variable():
    lock = locks.Lock("n", "default/ConfigMap/limits/build", config="limits", key="build")
    assert locks.size_of(lock, lambda name: {"build": "3"}) == 3
    assert locks.size_of(lock, lambda name: json.dumps({"build": 2})) == 2
    with pytest.raises(locks.LockError, match="no Prefect Variable named 'limits'"):
        locks.size_of(lock, lambda name: None)
    with pytest.raises(locks.LockError, match="has no key 'build'"):
        locks.size_of(lock, lambda name: {"other": "1"})
    with pytest.raises(locks.LockError, match="at least 1"):
        locks.size_of(lock, lambda name: {"build": "0"})


def test_in_process_mutex_holders_never_overlap_and_a_stop_ends_a_wait():
    lock = locks.Lock("test-mutex-" + str(time.monotonic_ns()), "m", size=1)
    inside, most, waits = [0], [0], []

    def holder():
        with locks.hold([lock], StopToken(), prefect=False, on_wait=waits.append) as held:
            assert held
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            inside[0] -= 1

    threads = [threading.Thread(target=holder) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and waits and waits[0] == "Waiting for m lock"
    stop = StopToken()
    with locks.hold([lock], StopToken(), prefect=False):
        threading.Timer(0.2, stop.stop).start()
        with locks.hold([lock], stop, prefect=False) as held:
            assert held is False


def test_a_node_waiting_for_a_template_mutex_is_pending(tmp_path):
    r = argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps: [[{name: a, template: locked}, {name: b, template: locked}]]
        - name: locked
          synchronization: {mutex: {name: "pending-test"}}
          container: {image: x}
        """)
    assert r.ok, r.error().render()
    seen: list[tuple[str, str | None]] = []

    def leaf(ex, node, tmpl, scope, exit_ctx, on_running):
        node.phase, node.started_at = RUNNING, now()
        seen.extend((n.phase, n.message) for n in ex.records() if n.template == "locked" and n is not node)
        time.sleep(1.6)  # long enough for the other node to report its wait
        seen.extend((n.phase, n.message) for n in ex.records() if n.template == "locked" and n is not node)
        node.finish(SUCCEEDED)

    ex = Executor(r.workflow.argo, workflow_name="w", uid="u", params={}, run_leaf=leaf)
    ex.run_workflow()
    assert ex.status == SUCCEEDED
    assert (PENDING, "Waiting for default/Mutex/pending-test lock") in seen
    assert FAILED not in {p for p, _ in seen}


def test_a_rejected_approval_ends_the_run_rejected_with_the_failure_handler():
    from flowport.adapter.dagu.lifecycle import handler_order
    from flowport.adapter.dagu.status import CANCELED, REJECTED, readiness, run_status
    from flowport.adapter.records import NodeRecord
    from flowport.model import ContinueOn

    gate = NodeRecord(name="gate", phase=REJECTED)
    failed = NodeRecord(name="other", phase="failed")
    assert run_status([gate, failed], canceled=False, error=False) == REJECTED  # Dagu: before failed
    assert run_status([gate], canceled=True, error=False) == CANCELED
    assert handler_order(REJECTED) == ["failure", "exit"]
    assert readiness([(gate, ContinueOn(failure=True))])[0] == CANCELED  # Dagu: aborted, whatever continueOn
