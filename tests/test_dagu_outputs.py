"""Dagu step properties (`${id.stdout|stderr|exitCode|output}`), the structured `output:` map
and run artifacts (`artifacts:`, `stdout/stderr: {artifact: …}`), run for real."""

from __future__ import annotations

import json
from pathlib import Path

from testkit.reports import phases, read

from flowport.translators import check


def test_structured_output_is_published_as_step_output(run_dag, tmp_path):
    report = run_dag("""
        type: graph
        params:
          - name: environment
            default: prod
        steps:
          - id: build
            command: |
              echo '{"version": "v1.2.3", "artifact": {"url": "https://example.test/r.tgz"}, "n": [1, 2]}'
              echo '{"warning": "retry required"}' >&2
              printf 'kind: nightly\\n' > meta.yaml
            output:
              version: {from: stdout, decode: json, select: .version}
              artifact: {from: stdout, decode: json, select: .artifact}
              second: {from: stdout, decode: json, select: ".n[1]"}
              warning: {from: stderr, decode: json, select: .warning}
              kind: {from: file, path: meta.yaml, decode: yaml, select: .kind}
              env: "${params.environment}"
              fixed: {value: {nested: [1, "${params.environment}"]}}
          - id: use
            depends: [build]
            command: >-
              echo "v=${build.output.version} url=${build.output.artifact.url}
              n=${build.output.second} w=${build.output.warning} k=${build.output.kind}
              e=${build.output.env} f=${build.output.fixed.nested[1]}" > use.txt
    """)
    assert report.status == "succeeded", report.message
    assert read(tmp_path / "use.txt").split() == [
        "v=v1.2.3", "url=https://example.test/r.tgz", "n=2", "w=retry", "required", "k=nightly", "e=prod", "f=prod"]
    build = next(n for n in report.nodes if n.name == "build")
    assert build.outputs["version"] == "v1.2.3"
    assert json.loads(build.outputs["artifact"]) == {"url": "https://example.test/r.tgz"}
    assert json.loads(build.outputs["fixed"]) == {"nested": [1, "prod"]}


def test_string_output_and_step_properties(run_dag, tmp_path):
    report = run_dag("""
        type: graph
        steps:
          - id: build
            command: |
              echo '{"v": "1.2"}'
            output: BUILD
          - id: quiet
            command: sh -c 'echo oops >&2; exit 3'
            continueOn: {failure: true}
          - id: use
            depends: [build, quiet]
            command: >-
              echo "${build.output.v} ${build.exitCode} ${quiet.exit_code}" > use.txt;
              cat "${build.stdout}" > copy.txt; cat "${quiet.stderr}" >> copy.txt
    """)
    assert phases(report)["use"] == "succeeded", report.message
    assert read(tmp_path / "use.txt").split() == ["1.2", "0", "3"]
    assert read(tmp_path / "copy.txt").split() == ['{"v":', '"1.2"}', "oops"]


def test_properties_are_seen_by_downstream_steps_and_handlers_only(run_dag, tmp_path):
    report = run_dag("""
        type: graph
        steps:
          - id: first
            command: echo one
            output: ONE
          - id: unrelated
            command: echo "[${first.output}]" > unrelated.txt
          - name: no_id
            command: echo two
            output: TWO
          - id: later
            depends: [first, no_id]
            command: echo '[${first.output}] [${no_id.exitCode}]' > later.txt
          - id: gated
            depends: [first]
            preconditions:
              - condition: "${first.output}:${first.exitCode}"
                expected: "one:0"
            command: touch gated-ran
        handlerOn:
          exit:
            command: echo "[${first.output}] [${later.exitCode}]" > handler.txt
    """)
    # not upstream: left for the shell, which has no such variable
    assert phases(report)["unrelated"] == "failed"
    # steps without an `id` have no properties (Dagu's step map holds ids only)
    assert read(tmp_path / "later.txt").strip() == "[one] [${no_id.exitCode}]"
    assert read(tmp_path / "handler.txt").strip() == "[one] [0]"
    assert (tmp_path / "gated-ran").exists()  # preconditions see upstream step properties


def test_an_output_that_cannot_be_decoded_fails_the_step(run_dag, tmp_path):
    report = run_dag("""
        steps:
          - id: build
            command: echo not-json
            output:
              version: {from: stdout, decode: json, select: .version}
          - name: after
            command: touch after-ran
    """)
    assert report.status == "failed"
    build = next(n for n in report.nodes if n.name == "build")
    assert build.phase == "failed" and "failed to decode JSON" in build.message
    assert not (tmp_path / "after-ran").exists()


