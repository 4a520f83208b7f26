"""Dagu sub-DAGs (`call:`, V1 `run:`, V3 `action: dag.run`, `parallel:`): translation, finding
the child, call cycles, params and ITEM, the published outputs, failure and cancel. Runs go
through the run core inline (no Prefect); one runs on the session's embedded Prefect server
to check that each child is a subflow under the calling step's task run."""

from __future__ import annotations

import json
import logging
import textwrap
import threading
import time
from pathlib import Path

import pytest

from flowport.adapter import core
from flowport.adapter.core import InlineLeaves, drive
from flowport.adapter.dagu.calls import child_params, child_run_id, parallel_items
from flowport.adapter.options import RunOptions
from flowport.model import Fanout, SubDag
from flowport.translators import check, load

CHILD = """
name: child
params: "A=a0 B=b0"
steps:
  - name: w
    command: echo "$A-$B"
    output: V
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run_inline(path: Path, monkeypatch, run_id: str = "top"):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(path.parent / "logs"))
    return drive(load(path), run_id=run_id, params=None, options=RunOptions(),
                 leaves=InlineLeaves(logging.getLogger("test")), publish=False)


def problems(path: Path) -> list[str]:
    """The problems of `path`, checked from its folder (messages name files as written)."""
    return [f"{p.mark}: {p.message}" for p in check(path.name).problems]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------- translation


def test_call_run_and_dag_run_translate_to_a_sub_dag(tmp_path):
    write(tmp_path, "child.yaml", CHILD)
    v2 = write(tmp_path, "v2.yaml", """
        steps:
          - name: c
            call: child
            params: {A: "1", B: "${X}"}
    """)
    step = load(v2).steps[0]
    assert step.action == SubDag(dag="child", params=(("A", "1"), ("B", "${X}")))
    assert load(v2).subdag("child").name == "child"
    v1 = write(tmp_path, "v1.yaml", """
        steps:
          - name: c
            run: child
            params: "A=1 B=2"
            continueOn: {failure: true}
    """)
    assert load(v1).steps[0].action == SubDag(dag="child", params_text="A=1 B=2")
    lower = write(tmp_path, "lower.yaml", "steps:\n  - name: c\n    run: child\n    params: A=1\n")
    assert load(lower).steps[0].action == SubDag(dag="child", params_text="A=1")  # V1 without camelCase
    v3 = write(tmp_path, "v3.yaml", """
        steps:
          - id: c
            action: dag.run
            with: {dag: child, params: [{A: "${ITEM}"}]}
            parallel: {items: [x, 2, {k: v}], max_concurrent: 2}
    """)
    action = load(v3).steps[0].action
    assert action.dag == "child" and action.params == (("A", "${ITEM}"),)
    assert action.parallel == Fanout(items=("x", "2", '{"k":"v"}'), max_concurrent=2)
    var = write(tmp_path, "var.yaml", "steps:\n  - call: child\n    parallel: ${ITEMS}\n")
    assert load(var).steps[0].action.parallel == Fanout(source="${ITEMS}")
    assert load(var).steps[0].name == "dag_1"  # Dagu's name for an unnamed call step


@pytest.mark.parametrize("step, message", [
    ("call: child\n    command: echo", "cannot also have `command:`"),
    ("command: echo\n    parallel: [a]", "`parallel:` runs a child DAG per item: it needs `call:`"),
    ("call: ${WHICH}", "a child DAG name built from variables"),
    ("call: child\n    parallel: []", "`parallel:` has no items"),
    ("call: child\n    parallel: {items: [a], maxConcurrent: 0}", "must be at least 1"),
    ("call: child\n    parallel: [[a]]", "a parallel item is a scalar or a flat mapping"),
    ("action: dag.run\n    with: {dag: child, queue: q}", "does not take `with.queue`"),
])
def test_bad_call_steps_are_located_errors(tmp_path, step, message):
    write(tmp_path, "child.yaml", CHILD)
    path = write(tmp_path, "p.yaml", f"steps:\n  - name: s\n    {step}\n")
    found = problems(path)
    assert any(message in p and p.startswith("p.yaml:") for p in found), found


# ---------------------------------------------------------------- finding the child


def test_a_local_document_comes_before_a_file_of_the_same_name(tmp_path):
    write(tmp_path, "child.yaml", CHILD.replace("echo", "echo file"))
    path = write(tmp_path, "p.yaml", "steps:\n  - call: child\n---\n" + textwrap.dedent(CHILD))
    child = load(path).subdag("child")
    assert child.steps[0].action.command.startswith('echo "$A')  # the document, not the file


def test_children_beside_the_file_then_in_the_dags_folder(tmp_path, monkeypatch):
    dags = tmp_path / "dags"
    dags.mkdir()
    write(dags, "far.yml", "steps:\n  - call: near\n")  # a child calls from its own folder
    write(dags, "near.yaml", "steps:\n  - command: echo near\n")
    monkeypatch.setenv("DAGU_DAGS_DIR", str(dags))
    path = write(tmp_path, "p.yaml", "steps:\n  - call: far\n  - call: far.yml\n")
    wf = load(path)
    assert [k for k, _ in wf.subdags] == ["far", "far.yml"]
    assert wf.subdag("far").subdag("near").steps[0].action.command == "echo near"
    missing = write(tmp_path, "m.yaml", "steps:\n  - call: nowhere\n")
    assert problems(missing) == [f"m.yaml:2:11: no child DAG 'nowhere': no nowhere.yaml or nowhere.yml in "
                                 f"{tmp_path} or {dags}"]


def test_local_documents_need_a_unique_name_and_are_checked_even_unused(tmp_path):
    path = write(tmp_path, "p.yaml", """
        steps:
          - command: echo
        ---
        steps:
          - command: echo
        ---
        name: x
        steps:
          - comand: echo
    """)
    found = problems(path)
    assert any(p.startswith("p.yaml:5:1: a local DAG") for p in found), found
    assert any("unknown step key 'comand'" in p and p.startswith("p.yaml:10:") for p in found), found


def test_call_cycles_name_both_calls(tmp_path):
    write(tmp_path, "a.yaml", "steps:\n  - name: x\n    call: b\n")
    write(tmp_path, "b.yaml", "steps:\n  - name: y\n    call: a\n")
    assert problems(tmp_path / "a.yaml") == [
        "b.yaml:3:11: call cycle a -> b -> a: a calls b at a.yaml:3:11, and here b calls a"]
    write(tmp_path, "s.yaml", "steps:\n  - call: s\n")
    assert problems(tmp_path / "s.yaml") == ["s.yaml:2:11: call cycle s -> s: s calls itself here"]
    same = write(tmp_path, "m.yaml", "steps:\n  - call: loc\n---\nname: loc\nsteps:\n  - call: m\n")
    assert problems(same) == ["m.yaml:6:11: call cycle m -> loc -> m: m calls loc at m.yaml:2:11, and here loc calls m"]


# ---------------------------------------------------------------- params, ITEM, run ids


def test_params_and_items_as_dagu_evaluates_them():
    expand = lambda text, extra: text.replace("${ITEM}", extra.get("ITEM", "?")).replace("${X}", "x1")  # noqa: E731
    assert child_params(SubDag("c", params_text='A=${X} "two words"'), None, expand) == [("A", "x1"), ("", "two words")]
    assert child_params(SubDag("c", params=(("A", "${ITEM}"),)), "i", expand) == [("A", "i")]
    assert child_params(SubDag("c"), '{"b":"2","a":"1"}', expand) == [("a", "1"), ("b", "2")]
    assert child_params(SubDag("c"), "solo", expand) == [("", "solo")]
    assert parallel_items('["a", 2, {"k": "v"}]') == ["a", "2", '{"k":"v"}']
    assert parallel_items('a, b;c|d "e f"\ng') == ["a", "b", "c", "d", "e f", "g"]
    assert parallel_items('{"k": 1}') == ['{"k": 1}']
    assert child_run_id("r", "s", "c", "") == child_run_id("r", "s", "c", "")
    assert child_run_id("r", "s", "c", "A=1") != child_run_id("r", "s", "c", "A=2")


def test_outputs_params_and_items_reach_parent_and_children(tmp_path, monkeypatch):
    write(tmp_path, "child.yaml", CHILD)
    path = write(tmp_path, "p.yaml", """
        params: "WHO=zed"
        steps:
          - name: one
            call: child
            params: "A=${WHO} B=2"
            output: OUT
          - name: show
            command: sh -c 'echo "${OUT.outputs.V} ${OUT.status}" > show.txt'
            depends: [one]
          - name: fan
            call: child
            params: "A=${ITEM.k} B=${ITEM.n}"
            parallel:
              maxConcurrent: 2
              items: [{k: p, n: 1}, {k: q, n: 2}, {k: p, n: 1}]
            output: FAN
          - name: raw
            call: child
            parallel: ${LIST}
            output: RAW
        env:
          - LIST: '["u", "v"]'
    """)
    report = run_inline(path, monkeypatch)
    assert report.status == "succeeded", report.message
    assert (tmp_path / "show.txt").read_text() == "zed-2 succeeded\n"
    one = report.node("one")
    assert [(r.workflow, r.status, r.params) for r in one.sub_runs] == [("child", "succeeded", {"A": "zed", "B": "2"})]
    out = json.loads(one.outputs["OUT"])
    assert list(out) == ["name", "dagRunId", "params", "outputs", "status"]
    assert out == {"name": "child", "dagRunId": one.sub_runs[0].run_id, "params": 'A="zed" B="2"',
                   "outputs": {"V": "zed-2"}, "status": "succeeded"}
    fan = json.loads(report.node("fan").outputs["FAN"])
    assert fan["summary"] == {"total": 2, "succeeded": 2, "failed": 0}  # the repeated item runs once
    assert fan["outputs"] == [{"V": "p-1"}, {"V": "q-2"}]
    assert [r["params"] for r in fan["results"]] == ['A="p" B="1"', 'A="q" B="2"']
    raw = json.loads(report.node("raw").outputs["RAW"])  # no params: the item is positional $1
    assert [r["params"] for r in raw["results"]] == ["u", "v"]
    assert [r["outputs"] for r in raw["results"]] == [{"V": "u-b0"}, {"V": "v-b0"}]
    assert len(report.node("fan").sub_runs) == 2
    child_dirs = {Path(r.log_dir).parent.name for r in report.node("fan").sub_runs}
    assert child_dirs == {"child"}  # each child has its own run folder


def test_a_failing_child_fails_the_step_and_runs_its_own_handlers(tmp_path, monkeypatch):
    write(tmp_path, "child.yaml", """
        steps:
          - name: boom
            command: sh -c 'exit 3'
        handlerOn:
          failure: {command: sh -c 'echo "child-failure:$DAG_RUN_STATUS" >> order.txt'}
          exit: {command: sh -c 'echo "child-exit" >> order.txt'}
    """)
    path = write(tmp_path, "p.yaml", """
        steps:
          - name: c
            call: child
            output: OUT
          - name: f
            call: child
            parallel: [x, y]
            continueOn: {failure: true}
            output: FAN
        handlerOn:
          failure: {command: sh -c 'echo "parent-failure:$DAG_RUN_STATUS" >> order.txt'}
    """)
    report = run_inline(path, monkeypatch)
    assert report.status == "failed"
    c = report.node("c")
    assert c.phase == "failed" and c.message == f"sub DAG run {c.sub_runs[0].run_id} failed with status: failed"
    assert json.loads(c.outputs["OUT"])["status"] == "failed"  # published even on failure
    assert c.sub_runs[0].node("onFailure").phase == "succeeded"
    f = report.node("f")
    assert f.phase == "canceled"  # its upstream failed: never started (Dagu)
    lines = (tmp_path / "order.txt").read_text().split()
    assert lines == ["child-failure:failed", "child-exit", "parent-failure:failed"]


def test_a_parallel_child_failing_fails_the_step_with_the_aggregate(tmp_path, monkeypatch):
    write(tmp_path, "child.yaml", "steps:\n  - command: test \"$1\" != bad\n")
    path = write(tmp_path, "p.yaml", "steps:\n  - name: f\n    call: child\n    parallel: [ok, bad]\n    output: FAN\n")
    report = run_inline(path, monkeypatch)
    f = report.node("f")
    assert report.status == "failed" and f.message == "parallel execution failed: 1 sub dag(s) failed"
    fan = json.loads(f.outputs["FAN"])
    assert fan["summary"] == {"total": 2, "succeeded": 1, "failed": 1} and fan["outputs"] == [{}]


# ---------------------------------------------------------------- cancel


CANCEL_CHILD = """
name: sleeper
params: "N=none"
steps:
  - name: nap
    command: sh -c 'echo $$ > "nap-$N.pid"; sleep 30'
