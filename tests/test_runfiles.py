"""Issue 10, item 5: names that are paths. Step, node and workflow names become file names that
stay inside the log and artifact folders and never share a file (`build.linux` and `build.mac`
both wrote `build.out`: `Path.with_suffix` replaced `.linux`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowport.adapter.runfiles import MAX_STEM, FileNames, run_dir, safe_name

HOSTILE = ["..", ".", "...", "../../etc/passwd", "/etc/passwd", "/", "\\", "C:\\Windows", "a/../../b",
           ".hidden", "", " ", "\0", "é", "a" * 400, "-rf", "~", "$HOME", "build.linux", "[/red]"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_safe_name_stays_in_its_folder(tmp_path, name):
    stem = safe_name(name)
    assert stem and stem not in (".", "..") and not stem.startswith(".")
    assert "/" not in stem and "\\" not in stem and "\0" not in stem
    assert len(stem) <= MAX_STEM + 9
    assert (tmp_path / stem).resolve().parent == tmp_path.resolve()


def test_readable_names_stay_as_written():
    assert [safe_name(n) for n in ("build.linux", "extract <1>", "load-2", "a b")] == \
        ["build.linux", "extract_1", "load-2", "a_b"]


def test_names_that_sanitize_to_the_same_stem_get_their_own_file(tmp_path):
    names = ["build.linux", "build.mac", "build", "a b", "a_b", "a/b", "Build", "..", ".", "", "x" * 300,
             "x" * 300 + "y"]
    files = FileNames(names)
    paths = [files.paths(tmp_path, n, ".out", ".err") for n in names]
    outs = [str(out).lower() for out, _ in paths]
    assert len(set(outs)) == len(names), outs  # unique, also on a case-insensitive disk
    assert files.stem("build.linux") == "build.linux" and files.stem("build.mac") == "build.mac"
    assert files.stem("a_b") == "a_b" and files.stem("a b").startswith("a_b-")  # as written wins
    assert files.stem("build") == "build" and files.stem("Build").startswith("Build-")
    assert files.stem("a b") == files.stem("a b")  # stable
    for out, err in paths:
        assert out.parent == tmp_path and err.parent == tmp_path


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(st.sampled_from("aA./\\ _-é\0:"), max_size=6), unique=True, max_size=8))
def test_file_names_are_unique_and_contained(names):
    files = FileNames(names[: len(names) // 2])
    stems = [files.stem(n) for n in names]
    assert len({s.lower() for s in stems}) == len(names)
    for s in stems:
        assert s not in (".", "..") and "/" not in s and "\\" not in s and "\0" not in s


@pytest.mark.parametrize("name", ["..", "../..", "/", "../../tmp"])
def test_the_run_folder_stays_under_the_log_root(tmp_path, monkeypatch, name):
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path))
    folder = run_dir(name, "run-1").resolve()
    assert folder.parent.parent == tmp_path.resolve()


def test_steps_with_dotted_names_keep_separate_logs(run_dag):
    report = run_dag("""
        steps:
          - name: build.linux
            command: echo linux
          - name: build.mac
            command: echo mac
          - name: ".."
            command: echo dots
          - name: build linux
            command: echo spaced
    """)
    assert report.status == "succeeded", report.message
    logs = Path(report.log_dir)
    assert (logs / "build.linux.out").read_text() == "linux\n"
    assert (logs / "build.mac.out").read_text() == "mac\n"
    texts = sorted(p.read_text() for p in logs.glob("*.out"))
    assert texts == ["dots\n", "linux\n", "mac\n", "spaced\n"]
    assert not (logs.parent / "..out").exists() and not list(logs.parent.glob("*.out"))


def test_a_workflow_named_dot_dot_keeps_its_artifacts_inside(run_dag, tmp_path):
    report = run_dag("""
        name: ".."
        artifacts: {enabled: true, dir: arts}
        steps:
          - name: a
            command: echo hi
    """)
    assert report.status == "succeeded", report.message
    arts = (tmp_path / "arts").resolve()
    made = [p for p in arts.rglob("dag-run_*")]
    assert made and all(p.resolve().is_relative_to(arts) for p in made)
    assert Path(report.log_dir).resolve().parent.name.startswith("step-")
