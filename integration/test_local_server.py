"""The local Prefect server that stays, for real: `flowport run` without PREFECT_API_URL
starts it once (a spinner meanwhile, Ctrl-C then exits 130 with one line), concurrent and
later runs reuse it, alert links point at it, a SIGKILLed flowport does not keep it alive,
and `flowport server start|stop|status` control it. One FLOWPORT_HOME for the module, so
the module starts the server twice in all (10-20 s each here); every process it starts is
stopped by its PID at the end."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from testkit.procs import alive

IDLE_SECONDS = 8
HELLO = "steps:\n  - name: hello\n    command: echo hello\n"
SLOW_FAIL = "steps:\n  - name: nap\n    command: sh -c 'sleep 1; echo broke >&2; exit 3'\n"
KILLABLE = "steps:\n  - name: nap\n    command: sh -c 'echo $$ > nap.pid; exec sleep 120'\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flowport-home")
    started: list[int] = []
    yield folder, started
    server_dir = folder / "server"
    pids = list(started)
    with contextlib.suppress(OSError, ValueError):
        pids.append(json.loads((server_dir / "server.json").read_text())["watcher_pid"])
    with contextlib.suppress(OSError, ValueError):
        pids.append(int((server_dir / "server.pid").read_text()))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def env_of(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    env.update(FLOWPORT_HOME=str(folder), FLOWPORT_SERVER_IDLE=str(IDLE_SECONDS),
               FLOWPORT_LOG_DIR=str(folder / "logs"), PREFECT_HOME=str(folder / "client"),
               PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="INFO", **extra)  # Prefect's "View at <link>" line
    return env


def flowport(folder: Path, *args: str, cwd: Path | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flowport.cli", *args], cwd=cwd or folder, env=env_of(folder),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def finish(proc: subprocess.Popen, timeout: float = 180) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def state_of(folder: Path) -> dict:
    return json.loads((folder / "server" / "server.json").read_text())


def server_starts(folder: Path) -> int:
    return (folder / "server" / "server.log").read_text().count("flowport: local Prefect server pid")


class PtyRun:
    """`flowport run` on a pseudo-terminal (rich draws its spinner there), output collected."""

    def __init__(self, folder: Path, wf: Path) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "run", str(wf)], cwd=folder,
                                     env=env_of(folder, TERM="xterm", COLUMNS="120"), stdin=slave, stdout=slave,
                                     stderr=slave)
        os.close(slave)
        self.master, self.chunks = master, []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")

    def wait_for_text(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert self.proc.poll() is None, f"flowport exited {self.proc.returncode}: {self.text}"
            assert time.monotonic() < deadline, f"no {needle!r} on the terminal: {self.text!r}"
            time.sleep(0.05)


def test_one_server_for_concurrent_and_later_runs_interrupted_start_alert_links(home, tmp_path, receiver):
    folder, started = home
    wf = tmp_path / "hello.yaml"
    wf.write_text(HELLO)

    # Ctrl-C while the server starts: one line, exit 130; the server goes on starting
    first = PtyRun(folder, wf)
    started.append(first.proc.pid)
    first.wait_for_text("starting the local Prefect server")  # the spinner, before any server answers
    deadline = time.monotonic() + 60  # the spinner shows before the workflow is read: wait for the start
    while not (folder / "server" / "server.json").exists():
        assert first.proc.poll() is None and time.monotonic() < deadline, first.text
        time.sleep(0.05)
    first.proc.send_signal(signal.SIGINT)
    assert first.proc.wait(timeout=30) == 130, first.text
    time.sleep(0.2)
    assert "interrupted while the local Prefect server was starting" in first.text
    assert "Traceback" not in first.text

    # This test process holds a lease too: on a loaded host the next flowport may need longer
    # than the idle period to reach the server, and this test is about reuse, not idling.
    lease = folder / "server" / "leases" / f"test-{os.getpid()}"
    lease.parent.mkdir(parents=True, exist_ok=True)
    lease.write_text(f"{os.getpid()} \n")
    try:
        check_reuse(folder, started, wf, tmp_path, receiver)
    finally:
        lease.unlink()


def check_reuse(folder: Path, started: list[int], wf: Path, tmp_path: Path, receiver) -> None:
    # two concurrent runs: both join the one server that start began
    runs = [flowport(folder, "run", str(wf)) for _ in range(2)]
    started.extend(p.pid for p in runs)
    results = [finish(p) for p in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert server_starts(folder) == 1
    state = state_of(folder)
    base = f"http://127.0.0.1:{state['port']}"
    for _, out in results:
        assert f"View at {base}/runs/flow-run/" in out, out

    # a later run with an alert: its real duration, a link to the server that is still there
    bad = tmp_path / "bad.yaml"
    bad.write_text(SLOW_FAIL)
    code, out = finish(flowport(folder, "run", str(bad), "--notify", receiver.url()))
    assert code == 1, out
    assert "nap: last lines of stderr" in out and "broke" in out  # the failure's cause, in the summary
    [alert] = receiver.wait_for(1, timeout=15)
    message = alert.json()["message"]
    seconds = float(re.search(r"Duration: ([0-9.]+) s", message)[1])
    assert seconds >= 1.0, message
    link = re.search(r"Flow run: (\S+)", message)[1]
    assert link.startswith(f"{base}/runs/flow-run/"), message
    assert httpx.get(link, headers={"Accept": "text/html"}, timeout=10).status_code == 200  # the UI answers
    assert state_of(folder)["watcher_pid"] == state["watcher_pid"] and server_starts(folder) == 1

    status = subprocess.run([sys.executable, "-m", "flowport.cli", "server", "status"], env=env_of(folder),
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and base in status.stdout, status.stdout + status.stderr


def test_a_server_whose_flowport_was_killed_still_stops_when_idle(home, tmp_path):
    folder, started = home
    wf = tmp_path / "slow.yaml"
    wf.write_text(KILLABLE)
    proc = flowport(folder, "run", str(wf), cwd=tmp_path)
    started.append(proc.pid)
    deadline = time.monotonic() + 120
    while not (tmp_path / "nap.pid").exists():
        assert proc.poll() is None, finish(proc)
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.1)
    step = int((tmp_path / "nap.pid").read_text())
    started.append(step)
    state = state_of(folder)
    server_pid = int((folder / "server" / "server.pid").read_text())
    proc.kill()  # SIGKILL: no cleanup of its own; its lease stays behind
    proc.wait(timeout=30)
    deadline = time.monotonic() + IDLE_SECONDS + 60
    while alive(state["watcher_pid"]) or alive(server_pid):
        assert time.monotonic() < deadline, "the server outlived its idle period"
        time.sleep(0.5)
    assert not (folder / "server" / "server.json").exists()
    status = subprocess.run([sys.executable, "-m", "flowport.cli", "server", "status"], env=env_of(folder),
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 1 and "not running" in status.stdout
    os.kill(step, signal.SIGKILL)  # the orphaned step (cleanup's business, tested elsewhere)


def test_server_start_reuses_the_recorded_port_and_stop_ends_it(home):
    folder, started = home
    port = int((folder / "server" / "port").read_text())
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "server", "start"], env=env_of(folder),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"http://127.0.0.1:{port}"  # old links stay valid
    state = state_of(folder)
    server_pid = int((folder / "server" / "server.pid").read_text())
    started.extend([state["watcher_pid"], server_pid])
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "server", "stop"], env=env_of(folder),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "stopped the local Prefect server" in done.stdout, done.stdout + done.stderr
    deadline = time.monotonic() + 15
    while alive(state["watcher_pid"]) or alive(server_pid):
        assert time.monotonic() < deadline, "server stop left a process"
        time.sleep(0.2)
