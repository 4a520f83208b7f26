"""Dagu's step and run status rules (research/dagu.md §2.3-2.6), run for real."""

from __future__ import annotations

import time

from testkit.reports import phases, read


def test_failed_dependency_cancels_dependants_but_not_independent_branches(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - name: bad
            command: 'false'
          - name: child
            command: touch child-ran
            depends: [bad]
          - name: grandchild
            command: 'true'
            depends: [child]
          - name: other
            command: touch other-ran
            depends: []
        """
    )
    assert report.status == "failed"
    p = phases(report)
    assert p == {"bad": "failed", "child": "canceled", "grandchild": "canceled", "other": "succeeded"}
    assert not (tmp_path / "child-ran").exists() and (tmp_path / "other-ran").exists()
    assert "upstream" in report.node("child").message


def test_continue_on_failure_lets_dependants_run_and_partially_succeeds(run_dag):
    report = run_dag(
        """
        steps:
          - name: soft
            command: 'exit 4'
            continueOn: {failure: true}
          - name: next
            command: 'true'
        """
    )
    assert report.status == "partially_succeeded"
    assert phases(report) == {"soft": "failed", "next": "succeeded"}


def test_lone_continued_failure_is_failed_not_partial(run_dag):
    report = run_dag("steps:\n  - name: soft\n    command: 'false'\n    continueOn: {failure: true}\n")
    assert report.status == "failed"


def test_mark_success_turns_the_step_succeeded(run_dag):
    report = run_dag(
        "steps:\n  - name: soft\n    command: 'false'\n    continueOn: {failure: true, markSuccess: true}\n"
    )
    assert report.status == "succeeded"
    assert phases(report)["soft"] == "succeeded"


def test_continue_on_exit_code_and_output(run_dag):
    report = run_dag(
        """
        type: graph
        steps:
          - name: code
            command: 'exit 7'
            continueOn: {exitCode: [7]}
          - name: other-code
            command: 'exit 8'
            continueOn: {exitCode: [7]}
          - name: text
            command: sh -c 'echo "WARN disk almost full"; exit 1'
            continueOn: {output: ["re:^WARN"]}
          - name: after-code
            command: 'true'
            depends: [code]
          - name: after-other
            command: 'true'
            depends: [other-code]
          - name: after-text
            command: 'true'
            depends: [text]
        """
    )
    p = phases(report)
    assert p["after-code"] == "succeeded" and p["after-text"] == "succeeded"
    assert p["after-other"] == "canceled"
    assert report.status == "failed"


def test_skipped_step_skips_dependants_unless_continue_on_skipped(run_dag):
    report = run_dag(
        """
        steps:
          - name: gate
            command: 'true'
            preconditions:
              - condition: "`echo no`"
                expected: "yes"
          - name: needs-gate
            command: 'true'
            depends: [gate]
          - name: gate2
            command: 'true'
            preconditions: ["test -f /nonexistent-file"]
            continueOn: {skipped: true}
            depends: []
          - name: needs-gate2
            command: 'true'
            depends: [gate2]
        """
    )
    assert report.status == "succeeded"
    assert phases(report) == {"gate": "skipped", "needs-gate": "skipped", "gate2": "skipped", "needs-gate2": "succeeded"}


def test_regex_precondition_and_output_variables(run_dag):
    report = run_dag(
        """
        steps:
          - name: make
            command: echo "abc run def"
            output: OUT1
          - name: check
            command: echo match
            output: OUT2
            preconditions:
              - condition: "$OUT1"
                expected: "re:^abc.*def$"
        """
    )
    assert report.outputs == {"OUT1": "abc run def", "OUT2": "match"}


def test_outputs_reach_downstream_steps_only(run_dag, tmp_path):
    report = run_dag(
        """
        type: graph
        steps:
          - name: a
            command: echo from-a
            output: A_OUT
          - name: downstream
            command: sh -c 'echo "[${A_OUT}]" > down.txt'
            depends: [a]
          - name: unrelated
            command: sh -c 'sleep 1; echo "[${A_OUT:-unset}]" > unrelated.txt'
        """
    )
    assert report.status == "succeeded"
    assert read(tmp_path / "down.txt").strip() == "[from-a]"
    assert read(tmp_path / "unrelated.txt").strip() == "[unset]"


def test_json_path_into_an_output(run_dag):
    report = run_dag(
        """
        steps:
          - name: config
            command: echo '{"host":"localhost","port":8080}'
            output: CONFIG
          - name: use
            command: echo "Starting server at ${CONFIG.host}:${CONFIG.port}"
            output: OUT1
        """
    )
    assert report.outputs["OUT1"] == "Starting server at localhost:8080"


def test_retry_until_success_and_exit_code_filter(run_dag, tmp_path):
    report = run_dag(
        """
        type: graph
        steps:
          - name: flaky
            command: sh -c 'n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; [ $n -ge 3 ]'
            retryPolicy: {limit: 3, intervalSec: 0}
          - name: wrong-code
            command: sh -c 'echo x >> tries; exit 2'
            retryPolicy: {limit: 3, intervalSec: 0, exitCode: [1]}
        """
    )
    assert phases(report)["flaky"] == "succeeded"
    assert read(tmp_path / "n").strip() == "3"
    assert phases(report)["wrong-code"] == "failed"
    assert read(tmp_path / "tries").split() == ["x"]  # exit 2 is not in exitCode: no retry


def test_step_timeout_fails_with_124_and_is_not_retried(run_dag, tmp_path):
    started = time.monotonic()
    report = run_dag(
        """
        steps:
          - name: slow
            command: sh -c 'echo try >> tries; sleep 30'
            timeoutSec: 1
            retryPolicy: {limit: 2}
        """
    )
    assert time.monotonic() - started < 20
    node = report.node("slow")
    assert node.phase == "failed" and node.exit_code == 124 and "timed out" in node.message
    assert read(tmp_path / "tries").split() == ["try"]


def test_chain_is_the_default_without_depends(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - command: sh -c 'sleep 0.3; echo 1 >> seq'
          - command: sh -c 'echo 2 >> seq'
          - command: sh -c 'echo 3 >> seq'
        """
    )
    assert [n.name for n in report.nodes] == ["cmd_1", "cmd_2", "cmd_3"]
    assert read(tmp_path / "seq").split() == ["1", "2", "3"]