handlerOn:
  cancel: {command: sh -c 'echo "child-cancel:$N:$DAG_RUN_STATUS" >> order.txt'}
  exit: {command: sh -c 'echo "child-exit:$N" >> order.txt'}
"""


def test_a_stop_reaches_the_children_and_their_handlers_run_before_the_parents(tmp_path, monkeypatch):
    path = write(tmp_path, "p.yaml", textwrap.dedent("""
        steps:
          - name: fan
            call: sleeper
            params: "N=${ITEM}"
            parallel: [a, b, c]
          - name: after
            command: touch after-ran
            depends: [fan]
        handlerOn:
          cancel: {command: sh -c 'echo "parent-cancel:$DAG_RUN_STATUS" >> order.txt'}
          exit: {command: sh -c 'echo "parent-exit" >> order.txt'}
        ---
    """) + CANCEL_CHILD)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("report", run_inline(path, monkeypatch, "stopped")))
    thread.start()
    deadline = time.monotonic() + 20
    while len(list(tmp_path.glob("nap-*.pid"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(tmp_path.glob("nap-*.pid"))) == 3, "the three children did not start"
    core.RUNS["stopped"].control.request_stop("signal")
    thread.join(30)
    report = result["report"]
    assert report.status == "canceled"
    fan = report.node("fan")
    assert fan.phase == "canceled" and report.node("after").phase == "not_started"
    assert sorted(r.status for r in fan.sub_runs) == ["canceled"] * 3
    lines = (tmp_path / "order.txt").read_text().split()
    children, parent = lines[:-2], lines[-2:]
    assert sorted(children) == sorted([f"child-cancel:{i}:canceled" for i in "abc"] + [f"child-exit:{i}" for i in "abc"])
    assert parent == ["parent-cancel:canceled", "parent-exit"]  # after every child's, each once
    assert not (tmp_path / "after-ran").exists()


def test_the_parents_timeout_stops_the_child(tmp_path, monkeypatch):
    path = write(tmp_path, "p.yaml", textwrap.dedent("""
        timeoutSec: 1
        steps:
          - name: c
            call: sleeper
        ---
    """) + CANCEL_CHILD)
    report = run_inline(path, monkeypatch)
    assert report.status == "failed" and report.message == "DAG timeout (1s) exceeded"
    child = report.node("c").sub_runs[0]
    assert child.status == "canceled" and child.message == "stopped by the parent's timeout"
    assert (tmp_path / "order.txt").read_text().split() == ["child-cancel:none:canceled", "child-exit:none"]


def test_a_child_started_after_the_stop_stops_at_once(tmp_path, monkeypatch):
    from flowport.adapter.core import RunControl
    from flowport.model import Semantics

    parent, child = RunControl(Semantics()), RunControl(Semantics())
    parent.request_stop("Prefect")
    release = parent.adopt(child)
    assert child.stopped and child.source == "Prefect" and not child.main.forced.is_set()
    release()
    assert parent.children == []


def test_a_second_request_force_stops_the_children():
    from flowport.adapter.core import RunControl
    from flowport.model import Semantics

    parent, child = RunControl(Semantics()), RunControl(Semantics())
    parent.adopt(child)
    parent.request_stop("signal")
    assert child.main.requested.is_set() and not child.main.forced.is_set()
    parent.last_signal -= 10  # a person's second Ctrl-C, not a storm
    parent.request_stop("signal")
    assert child.main.forced.is_set()


# ---------------------------------------------------------------- on Prefect


def test_children_are_subflows_under_the_calling_steps_task_run(run_dag, tmp_path):
    write(tmp_path, "child.yaml", CHILD)
    report = run_dag("""
        steps:
          - name: fan
            call: child
            parallel: [x, y]
    """)
    assert report.status == "succeeded", report.message
    runs = report.node("fan").sub_runs
    assert len(runs) == 2 and all(r.status == "succeeded" for r in runs)
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId, TaskRunFilterName

    with get_client(sync_client=True) as client:
        for r in runs:
            flow_run = client.read_flow_run(uuid.UUID(r.run_id))
            assert flow_run.name.startswith("child-") and flow_run.parent_task_run_id is not None
            tracking = client.read_task_run(flow_run.parent_task_run_id)
            assert str(tracking.flow_run_id) == report.run_id
            parents = [str(p.id) for p in tracking.task_inputs.get("__parents__", [])]
            step = client.read_task_runs(task_run_filter=TaskRunFilter(
                flow_run_id=TaskRunFilterFlowRunId(any_=[uuid.UUID(report.run_id)]), name=TaskRunFilterName(any_=["fan"])))
            assert parents == [str(step[0].id)]


def test_the_run_summary_shows_child_nodes_under_the_calling_step(tmp_path, monkeypatch):
    from rich.console import Console

    from flowport.cli.views import render_summary

    write(tmp_path, "child.yaml", CHILD)
    path = write(tmp_path, "p.yaml", "steps:\n  - name: fan\n    call: child\n    parallel: [x, y]\n  - name: last\n    command: 'true'\n")
    report = run_inline(path, monkeypatch)
    console = Console(record=True, width=120)
    render_summary(console, report)
    rows = [line.split("│")[1][1:].rstrip() for line in console.export_text().splitlines() if line.startswith("│")]
    assert rows == ["fan", "  ↳ child", "    w", "  ↳ child", "    w", "last"]
