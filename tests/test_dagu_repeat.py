"""Dagu `repeatPolicy`: while/until by exit code, condition (with the step's own output) or
success, `limit`, and retries inside each repetition; run for real."""

from __future__ import annotations

from testkit.reports import phases, read

from flowport.translators import check

COUNTER = "n=$(( $(cat n 2>/dev/null || echo 0) + 1 )); echo $n > n"


def runs(tmp_path) -> int:
    return int(read(tmp_path / "n").strip() or 0)


def test_repeat_while_exit_code_then_success(run_dag, tmp_path):
    report = run_dag(f"""
        steps:
          - name: poll
            command: sh -c '{COUNTER}; [ $n -ge 3 ]'
            repeatPolicy: {{exitCode: [1], intervalSec: 0}}
          - name: after
            command: touch after-ran
    """)
    assert report.status == "succeeded", report.message
    assert runs(tmp_path) == 3 and (tmp_path / "after-ran").exists()


def test_repeat_true_stops_at_the_limit(run_dag, tmp_path):
    report = run_dag(f"""
        steps:
          - name: tick
            command: sh -c '{COUNTER}'
            repeatPolicy: {{repeat: true, limit: 4, intervalSec: 0}}
    """)
    assert report.status == "succeeded" and runs(tmp_path) == 4


def test_repeat_until_the_condition_on_its_own_output(run_dag, tmp_path):
    report = run_dag(f"""
        steps:
          - name: count
            command: sh -c '{COUNTER}; cat n'
            output: COUNT
            repeatPolicy:
              condition: "$COUNT"
              expected: "2"
    """)
    assert report.status == "succeeded" and runs(tmp_path) == 2
    assert report.outputs["COUNT"] == "2"


def test_repeat_while_success_ends_failed_when_a_run_fails(run_dag, tmp_path):
    report = run_dag(f"""
        steps:
          - name: flaky
            command: sh -c '{COUNTER}; [ $n -lt 2 ]'
            retryPolicy: {{limit: 1, intervalSec: 0}}
            repeatPolicy: {{repeat: while, exitCode: [0], limit: 10}}
    """)
    assert phases(report)["flaky"] == "failed"
    assert runs(tmp_path) == 3  # run 1 ok, run 2 failed and was retried once (run 3), then it stopped


def test_repeat_mode_needs_a_condition(tmp_path):
    dag = tmp_path / "dag.yaml"
    dag.write_text("steps:\n  - name: a\n    command: 'true'\n    repeatPolicy:\n      repeat: until\n")
    rendered = check(dag).error().render()
    assert "dag.yaml:5:15: error: repeat mode 'until' needs `condition` or `exitCode`" in rendered