def test_stdout_and_stderr_artifacts_land_in_the_run_folder(run_dag, tmp_path):
    report = run_dag("""
        name: reports
        params:
          - name: environment
            default: prod
        artifacts:
          dir: arts
        steps:
          - name: ok
            command: sh -c 'echo to-out; echo to-err >&2'
            stdout:
              artifact: "out/${params.environment}.txt"
            stderr: {artifact: err.txt}
        handlerOn:
          success:
            command: echo "$DAG_RUN_ARTIFACTS_DIR" > where.txt
    """)
    assert report.status == "succeeded", report.message
    (run_folder,) = (tmp_path / "arts" / "reports").iterdir()
    assert run_folder.name.startswith("dag-run_") and run_folder.name.endswith("_" + report.run_id)
    assert read(run_folder / "out" / "prod.txt") == "to-out\n"
    assert read(run_folder / "err.txt") == "to-err\n"
    assert read(tmp_path / "where.txt").strip() == str(run_folder)


def test_artifacts_turn_on_only_when_used(tmp_path):
    dag = tmp_path / "dag.yaml"
    dag.write_text("artifacts:\n  dir: arts\nsteps:\n  - name: a\n    command: 'true'\n")
    assert check(dag).workflow.artifacts_dir is None  # a `dir` alone does not enable them (Dagu)
    dag.write_text("steps:\n  - name: a\n    command: ls \"$DAG_RUN_ARTIFACTS_DIR\"\n")
    assert check(dag).workflow.artifacts_dir == ""  # referenced: on, in flowport's data folder
    dag.write_text("artifacts: {enabled: true, dir: arts}\nsteps:\n  - name: a\n    command: 'true'\n")
    assert Path(check(dag).workflow.artifacts_dir) == Path("arts")


def test_steps_namespace_in_commands_env_preconditions_and_handlers(run_dag, tmp_path):
    """Issue 10 item 7: `${steps.<id>.outputs.<name>}` (Dagu spec 007) resolves in a downstream
    step's command, env and preconditions; other `steps.` forms are not Dagu references and stay
    as written, as do references to steps by name (no `id`), to non-upstream steps and from
    handlers. The legacy `${id.stdout}` family keeps working, in step env too."""
    report = run_dag("""
        steps:
          - id: build
            run: |
              printf 'image=v1.2.3\\n' >> "$DAGU_OUTPUT_FILE"
              echo built
            outputs:
              - name: image
          - name: noid
            run: printf 'tag=t1\\n' >> "$DAGU_OUTPUT_FILE"
            outputs: [tag]
          - id: side
            run: printf 'x=1\\n' >> "$DAGU_OUTPUT_FILE"
            outputs: [x]
          - id: deploy
            depends: [build, noid]
            env:
              - IMAGE: ${steps.build.outputs.image}
              - CODE: ${build.exit_code}
              - OUT: ${build.stdout}
            preconditions:
              - condition: "${steps.build.outputs.image}"
                expected: "v1.2.3"
            run: |
              printf '%s\\n' "cmd=${steps.build.outputs.image} env=$IMAGE code=$CODE" > deploy.txt
              printf '%s\\n' '${steps.build.stdout} ${steps.build.exit_code} ${steps.build.exitCode}' >> deploy.txt
              printf '%s\\n' '${steps.build.output} ${steps.build.outputs.image.x} ${steps.noid.outputs.tag}' >> deploy.txt
              printf '%s\\n' '${steps.side.outputs.x} ${build.outputs.image}' >> deploy.txt
              cat "$OUT" >> deploy.txt
        handler_on:
          exit:
            env:
              - H: ${steps.build.outputs.image}
            run: sh -c 'printf "%s %s\\n" "$H" "$0"' ${build.exit_code} > handler.txt
    """)
    assert report.status == "succeeded", report.message
    assert read(tmp_path / "deploy.txt").splitlines() == [
        "cmd=v1.2.3 env=v1.2.3 code=0",
        "${steps.build.stdout} ${steps.build.exit_code} ${steps.build.exitCode}",
        "${steps.build.output} ${steps.build.outputs.image.x} ${steps.noid.outputs.tag}",
        "${steps.side.outputs.x} v1.2.3",
        "built",
    ]
    assert read(tmp_path / "handler.txt") == "${steps.build.outputs.image} 0\n"
