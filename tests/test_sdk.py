"""flowport.sdk: a workflow written in Python is the IR a YAML file translates to, and runs
through the same run core (real shell steps through `core.drive`, no Prefect server; Argo
through the executor with a fake leaf)."""

from __future__ import annotations

import logging

import pytest

from flowport.adapter.argo.executor import FAILED, SUCCEEDED, Executor
from flowport.adapter.core import InlineLeaves, drive
from flowport.adapter.options import RunOptions
from prefect import task as prefect_task

from flowport.model import ContinueOn, Param, Retry, Shell
from flowport.sdk import call, container, dag, noop, pytask, sh, steps, subflow, task, workflow
from test_argo_semantics import fake_leaf


def drive_inline(wf, params=None):
    return drive(wf, run_id="sdk-run", params=params, options=RunOptions(),
                 leaves=InlineLeaves(logging.getLogger("test")), publish=False)


def test_dagu_workflow_runs_its_steps_and_handlers_through_the_run_core(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))

    @workflow("sdk_dagu", engine="dagu-v1", workdir=str(tmp_path),
              on_failure=sh("echo failure:$DAG_RUN_STATUS >> handlers.txt"),
              on_exit=sh("echo exit:$DAG_RUN_STATUS >> handlers.txt"))
    def sdk_dagu(who: str = "world"):
        greet = sh(f"echo hello {who}", name="greet", output="GREETING")
        sh("echo \"$GREETING\" > greeting.txt; exit 3", name="save", after=[greet])

    report = drive_inline(sdk_dagu.workflow, [("who", "prefect")])
    assert report.status == "failed"
    assert {n.name: n.phase for n in report.nodes} == {
        "greet": "succeeded", "save": "failed", "onFailure": "succeeded", "onExit": "succeeded"}
    assert (tmp_path / "greeting.txt").read_text() == "hello prefect\n"
    assert (tmp_path / "handlers.txt").read_text() == "failure:failed\nexit:failed\n"


def test_a_failing_success_handler_fails_the_run_as_dagu_does(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))

    @workflow(engine="dagu-v3", workdir=str(tmp_path), on_success=sh("exit 1"), on_exit=sh("touch exit-ran"))
    def handler_fails():
        sh("true", name="ok")

    report = drive_inline(handler_fails.workflow)
    assert report.status == "failed" and (tmp_path / "exit-ran").exists()


def test_a_noop_step_only_waits(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))

    @workflow(engine="dagu-v3", workdir=str(tmp_path))
    def waits():
        gate = noop(name="gate")
        sh("touch after-gate", name="after", after=[gate])

    report = drive_inline(waits.workflow)
    assert report.status == "succeeded" and (tmp_path / "after-gate").exists()


def test_declarations_are_the_ir():
    @workflow(engine="dagu-v2", on_cancel=sh(["echo", "bye"]))
    def declared(day: str = "mon", count: int = 3, note: str | None = None):
        """Nightly load."""
        a = sh("echo a", name="a", retries=2, timeout=5, env={"X": "1"})
        sh("echo b", name="b", after=a)

    wf = declared.workflow
    assert wf.name == "declared" and wf.dialect == "dagu-v2" and wf.description == "Nightly load."
    assert wf.params == (Param("day", "mon"), Param("count", "3"), Param("note", None))
    assert wf.steps[0].retry == Retry(limit=2) and wf.steps[0].timeout == 5 and wf.steps[0].env == (("X", "1"),)
    assert wf.steps[1].depends == ("a",)
    assert wf.handlers.cancel.name == "onCancel" and wf.handlers.cancel.action == Shell(argv=("echo", "bye"))
    assert wf.steps[0].where.file == __file__  # runtime messages point at the Python line
    assert wf.semantics.run_backticks  # V1/V2 run `cmd` substitutions, as the translator says


def test_flow_parameters_are_typed_and_only_changed_values_reach_the_run(monkeypatch):
    @workflow(engine="argo", generate_name="p-", param_names={"my_param": "my-param"})
    def params_flow(my_param: str = "x", size: int = 2):
        container("alpine", ["0", "{{workflow.parameters.my-param}}"], name="main")

    schema = params_flow.parameters.properties
    assert schema["my_param"]["default"] == "x" and schema["size"]["type"] == "integer"
    assert [(p.name, p.value) for p in params_flow.workflow.argo.arguments] == [("my-param", "x"), ("size", "2")]
    seen = {}
    from flowport.adapter import core

    monkeypatch.setattr(core, "execute", lambda wf, options, params: seen.setdefault("params", params))
    params_flow.fn(my_param="y", size=2)
    assert seen["params"] == [("my-param", "y")]


def test_unknown_fields_and_unnamed_body_steps_are_refused():
    with pytest.raises(TypeError, match="unknown step field"):
        sh("true", name="x", retires=3)
    with pytest.raises(TypeError, match="needs a name"):
        @workflow()
        def unnamed():
            sh("true")


