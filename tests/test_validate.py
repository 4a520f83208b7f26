"""Bad input: every file in tests/broken names, in its first line, the location and the
message (and hint) `flowport validate` must report: `# expect: LINE:COL text | hint`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowport.translators import check

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))


def expectation(path: Path) -> tuple[int, int, str, str | None]:
    first = path.read_text().splitlines()[0]
    m = re.match(r"# expect: (\d+):(\d+) ([^|]+?)\s*(?:\| (.*))?$", first)
    assert m, f"{path.name}: first line must be '# expect: L:C message | hint'"
    return int(m[1]), int(m[2]), m[3], m[4]


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_dag_is_reported_at_its_location(path):
    line, col, text, hint = expectation(path)
    result = check(path)
    assert not result.ok and result.workflow is None
    rendered = result.error().render()
    match = [p for p in result.problems if p.mark and (p.mark.line, p.mark.col) == (line, col)]
    assert match, f"no problem at {line}:{col}; got:\n{rendered}"
    assert f"{path}:{line}:{col}:" in rendered
    if not text.endswith(":"):
        assert any(text in p.message or text in rendered for p in match), rendered
    if hint:
        assert any(p.hint and hint in p.hint for p in match), rendered
    # the excerpt shows the line and a caret under the column
    source_line = path.read_text().splitlines()[line - 1]
    assert source_line in rendered
    assert re.search(r"\|\s{%d}\^" % col, rendered), rendered


def test_all_problems_are_reported_at_once(tmp_path):
    dag = tmp_path / "many.yaml"
    dag.write_text(
        "steps:\n"
        "  - name: a\n"
        "    comand: x\n"
        "    retryPolicy: {limit: many}\n"
        "handlerOn:\n"
        "  sucess: {command: x}\n"
    )
    result = check(dag)
    assert len(result.problems) == 3
    assert [p.mark.line for p in result.problems] == [3, 4, 6]


def test_validate_cli_exit_codes_and_json(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("steps:\n  - command: 'true'\n")
    bad = BROKEN[0]
    ok = subprocess.run([sys.executable, "-m", "flowport.cli", "validate", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run(
        [sys.executable, "-m", "flowport.cli", "validate", "--json", str(good), str(bad)],
        capture_output=True, text=True,
    )
    assert failed.returncode == 2
    doc = json.loads(failed.stdout)
    assert [d["ok"] for d in doc] == [True, False]
    problem = doc[1]["problems"][0]
    assert {"file", "line", "col", "path", "message", "hint", "kind"} <= set(problem)


def test_unsupported_fields_are_never_ignored(tmp_path):
    dag = tmp_path / "mail.yaml"
    dag.write_text("waitMail: {to: a@x.org}\nsteps:\n  - command: 'true'\n    foreach: [a, b]\n")
    result = check(dag)
    kinds = {(p.mark.line, p.kind) for p in result.problems}
    assert kinds == {(1, "unsupported"), (4, "unsupported")}


def test_oversized_file_is_refused(tmp_path):
    dag = tmp_path / "huge.yaml"
    dag.write_text("steps:\n" + "  - command: 'true'\n" * 400_000)
    result = check(dag)
    assert not result.ok
    assert "limit" in result.problems[0].message


def test_alias_bomb_is_refused(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    lines.append("steps: [*j]")
    dag = tmp_path / "bomb.yaml"
    dag.write_text("\n".join(lines) + "\n")
    result = check(dag)
    assert not result.ok
    assert "alias" in result.error().render().lower()


def test_unknown_docker_executor_keys_are_ignored_as_dagu_ignores_them(tmp_path):
    """Dagu decodes the docker executor's config with mapstructure, unknown keys dropped
    (runtime/builtin/docker/config.go): such a file runs there, so it is accepted here, with
    a note that keeps the did-you-mean."""
    from flowport.translators import check

    path = tmp_path / "typo.yaml"
    path.write_text("steps:\n  - name: a\n    command: echo hi\n    executor:\n      type: docker\n"
                    "      config:\n        image: alpine\n        host:\n          CapDorp: [ALL]\n"
                    "          env: [A=1]\n")
    checked = check(path)
    assert checked.ok, checked.error().render()
    notes = " ".join(checked.workflow.ignored)
    assert "steps[0].executor.config.host.CapDorp" in notes and "CapDrop" in notes
    assert "steps[0].executor.config.host.env" in notes
