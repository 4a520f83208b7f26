"""Issue 10, item 3: every input gets an answer, never a traceback. `validate`, `plan` and
`plan --json` answer each file below with success (exit 0) or with problems placed at
`file:line:col` (exit 2). Crashers with a fixed message also have a fixture in tests/broken."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pytest
from rich.console import Console
from typer.testing import CliRunner

from flowport.cli.app import app
from flowport.cli.views import render_plan, render_summary
from flowport.translators import check

ARGO = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
BIG = "9" * 400

# name -> YAML text: each crashed `validate`/`plan` with a traceback before issue 10
CRASHERS = {
    "tag_int_empty": 'steps:\n  - name: a\n    command: echo\n    retryPolicy: {limit: !!int ""}\n',
    "tag_float_empty": 'steps:\n  - name: a\n    command: echo\n    retryPolicy: {limit: 1, intervalSec: !!float ""}\n',
    "tag_bool_word": "steps:\n  - name: a\n    command: echo\n    continueOn: {failure: !!bool failure}\n",
    "tag_timestamp_word": "steps:\n  - name: a\n    command: !!timestamp x\n",
    "tag_binary_key": "steps:\n  - name: a\n    command: echo\n    env:\n      !!binary aGVsbG8=: x\n",
    "argo_generate_name_list": ARGO.replace("{name: x}", "\n  generateName: [x]")
    + "spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine}\n",
    "executor_list": "steps:\n  - name: a\n    executor: [docker]\n    command: echo\n",
    "executor_type_list": "steps:\n  - name: a\n    executor: {type: [docker]}\n    command: echo\n",
    "action_without_with": "steps:\n  - name: a\n    action: docker.run\n",
    "docker_unclosed_quote": "steps:\n  - name: a\n    executor: {type: docker, config: {image: alpine}}\n"
    '    command: echo "unterminated\n',
    "container_unclosed_quote": 'steps:\n  - name: a\n    container: {image: alpine}\n    command: echo "x\n',
    "dag_container_unclosed_quote": 'container: {image: alpine}\nsteps:\n  - name: a\n    command: echo "x\n',
    "shell_unclosed_quote": 'steps:\n  - name: a\n    shell: bash "-e\n    command: echo\n',
    "nul_in_dir": 'steps:\n  - name: a\n    command: ls\n    dir: "/tmp/\\0x"\n',
    "nul_in_key": 'steps:\n  - name: a\n    command: ls\n    env: {"A\\0": x}\n',
    "argo_cron_without_spec": "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata:\n  name: x\n",
    "int_400_digits_retry": f"steps:\n  - name: a\n    command: echo\n    retryPolicy: {{limit: {BIG}}}\n",
    "int_400_digits_timeout": f"timeoutSec: {BIG}\nsteps:\n  - command: echo\n",
    "int_400_digits_max_active": f"maxActiveSteps: {BIG}\nsteps:\n  - command: echo\n",
    "int_400_digits_argo": ARGO + f"spec:\n  entrypoint: main\n  activeDeadlineSeconds: {BIG}\n  templates:\n"
    "  - name: main\n    container: {image: alpine}\n",
    "int_400_digits_argo_retry": ARGO + "spec:\n  entrypoint: main\n  templates:\n"
    f"  - name: main\n    retryStrategy: {{limit: {BIG}}}\n    container: {{image: alpine}}\n",
    "float_inf": "timeoutSec: .inf\nsteps:\n  - command: echo\n",
    "markup_names": 'steps:\n  - name: "[/red]"\n    command: echo "[bold]"\n  - name: "[bold]x"\n    depends: ["[/red]"]\n'
    "    command: echo\n",
    "markup_argo": "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: '[/red]'}\nspec:\n"
    "  entrypoint: main\n  templates:\n  - name: main\n    steps: [[{name: '[/b]', template: t}]]\n"
    "  - name: t\n    container: {image: '[/x]'}\n",
    "nesting_too_deep": "steps: " + "[" * 3000 + "]" * 3000 + "\n",
    "nesting_too_deep_block": "steps:\n" + "".join("  " * i + "- \n" for i in range(1, 300)),
    "empty": "",
    "comment_only": "# nothing here\n",
    "set_of_steps": "steps: !!set {a, b}\n",
    "omap_step": "steps:\n  - !!omap [{name: a}, {command: echo}]\n",
}


def _write(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(CRASHERS))
@pytest.mark.parametrize("command", [["validate"], ["plan"], ["plan", "--json"]], ids=" ".join)
def test_cli_answers_with_success_or_problems(tmp_path, name, command):
    path = _write(tmp_path, name, CRASHERS[name])
    result = CliRunner().invoke(app, [*command, str(path)])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        "".join(__import__("traceback").format_exception(result.exception)))
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert f"{path}" in result.output  # every problem names its file


def test_cli_in_a_subprocess_never_prints_a_traceback(tmp_path):
    paths = [str(_write(tmp_path, name, text)) for name, text in sorted(CRASHERS.items())]
    for command in (["validate", *paths], ["plan", paths[0]], ["plan", "--json", paths[1]]):
        done = subprocess.run([sys.executable, "-m", "flowport.cli", *command], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode in (0, 2), done.stderr[-3000:]
        assert "Traceback" not in done.stdout + done.stderr


def _problems(tmp_path, name):
    result = check(_write(tmp_path, name, CRASHERS[name]))
    assert not result.ok
    return result


@pytest.mark.parametrize("name", ["empty", "comment_only"])
def test_an_empty_file_is_named(tmp_path, name):
    result = _problems(tmp_path, name)
    assert result.error().render().startswith(f"{tmp_path / name}.yaml: error: the file holds no YAML document")


@pytest.mark.parametrize("name, line, col, path", [
    ("int_400_digits_retry", 4, 26, "steps[0].retryPolicy.limit"),
    ("int_400_digits_timeout", 1, 13, "timeoutSec"),
    ("int_400_digits_max_active", 1, 17, "maxActiveSteps"),
    ("int_400_digits_argo", 6, 26, "spec.activeDeadlineSeconds"),
    ("int_400_digits_argo_retry", 8, 28, "spec.templates[0].retryStrategy.limit"),
    ("float_inf", 1, 13, "timeoutSec"),
])
def test_huge_numbers_are_refused_where_they_are(tmp_path, name, line, col, path):
    problem = _problems(tmp_path, name).problems[0].to_dict()
    assert (problem["line"], problem["col"], problem["path"]) == (line, col, path)
    assert problem["hint"] == "numbers here are at most 9223372036854775807 (a 64-bit integer)"


def test_too_deep_nesting_gives_the_line(tmp_path):
    for name in ("nesting_too_deep", "nesting_too_deep_block"):
        problem = _problems(tmp_path, name).problems[0]
        assert problem.message == "nesting is deeper than 200 levels"
        assert problem.mark.line > 0 and problem.mark.col > 0


def test_a_file_name_with_a_nul_character(tmp_path):
    result = check(str(tmp_path / "a\0b.yaml"))
    assert [p.message for p in result.problems] == ["cannot read file: its name contains a NUL character"]
    assert "\0" not in result.error().render()


def test_a_shell_command_in_the_dag_container_with_an_unclosed_quote(tmp_path):
    problem = _problems(tmp_path, "dag_container_unclosed_quote").problems[0]
    assert problem.message == "cannot split the command into words: no closing quotation"
    assert (problem.mark.line, problem.mark.col) == (3, 5)


def _plan_text(wf) -> str:
    buf = io.StringIO()
    render_plan(Console(file=buf, width=200), wf)
    return buf.getvalue()


def test_names_with_rich_markup_print_as_written(tmp_path):
    for name, expected in (("markup_names", ["[/red]", "[bold]x", 'echo "[bold]"']),
                           ("markup_argo", ["[/red]", "[/b]", "container [/x]"])):
        result = check(_write(tmp_path, name, CRASHERS[name]))
        assert result.ok, result.error().render()
        text = _plan_text(result.workflow)
        for literal in expected:
            assert literal in text


def test_run_summaries_print_markup_as_written():
    from flowport.adapter.report import NodeReport, RunReport

    node = NodeReport(name="[/red]", display_name="[/red]", kind="step", phase="failed", exit_code=1,
                      started_at=None, finished_at=None, message="[bold]boom", template="[/t]")
    for dialect in ("dagu-v1", "argo"):
        report = RunReport(workflow="[/wf]", dialect=dialect, status="failed", message="[/m]", started_at=None,
                           finished_at=None, params={}, nodes=[node], outputs={"[/o]": "[/v]"}, run_id="[/r]",
                           log_dir="[/l]")
        buf = io.StringIO()
        render_summary(Console(file=buf, width=200), report)
        for literal in ("[/red]", "[bold]boom", "[/m]", "[/r]"):
            assert literal in buf.getvalue()


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def test_plan_is_linear_in_a_long_parameter_value(tmp_path):
    # 32,000 characters took 18 s: rich's repr highlighter ran its regexes over the value
    def plan_of(n):
        wf = check(_write(tmp_path, f"p{n}", f'params: "P={"x" * n}"\nsteps:\n  - command: echo ${{P}}\n')).workflow
        return _timed(lambda: _plan_text(wf))

    _, short = plan_of(1_000)
    text, long = plan_of(64_000)
    assert "params:" in text and text.count("x") >= 64_000
    assert long < 2 + 20 * short, (short, long)


def _tagged_bomb(tag: str) -> str:
    first = {"pairs": "!!pairs [{k: x},{k: x},{k: x},{k: x},{k: x},{k: x},{k: x},{k: x},{k: x}]",
             "set": "!!set {a, b, c, d, e, f, g, h, i}",
             "omap": "!!omap [{a: 1},{b: 1},{c: 1},{d: 1},{e: 1},{f: 1},{g: 1},{h: 1},{i: 1}]"}[tag]
    lines = [f"a: &a {first}"]
    for i in range(1, 12):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        if tag == "omap" and i % 2:
            lines.append(f"{cur}: &{cur} !!omap [" + ",".join("{k%d: *%s}" % (j, prev) for j in range(9)) + "]")
        elif tag == "pairs" and i % 2:
            lines.append(f"{cur}: &{cur} !!pairs [" + ",".join("{k: *%s}" % prev for _ in range(9)) + "]")
        else:
            lines.append(f"{cur}: &{cur} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    lines.append("steps: [*l]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("tag", ["pairs", "set", "omap"])
def test_alias_bombs_through_tagged_collections_are_refused_quickly(tmp_path, tag):
    path = tmp_path / f"bomb_{tag}.yaml"
    path.write_text(_tagged_bomb(tag))
    result, seconds = _timed(lambda: check(path))
    assert not result.ok
    assert "alias '*" in result.problems[0].message and "expand" in result.problems[0].message
    assert seconds < 5


def test_a_problem_reached_through_many_aliases_is_reported_once(tmp_path):
    text = ("x-bad: &bad {name: b, command: echo, retryPolicy: {limit: !!int ''}}\n"
            "x-odd: &odd !!omap [{a: 1}]\n"
            "steps:\n" + "".join(f"  - *{'bad' if i % 2 else 'odd'}\n" for i in range(40)))
    result = check(_write(tmp_path, "aliases", text))
    messages = [(p.message, p.mark.line, p.mark.col) for p in result.problems]
    assert len(messages) == len(set(messages)), result.error().render()
    assert ("cannot read '' as int", 1, 59) in messages

    text = "x-odd: &odd !!omap [{a: 1}]\nsteps:\n" + "  - *odd\n" * 40
    result = check(_write(tmp_path, "odd", text))
    tuples = [p for p in result.problems if p.message == "a step is a mapping or a command string, got tuple"]
    assert len(tuples) == 1 and tuples[0].mark.line == 1


def test_too_deep_nesting_gives_the_line_without_libyaml_too(tmp_path, monkeypatch):
    # the pure-Python composer (no libyaml) ends in RecursionError: the line is found from the events
    from flowport.translators.source import limits

    monkeypatch.setattr(limits, "_compose_into", lambda text, loader, out, failure: failure.append(RecursionError()))
    problem = _problems(tmp_path, "nesting_too_deep_block").problems[0]
    assert problem.message == "nesting is deeper than 200 levels"
    assert (problem.mark.line, problem.mark.col) == (201, 401)


def test_a_bug_in_check_is_still_an_answer_on_the_command_line(tmp_path, monkeypatch):
    import flowport.translators

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(flowport.translators, "check", broken)
    path = _write(tmp_path, "fine", "steps:\n  - command: echo\n")
    for command in (["validate"], ["plan"], ["plan", "--json"], ["run"]):
        result = CliRunner().invoke(app, [*command, str(path)])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert f"{path}: error: flowport failed while checking this file (KeyError: 'boom')" in result.output