def test_argo_workflow_with_exit_handler_follows_argos_table():
    @workflow(engine="argo", generate_name="exit-", on_exit="cleanup", entrypoint="main")
    def exits():
        container("x", ["0", "fine"], name="ok")
        container("x", ["2", "bad"], name="fail")
        container("x", ["0", "{{workflow.status}}"], name="cleanup")
        steps("main", [call("first", "ok"), [call("a", "fail"), call("b", "ok")]])
        dag("diamond", [task("A", "ok"), task("B", "ok", after=["A"])])

    spec = exits.workflow.argo
    assert spec.exit_hook.template == "cleanup" and spec.templates["diamond"].tasks[1].depends == "A"
    ex = Executor(spec, workflow_name="exit-abcde", uid="u", params={}, run_leaf=fake_leaf)
    ex.run_workflow()
    phases = {n.display_name: n.phase for n in ex.records()}
    assert ex.status == FAILED and phases["onExit"] == SUCCEEDED and phases["b"] == SUCCEEDED


def test_a_subflow_runs_the_called_workflow_through_the_run_core(tmp_path, monkeypatch):
    """subflow(child, params=…) is a Dagu call step: the child runs as its own run (its
    handlers too) through core.run_child, and its status JSON is the step's output."""
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))

    @workflow("sdk-child", engine="dagu-v3", workdir=str(tmp_path), on_exit=sh("echo child-exit >> calls.txt"))
    def child(WHO: str = "nobody"):
        sh(f"echo child:{WHO} | tee -a calls.txt", name="work", output="SAID")

    @workflow("sdk-parent", engine="dagu-v3", workdir=str(tmp_path))
    def parent():
        first = sh("echo parent >> calls.txt", name="first")
        subflow(child, name="call-child", params={"WHO": "parent"}, after=[first], output="CHILD")
        subflow(child, name="fan", parallel=["a", {"WHO": "b"}], max_concurrent=1, after=["call-child"])

    wf = parent.workflow
    assert wf.subdags == (("sdk-child", child.workflow),) and wf.steps[1].action.params == (("WHO", "parent"),)
    assert wf.steps[2].action.parallel.items == ("a", '{"WHO":"b"}')
    report = drive_inline(wf)
    assert report.status == "succeeded", report.message
    assert {n.name: n.phase for n in report.nodes} == {"first": "succeeded", "call-child": "succeeded",
                                                       "fan": "succeeded"}
    lines = (tmp_path / "calls.txt").read_text().splitlines()
    assert lines[:3] == ["parent", "child:parent", "child-exit"]
    assert sorted(lines[3:]) == ["child-exit", "child-exit", "child:b", "child:nobody"]
    assert '"status": "succeeded"' in report.outputs["CHILD"] and '"SAID": "child:parent"' in report.outputs["CHILD"]


def test_a_subflow_is_refused_outside_dagu_and_for_what_is_no_workflow():
    with pytest.raises(TypeError, match="calls a Dagu workflow"):
        subflow("child", name="x")  # a name is no workflow: import the @workflow, or flowport.load(file)
    with pytest.raises(TypeError, match="with subflow"):
        @workflow()
        def callee():
            pass

        pytask(callee, name="x")
    with pytest.raises(TypeError, match="no param of params_text"):
        @workflow(params_text="a K=v", param_names={"p_2": "2"})
        def positional(p_2: str = "v"):  # the second param is K, not "2"
            pass
    with pytest.raises(TypeError, match="different workflows"):
        @workflow()
        def one():
            pass

        @workflow("one")
        def other():
            pass

        @workflow()
        def both():
            subflow(one, name="a")
            subflow(other, name="b")


@prefect_task
def count_rows(text: str) -> int:
    return len(text.split())


EXPLODED: list[str] = []


@prefect_task(name="explode")
def explode(why: str) -> None:
    EXPLODED.append(why)
    raise RuntimeError(why)


def test_a_prefect_task_step_feeds_its_return_value_to_a_later_step(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))

    @workflow("py-ok", engine="dagu-v3", workdir=str(tmp_path))
    def py_ok(rows: str = "a b c"):
        counted = pytask(count_rows, rows, name="count", output="N")
        sh("echo rows=$N > n.txt", name="save", after=[counted])

    assert py_ok.workflow.steps[0].action.function is count_rows.fn
    report = drive_inline(py_ok.workflow, [("rows", "x y")])
    assert report.status == "succeeded", report.message
    assert (tmp_path / "n.txt").read_text() == "rows=2\n" and report.outputs["N"] == "2"


def test_a_failing_prefect_task_step_fails_with_dagu_rules_and_the_failure_handler_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))

    @workflow("py-fail", engine="dagu-v3", workdir=str(tmp_path),
              on_failure=sh("echo failed:$DAG_RUN_STATUS > handler.txt"))
    def py_fail():
        boom = pytask(explode, "no rows", retries=1)
        tolerated = pytask(explode, "tolerated", name="tolerated", continue_on=ContinueOn(exit_codes=(1,)))
        sh("echo after", name="after", after=[tolerated])
        sh("echo never", name="never", after=[boom])

    EXPLODED.clear()
    report = drive_inline(py_fail.workflow)
    nodes = {n.name: n for n in report.nodes}
    assert report.status == "failed"
    assert nodes["explode"].phase == "failed" and nodes["explode"].exit_code == 1
    assert sorted(EXPLODED) == ["no rows", "no rows", "tolerated"]  # retried once, as its step says
    assert "RuntimeError: no rows" in nodes["explode"].message
    assert nodes["after"].phase == "succeeded" and nodes["never"].phase in ("not_started", "skipped", "canceled")
    assert (tmp_path / "handler.txt").read_text() == "failed:failed\n"
