"""The shared test helpers (testkit): waits stop at once when their subprocess has died."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from testkit.procs import alive, wait_for, wait_until


def test_wait_for_fails_at_once_with_the_exit_code_and_output_tail(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "print('boom happened'); raise SystemExit(3)"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"(?s)exited with code 3.*boom happened"):
        wait_for(tmp_path / "never.txt", timeout=60, proc=proc)
    assert time.monotonic() - started < 10


def test_wait_for_reads_a_log_file_when_there_is_no_pipe(tmp_path):
    log = tmp_path / "out.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", "print('in the log'); raise SystemExit(5)"],
                                stdout=out, stderr=subprocess.STDOUT)
    with pytest.raises(AssertionError, match=r"(?s)exited with code 5.*in the log"):
        wait_for(tmp_path / "never.txt", timeout=60, proc=proc, log=log)


def test_wait_for_returns_what_a_process_wrote_before_it_exited(tmp_path):
    target = tmp_path / "pid.txt"
    proc = subprocess.Popen([sys.executable, "-c", f"open({str(target)!r}, 'w').write('42\\n')"])
    proc.wait()
    assert wait_for(target, timeout=5, proc=proc) == "42"


def test_wait_until_times_out_without_a_process():
    with pytest.raises(AssertionError, match="nothing: not within 0.2 s"):
        wait_until(lambda: False, 0.2, "nothing")


def test_a_zombie_is_not_alive_and_a_running_process_is():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert alive(proc.pid)
        proc.kill()  # not reaped yet: a zombie until wait()
        wait_until(lambda: not alive(proc.pid), 5, "the killed child still counts as alive")
    finally:
        proc.kill()
        proc.wait()
    assert not alive(proc.pid)


def test_no_test_file_name_is_shared_by_tests_and_integration():
    """pytest (rootdir conftest, no packages) refuses two test modules with one basename:
    `pytest tests integration` would stop at collection."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    names = [p.name for folder in ("tests", "integration") for p in (root / folder).glob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
