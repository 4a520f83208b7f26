"""Every row of DESIGN.md §4's Dagu lifecycle table, run for real through Prefect."""

from __future__ import annotations

import shutil

from textwrap import dedent

from testkit.reports import phases, read

# Each handler appends its name and the status it saw to order.txt, so tests can assert
# which handlers ran, in which order, how often, and with which DAG_RUN_STATUS.
HANDLERS = """
handlerOn:
  success:
    command: echo "success:$DAG_RUN_STATUS" >> order.txt
  failure:
    command: echo "failure:$DAG_RUN_STATUS" >> order.txt
  cancel:
    command: echo "cancel:$DAG_RUN_STATUS" >> order.txt
  exit:
    command: echo "exit:$DAG_RUN_STATUS" >> order.txt
"""


def order(tmp_path) -> list[str]:
    return read(tmp_path / "order.txt").split()


def test_succeeded_runs_success_then_exit(run_dag, tmp_path):
    report = run_dag("steps:\n  - name: a\n    command: 'true'\n" + HANDLERS)
    assert report.status == "succeeded"
    assert order(tmp_path) == ["success:succeeded", "exit:succeeded"]
    p = phases(report)
    assert p["onSuccess"] == p["onExit"] == "succeeded"
    assert "onFailure" not in p and "onCancel" not in p
    kinds = {n.name: n.kind for n in report.nodes}
    assert kinds["onSuccess"] == "handler" and kinds["a"] == "step"


def test_partially_succeeded_runs_success_then_exit(run_dag, tmp_path):
    report = run_dag(
        dedent("""
        steps:
          - name: ok
            command: 'true'
          - name: soft
            command: 'false'
            continueOn: {failure: true}
        """) + HANDLERS
    )
    assert report.status == "partially_succeeded"
    assert order(tmp_path) == ["success:partially_succeeded", "exit:partially_succeeded"]


def test_failed_runs_failure_then_exit(run_dag, tmp_path):
    report = run_dag("steps:\n  - name: a\n    command: 'exit 3'\n" + HANDLERS)
    assert report.status == "failed"
    assert order(tmp_path) == ["failure:failed", "exit:failed"]
    assert phases(report)["a"] == "failed"
    assert report.node("a").exit_code == 3


def test_failing_success_handler_fails_the_run_and_exit_still_runs(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - name: a
            command: 'true'
        handlerOn:
          success:
            command: sh -c 'echo success >> order.txt; exit 1'
          failure:
            command: echo failure >> order.txt
          exit:
            command: echo "exit:$DAG_RUN_STATUS" >> order.txt
        """
    )
    assert report.status == "failed"
    # the failure handler is not then invoked: selection happened before (Dagu runner.go)
    assert order(tmp_path) == ["success", "exit:failed"]
    assert phases(report)["onSuccess"] == "failed"


def test_failing_exit_handler_fails_a_succeeded_run(run_dag, tmp_path):
    report = run_dag("steps:\n  - name: a\n    command: 'true'\nhandlerOn:\n  exit:\n    command: 'false'\n")
    assert report.status == "failed"
    assert phases(report) == {"a": "succeeded", "onExit": "failed"}


def test_failing_handler_keeps_partially_succeeded(run_dag):
    report = run_dag(
        """
        steps:
          - name: ok
            command: 'true'
          - name: soft
            command: 'false'
            continueOn: {failure: true}
        handlerOn:
          success:
            command: 'false'
        """
    )
    assert report.status == "partially_succeeded"


def test_failing_failure_handler_keeps_failed(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - name: a
            command: 'false'
        handlerOn:
          failure:
            command: 'false'
          exit:
            command: echo exit >> order.txt
        """
    )
    assert report.status == "failed"
    assert order(tmp_path) == ["exit"]


def test_unmet_dag_precondition_cancels_and_runs_cancel_then_exit(run_dag, tmp_path):
    report = run_dag(
        """
        preconditions:
          - condition: test -f ready.flag
        steps:
          - name: main
            command: touch main-ran
        handlerOn:
          init:
            command: touch init-ran
          cancel:
            command: echo "cancel:$DAG_RUN_STATUS" >> order.txt
          failure:
            command: echo failure >> order.txt
          exit:
            command: echo "exit:$DAG_RUN_STATUS" >> order.txt
        """
    )
    assert report.status == "canceled"
    assert order(tmp_path) == ["cancel:canceled", "exit:canceled"]
    assert not (tmp_path / "main-ran").exists() and not (tmp_path / "init-ran").exists()
    assert phases(report)["main"] == "not_started"
    assert "onInit" not in phases(report)


def test_abort_is_an_alias_of_cancel(run_dag, tmp_path):
    report = run_dag(
        """
        preconditions:
          - condition: disabled
            expected: enabled
        steps:
          - name: main
            command: 'true'
        handler_on:
          abort:
            command: echo abort >> order.txt
        """
    )
    assert report.status == "canceled"
    assert order(tmp_path) == ["abort"]
    assert phases(report)["onCancel"] == "succeeded"


