"""The watcher of the local server that stays (server.py): runs Prefect's server as its child
and stops it once no flowport process has held a lease for the idle period.

    python -m flowport.adapter.server_watch FOLDER PORT IDLE_SECONDS

It runs in its own session, so a flowport killed with SIGKILL (or Ctrl-C on the terminal)
never takes it along, and its lease simply stops counting. The server gets SIGTERM when the
watcher dies, even by SIGKILL (Linux parent-death signal), so it never outlives its watcher.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path

from .server import ServerState, live_leases, server_command, server_env, server_lock

POLL_SECONDS = 1.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the watcher dies (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _forget(folder: Path) -> None:
    """Remove the records of this watcher's server (not those of a successor)."""
    import os

    state = ServerState.read(folder)
    if state is not None and state.watcher_pid == os.getpid():
        with contextlib.suppress(OSError):
            (folder / "server.json").unlink()
    with contextlib.suppress(OSError):
        (folder / "server.pid").unlink()


def watch(folder: Path, port: int, idle: float) -> int:
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: stopping.append(signum))
    proc = subprocess.Popen(server_command(port), env=server_env(folder / "prefect", port),
                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    (folder / "server.pid").write_text(f"{proc.pid}\n")
    print(f"flowport: local Prefect server pid {proc.pid} on port {port}; stops after {idle:g} s idle",
          flush=True)
    last_used = time.monotonic()
    try:
        while not stopping and proc.poll() is None:
            time.sleep(POLL_SECONDS)
            if live_leases(folder):
                last_used = time.monotonic()
            elif time.monotonic() - last_used >= idle:
                with server_lock(folder):  # no run can join while the server goes
                    if live_leases(folder) == 0:
                        print(f"flowport: idle for {idle:g} s, stopping the server", flush=True)
                        _stop(proc)
                        _forget(folder)
                        return 0
                last_used = time.monotonic()
        if proc.poll() is not None:
            print(f"flowport: the server exited with {proc.returncode}", flush=True)
        _stop(proc)
        return 0
    finally:
        _stop(proc)
        _forget(folder)


if __name__ == "__main__":
    sys.exit(watch(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