def test_parallel_group_in_a_chain(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - name: first
            command: 'true'
          - - name: p1
              command: 'false'
            - name: p2
              command: 'true'
          - name: last
            command: 'true'
        """
    )
    p = phases(report)
    assert p == {"first": "succeeded", "p1": "failed", "p2": "succeeded", "last": "canceled"}


def test_max_active_steps_bounds_concurrency(run_dag, tmp_path):
    steps = "\n".join(
        f"  - name: s{i}\n    command: sh -c 'echo start >> log; sleep 0.3; echo end >> log'" for i in range(4)
    )
    report = run_dag("type: graph\nmaxActiveSteps: 2\nsteps:\n" + steps + "\n")
    assert report.status == "succeeded"
    depth = peak = 0
    for line in read(tmp_path / "log").split():
        depth += 1 if line == "start" else -1
        peak = max(peak, depth)
    assert peak == 2


def test_params_positional_named_and_overridden(run_dag, tmp_path):
    report = run_dag(
        """
        params: first P1=foo P2=${P1}-bar Z="A B C"
        steps:
          - name: show
            command: echo "$1|$P1|$P2|$Z" > p.txt
        """,
        params=[("P1", "cli")],
    )
    assert report.status == "succeeded"
    assert read(tmp_path / "p.txt").strip() == "first|cli|cli-bar|A B C"
    assert report.params["P1"] == "cli"


def test_env_list_is_evaluated_in_order_and_step_env_wins(run_dag, tmp_path):
    run_dag(
        """
        env:
          - BASE: /data
          - OUT: ${BASE}/out
        steps:
          - name: a
            env:
              - OUT: ${OUT}/step
            command: sh -c 'echo "$OUT" > env.txt'
        """
    )
    assert read(tmp_path / "env.txt").strip() == "/data/out/step"


def test_argv_command_runs_without_a_shell_and_script_honours_shebang(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - name: argv
            command: [echo, "$HOME", "a;b"]
            output: ARGV
          - name: py
            script: |
              #!/usr/bin/env python3
              print(6 * 7)
            output: PY
        """
    )
    assert report.outputs["ARGV"].endswith("a;b")
    assert report.outputs["PY"] == "42"


def test_single_quotes_keep_positional_literal(run_dag):
    report = run_dag(
        """
        params: "foo bar"
        steps:
          - name: a
            command: echo '$1 is' $1
            output: OUT
        """
    )
    assert report.outputs["OUT"] == "$1 is foo"


def test_step_stdout_and_stderr_stream_to_separate_logs(run_dag):
    report = run_dag("steps:\n  - name: a\n    command: sh -c 'echo out; echo err >&2'\n    output: O\n")
    assert report.outputs["O"] == "out"
    from pathlib import Path

    assert Path(report.log_dir, "a.out").read_text() == "out\n"
    assert Path(report.log_dir, "a.err").read_text() == "err\n"