def test_failing_cancel_handler_keeps_canceled(run_dag):
    report = run_dag(
        """
        preconditions: ["false"]
        steps:
          - name: main
            command: 'true'
        handlerOn:
          cancel:
            command: 'false'
        """
    )
    assert report.status == "canceled"
    assert phases(report)["onCancel"] == "failed"


def test_init_runs_first_and_its_failure_cancels_the_run(run_dag, tmp_path):
    ok = run_dag(
        """
        steps:
          - name: main
            command: echo main >> order.txt
        handlerOn:
          init:
            command: echo "init:$DAG_RUN_STEP_NAME" >> order.txt
          exit:
            command: echo exit >> order.txt
        """
    )
    assert ok.status == "succeeded"
    assert order(tmp_path) == ["init:onInit", "main", "exit"]
    (tmp_path / "order.txt").unlink()
    bad = run_dag(
        """
        steps:
          - name: main
            command: echo main >> order.txt
        handlerOn:
          init:
            command: 'false'
          cancel:
            command: echo cancel >> order.txt
          exit:
            command: echo exit >> order.txt
        """
    )
    assert bad.status == "canceled"
    assert order(tmp_path) == ["cancel", "exit"]
    assert phases(bad)["main"] == "not_started"
    assert phases(bad)["onInit"] == "failed"


def test_dag_timeout_fails_the_run_and_runs_failure_then_exit(run_dag, tmp_path):
    report = run_dag(
        dedent("""
        timeoutSec: 1
        steps:
          - name: slow
            command: sleep 30
          - name: after
            command: 'true'
        """) + HANDLERS
    )
    assert report.status == "failed"
    assert order(tmp_path) == ["failure:failed", "exit:failed"]
    p = phases(report)
    assert p["slow"] == "canceled" and p["after"] == "canceled"
    assert "timeout" in report.message


def test_handlers_see_run_variables_and_step_outputs(run_dag, tmp_path):
    report = run_dag(
        """
        name: env-check
        steps:
          - name: produce
            command: echo hello-output
            output: GREETING
        handlerOn:
          success:
            script: |
              {
                echo "status=$DAG_RUN_STATUS"
                echo "name=$DAG_NAME"
                echo "id=$DAG_RUN_ID"
                echo "log=$DAG_RUN_LOG_FILE"
                echo "step=$DAG_RUN_STEP_NAME"
                echo "greeting=$GREETING"
                echo "stdout_file=${DAG_RUN_STEP_STDOUT_FILE:-UNSET}"
              } > handler-env.txt
          exit:
            command: sh -c 'echo "step=$DAG_RUN_STEP_NAME" > exit-env.txt'
        """
    )
    assert report.status == "succeeded"
    lines = dict(line.split("=", 1) for line in read(tmp_path / "handler-env.txt").splitlines())
    assert lines["status"] == "succeeded"
    assert lines["name"] == "env-check"
    assert lines["id"] == report.run_id
    assert lines["log"].endswith("run.log") and report.run_id in lines["log"]
    assert lines["step"] == "onSuccess"
    assert lines["greeting"] == "hello-output"
    assert lines["stdout_file"] == "UNSET"  # Dagu does not set step log paths in handlers
    assert read(tmp_path / "exit-env.txt").strip() == "step=onExit"
    assert report.outputs == {"GREETING": "hello-output"}


def test_handler_precondition_unmet_skips_without_failing(run_dag):
    report = run_dag(
        """
        steps:
          - name: a
            command: 'true'
        handlerOn:
          success:
            preconditions: ["false"]
            command: 'false'
        """
    )
    assert report.status == "succeeded"
    assert phases(report)["onSuccess"] == "skipped"


def test_zero_steps_succeeds_and_runs_success_then_exit(run_dag, tmp_path):
    report = run_dag(HANDLERS)
    assert report.status == "succeeded"
    assert order(tmp_path) == ["success:succeeded", "exit:succeeded"]


def test_unwritable_log_folder_falls_back_and_handlers_still_run(run_dag, tmp_path, monkeypatch):
    """The log root is not a folder (ENOTDIR, as a full or read-only disk refuses writes):
    the run's files go to the temp folder, claims still hold, steps and handlers run."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(blocker / "logs"))
    report = run_dag("""
        name: nolog
        steps:
          - name: a
            command: echo hi
        handlerOn:
          success:
            command: sh -c 'echo success >> handlers.txt'
          exit:
            command: sh -c 'echo exit >> handlers.txt'
    """)
    assert report.status == "succeeded", report.message
    assert (tmp_path / "handlers.txt").read_text().split() == ["success", "exit"]
    from flowport.adapter.runfiles import fallback_run_dir

    folder = fallback_run_dir("nolog", report.run_id)
    try:
        assert report.log_dir == str(folder)
        assert sorted(p.name for p in (folder / "claims").iterdir()) == ["finished", "handler-exit", "handler-success", "started"]
        assert (folder / "a.out").read_text() == "hi\n"
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)  # the fallback lives in the shared temp folder
