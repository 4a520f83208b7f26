"""Processes and waiting: is a pid alive, a free port, and waits that give up at once when
the subprocess they depend on has died (with its exit code and output tail)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HOST = "127.0.0.1"


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the parenthesised command name: [state, ppid, …]
    (OSError when there is no such process)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether `pid` still runs. A zombie counts as gone: it has exited, and where PID 1 does
    not reap orphans (containers without an init) it stays in the table forever."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return stat_fields(pid)[0] != "Z"
    except OSError:
        return False


def free_port() -> int:
    """A port nobody listens on right now (also good as a 'server down' address)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def output_tail(proc: subprocess.Popen, log: Path | None = None, lines: int = 40) -> str:
    """The last lines a finished `proc` wrote: its stdout pipe, else the `log` file."""
    text = ""
    if proc.stdout is not None and proc.poll() is not None:
        try:
            out, _ = proc.communicate(timeout=5)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            out = None
        text = out.decode(errors="replace") if isinstance(out, bytes) else (out or "")
    elif log is not None:
        try:
            text = Path(log).read_text(errors="replace")
        except OSError:
            text = ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until(condition: Callable[[], T], timeout: float, what: str, *,
               proc: subprocess.Popen | None = None, log: Path | None = None,
               interval: float = 0.1) -> T:
    """The first truthy value of condition(), polled every `interval` until `timeout`; an
    AssertionError when it times out, or at once when `proc` (the subprocess the condition
    waits on) has exited — then with its exit code and output tail (its stdout pipe or
    `log`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            if value := condition():  # it may have done it just before it exited
                return value
            raise AssertionError(f"{what}: the process exited with code {proc.returncode} first; "
                                 f"its output ends:\n{output_tail(proc, log)}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


def wait_for(path: Path, timeout: float = 60, *, proc: subprocess.Popen | None = None,
             log: Path | None = None) -> str:
    """The stripped text of `path` once it exists and is not blank (see wait_until)."""
    def text() -> str:
        try:
            return path.read_text().strip()
        except (FileNotFoundError, IsADirectoryError):
            return ""

    return wait_until(text, timeout, f"{path} never appeared", proc=proc, log=log)
