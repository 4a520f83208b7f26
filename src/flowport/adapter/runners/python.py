"""A Python function as a step's action (flowport.sdk `pytask`): called in this process, in
a thread of its own so that the step's timeout and a stop end the step on time. Python
cannot interrupt a thread: a function that outlives its step is left to finish, and what it
returns then is dropped."""

from __future__ import annotations

import contextvars
import json
import threading
import traceback
from typing import IO, Any, Callable

from .base import TIMEOUT_EXIT_CODE, LineSink, RunResult, StopToken, emit_stdout


def output_text(value: Any) -> str:
    """The step's stdout for a return value: a string as it is, None as nothing, anything
    else as JSON (what a later step can read back), else its str()."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def run_python(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], *, sink: LineSink,
               stop: StopToken | None, timeout: float | None, stdout_file: IO[str] | None,
               stderr_file: IO[str] | None) -> RunResult:
    """Call `function(*args, **kwargs)`: exit code 0 and its return value as stdout, or exit
    code 1 and the exception (its traceback on stderr) as a failing command would."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # the step's failure, whatever the function raised
            outcome["error"] = exc
        finally:
            done.set()

    stopped = threading.Event()
    key = stop.register(lambda force: (stopped.set(), done.set())) if stop is not None else None
    # in the caller's context (the step's Prefect task run): get_run_logger() works in the function
    worker = threading.Thread(target=contextvars.copy_context().run, args=(call,),
                              name=f"flowport-python-{getattr(function, '__name__', 'call')[:20]}", daemon=True)
    worker.start()
    try:
        finished = done.wait(timeout if timeout and timeout > 0 else None)
    finally:
        if key is not None and stop is not None:
            stop.unregister(key)
    if stopped.is_set() and "value" not in outcome and "error" not in outcome:
        return RunResult(None, stopped=True)
    if not finished:
        return RunResult(TIMEOUT_EXIT_CODE, "", "step timed out", timed_out=True)
    if "error" in outcome:
        exc = outcome["error"]
        text = "".join(traceback.format_exception(exc))
        if stderr_file is not None:
            stderr_file.write(text)
        for line in text.splitlines():
            sink("stderr", line)
        return RunResult(1, "", f"{type(exc).__name__}: {exc}")
    text = output_text(outcome.get("value"))
    emit_stdout(text if not text or text.endswith("\n") else text + "\n", sink, stdout_file)
    return RunResult(0, text)
