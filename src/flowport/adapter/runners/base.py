"""What every runner (shell, docker, http, mail) shares: its result and the stop token."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, Protocol

TIMEOUT_EXIT_CODE = 124  # what Dagu reports for a step that hit its timeoutSec


@dataclass
class RunResult:
    exit_code: int | None  # None: the action never produced one (e.g. could not start)
    stdout: str = ""  # captured standard output (the step's output value)
    error: str | None = None  # why it failed, for the report and the log
    timed_out: bool = False
    stopped: bool = False  # ended because the run was stopped
    partial: bool = False  # Dagu call step: ok, but a child run partially succeeded

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.stopped and not self.error


class LineSink(Protocol):
    def __call__(self, stream: str, line: str) -> None:  # stream: "stdout" | "stderr"
        ...


def emit_stdout(text: str, sink: LineSink, stdout_file: IO[str] | None) -> None:
    """Output an action produced whole (a query result, a response): to the step's stdout
    file and, line by line, to its log."""
    if stdout_file is not None:
        stdout_file.write(text)
    for line in text.splitlines():
        sink("stdout", line)


class StopToken:
    """Shared by every step of one run. `stop()` asks each registered action to end
    (graceful first); a second `stop(force=True)` or the grace period's end kills."""

    def __init__(self, grace: float = 5.0) -> None:
        self.grace = grace
        self.requested = threading.Event()
        self.forced = threading.Event()
        self._lock = threading.Lock()
        self._stoppers: dict[int, Callable[[bool], None]] = {}
        self._next = 0

    def register(self, stopper: Callable[[bool], None]) -> int:
        """`stopper(force)` ends one running action; called at once if already stopping."""
        with self._lock:
            key = self._next
            self._next += 1
            self._stoppers[key] = stopper
        if self.requested.is_set():
            stopper(self.forced.is_set())
        return key

    def unregister(self, key: int) -> None:
        with self._lock:
            self._stoppers.pop(key, None)

    def stop(self, force: bool = False) -> None:
        first = not self.requested.is_set()
        self.requested.set()
        if force:
            self.forced.set()
        with self._lock:
            stoppers = list(self._stoppers.values())
        for stopper in stoppers:
            stopper(force)
        if first and not force and self.grace >= 0:
            timer = threading.Timer(self.grace, self.stop, kwargs={"force": True})
            timer.daemon = True
            timer.start()


class ForceOnlyStop:
    """A view of a StopToken that only passes on the forced stop: Dagu lets a step with a
    repeat policy finish its current run when the DAG is stopped, and kills it only when the
    cleanup time (`maxCleanUpTimeSec`) is over."""

    def __init__(self, token: StopToken) -> None:
        self._token = token
        self.grace = token.grace
        self.requested = token.forced
        self.forced = token.forced

    def register(self, stopper: Callable[[bool], None]) -> int:
        return self._token.register(lambda force: stopper(True) if force else None)

    def unregister(self, key: int) -> None:
        self._token.unregister(key)


@contextlib.contextmanager
def timer(seconds: float | None, on_fire: Callable[[], Any]) -> Iterator[None]:
    """Call `on_fire` (in a daemon thread) once `seconds` have passed inside the block;
    no timer for None or 0."""
    pending = None
    if seconds:
        pending = threading.Timer(seconds, on_fire)
        pending.daemon = True
        pending.start()
    try:
        yield
    finally:
        if pending is not None:
            pending.cancel()
