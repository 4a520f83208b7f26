"""Run a `Shell` action as a local process group, streaming its output line by line."""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import tempfile
import threading
from typing import IO

from ...model import Shell
from ..masking import mask
from .base import TIMEOUT_EXIT_CODE, LineSink, RunResult, StopToken

MAX_OUTPUT_BYTES = 1024 * 1024  # Dagu maxOutputSize default


def default_shell() -> tuple[str, ...]:
    """Dagu runs commands with the user's $SHELL, falling back to sh."""
    return (os.environ.get("SHELL") or "sh",)


def shell_argv(shell: tuple[str, ...] | str) -> tuple[str, ...]:
    return tuple(shlex.split(shell)) if isinstance(shell, str) else tuple(shell)


def build_argv(action: Shell, shell: tuple[str, ...]) -> tuple[list[str], str | None]:
    """The argv to start, and the temp script file to delete afterwards (if any)."""
    if action.argv is not None:
        return list(action.argv), None
    interpreter = list(action.shell or shell or default_shell())
    if action.script is not None:
        fd, path = tempfile.mkstemp(prefix="flowport-", suffix=".sh")
        with os.fdopen(fd, "w") as fh:
            fh.write(action.script)
        if action.script.startswith("#!") and not action.shell:
            os.chmod(path, 0o700)
            return [path], path
        return [*interpreter, path], path
    assert action.command is not None
    if "\n" in action.command.strip() and action.command.startswith("#!"):
        return build_argv(Shell(script=action.command, shell=action.shell), shell)
    return [*interpreter, "-c", action.command], None


def run_process(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str | None,
    sink: LineSink,
    stop: StopToken | None,
    timeout: float | None = None,
    stdout_file: IO[str] | None = None,
    stderr_file: IO[str] | None = None,
    signal_on_stop: int = signal.SIGTERM,
    grace: float = 5.0,
) -> RunResult:
    """Start `argv` in its own process group; stream, capture stdout, honour stop/timeout."""
    try:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # own process group: stop kills the whole tree
        )
    except OSError as exc:
        return RunResult(exit_code=None, error=f"cannot start {argv[0]!r}: {exc.strerror or exc}")

    why: list[str] = []  # "timeout" / "stop": who ended the process

    def kill(force: bool) -> None:
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL if force else signal_on_stop)
        except ProcessLookupError:
            return
        if not force and grace >= 0:
            t = threading.Timer(grace, kill, args=(True,))
            t.daemon = True
            t.start()

    def on_stop(force: bool) -> None:
        why.append("stop")
        kill(force)

    stop_key = stop.register(on_stop) if stop is not None else None
    timer = None
    if timeout:
        def on_timeout() -> None:
            why.append("timeout")
            kill(False)

        timer = threading.Timer(timeout, on_timeout)
        timer.daemon = True
        timer.start()
    try:
        captured, too_big = _pump(proc, sink, stdout_file, stderr_file)
        code = proc.wait()
    finally:
        if timer is not None:
            timer.cancel()
        if stop_key is not None and stop is not None:
            stop.unregister(stop_key)
        # Leftover children of the group (e.g. backgrounded by the script) die with the step.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    stdout = captured
    if why and why[0] == "timeout":
        return RunResult(TIMEOUT_EXIT_CODE, stdout, "step timed out", timed_out=True)
    if why and why[0] == "stop":
        return RunResult(code, stdout, "stopped", stopped=True)
    if too_big:
        return RunResult(code, stdout, f"output exceeds the {MAX_OUTPUT_BYTES} byte limit")
    error = None if code == 0 else f"exit status {code}" if code > 0 else f"killed by signal {-code}"
    return RunResult(code, stdout, error)


def _pump(proc, sink, stdout_file, stderr_file) -> tuple[str, bool]:
    """Read both pipes until EOF in this thread, line by line."""
    chunks: list[bytes] = []
    size = 0
    too_big = False
    partial = {"stdout": b"", "stderr": b""}
    files = {"stdout": stdout_file, "stderr": stderr_file}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    open_streams = 2
    while open_streams:
        for key, _ in sel.select():
            stream = key.data
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
                if partial[stream]:
                    _emit(sink, files[stream], stream, partial[stream])
                    partial[stream] = b""
                continue
            if stream == "stdout" and not too_big:
                size += len(data)
                if size > MAX_OUTPUT_BYTES:
                    too_big = True
                else:
                    chunks.append(data)
            buf = partial[stream] + data
            *lines, partial[stream] = buf.split(b"\n")
            for line in lines:
                _emit(sink, files[stream], stream, line)
    sel.close()
    proc.stdout.close()
    proc.stderr.close()
    return b"".join(chunks).decode("utf-8", "replace"), too_big


def _emit(sink: LineSink, file: IO[str] | None, stream: str, raw: bytes) -> None:
    line = mask(raw.decode("utf-8", "replace").rstrip("\r"))  # secrets never reach a log
    if file is not None:
        file.write(line + "\n")
    sink(stream, line)


def run_shell(
    action: Shell,
    *,
    env: dict[str, str],
    cwd: str | None,
    sink: LineSink,
    stop: StopToken | None,
    shell: tuple[str, ...] = (),
    timeout: float | None = None,
    stdout_file: IO[str] | None = None,
    stderr_file: IO[str] | None = None,
    signal_on_stop: int = signal.SIGTERM,
    grace: float = 5.0,
) -> RunResult:
    argv, temp = build_argv(action, shell)
    try:
        return run_process(
            argv,
            env=env,
            cwd=cwd,
            sink=sink,
            stop=stop,
            timeout=timeout,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            signal_on_stop=signal_on_stop,
            grace=grace,
        )
    finally:
        if temp:
            os.unlink(temp)
