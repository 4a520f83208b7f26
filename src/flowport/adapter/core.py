"""ONE run, for both dialects: the mechanics every workflow run shares.

A dialect *program* (`adapter/dagu`, `adapter/argo`) says what the source engine means: it
runs its main graph through the leaf runner it is given, decides the source status and runs
its lifecycle nodes (Dagu handlers, Argo exit handlers and hooks), claiming each one. The
core owns everything that touches signals, Prefect states and registries, once:

begin       run id, run folder, the program, the registry entry
stop        Ctrl-C/SIGTERM, the Prefect cancel watcher, the deadline, the stop ladder
finish      the report, the run artifact, the final Prefect state, the registry cleared
replay      the lifecycle nodes nobody claimed, from a Prefect hook (prefect_hooks.py)
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import signal
import sys
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..model import Retry, Semantics, Workflow
from .options import RunOptions
from . import masking
from .records import NodeRecord, now
from .report import NodeReport, RunReport
from .runfiles import claim, claimed, existing_run_dir, usable_run_dir
from .runners.base import StopToken, timer

Work = Callable[[Any], Any]  # work(logger) -> the node's Prefect state


# ---------------------------------------------------------------- what a program is


@dataclass
class Outcome:
    """What a program reports about its run, in its source's vocabulary."""

    status: str
    message: str | None
    params: dict[str, str]
    outputs: dict[str, Any]


@dataclass
class PendingRetry:
    """A program's answer after an attempt's lifecycle: run the workflow again in `delay`
    seconds (Dagu's DAG-level retry_policy). `reset` prepares the next attempt (the nodes to
    run again); `abandon(source)` ends the run when a stop comes while the retry waits."""

    delay: float
    reset: Callable[[], None]
    abandon: Callable[[str], None]


class Program(Protocol):
    """A dialect's meaning of one run; built by `make_program`."""

    name: str  # the run's name (Argo: with the generated suffix)
    deadline: float | None  # seconds for the main graph (Dagu timeoutSec, Argo activeDeadlineSeconds)
    attempt: int  # the run's attempt: 0 first, n after n retries (set by the core)

    def run_main(self) -> None: ...
    def run_lifecycle(self) -> None: ...
    def retry_pending(self) -> PendingRetry | None: ...  # after run_lifecycle: run it again?
    def replay_lifecycle(self, reason: str, logger: Any) -> list[str]: ...
    def internal_error(self, exc: BaseException) -> None: ...
    def stop_requested(self, source: str) -> None: ...
    def deadline_passed(self) -> None: ...  # called before the main graph is stopped
    def records(self) -> list[NodeRecord]: ...
    def public_outputs(self, rec: NodeRecord) -> dict[str, Any]: ...
    def spare_containers(self) -> list[str]: ...
    def outcome(self) -> Outcome: ...
    def close(self) -> None: ...


def program_class(wf: Workflow) -> Any:
    """The program of the workflow's dialect (the one place that picks it: by the type of
    the workflow's program, an Argo template tree or a Dagu step graph)."""
    if wf.argo is not None:
        from .argo.program import ArgoProgram

        return ArgoProgram
    from .dagu.program import DaguProgram

    return DaguProgram


def make_program(wf: Workflow, **kwargs: Any) -> Program:
    return program_class(wf)(wf, **kwargs)


def run_name(wf: Workflow) -> str:
    """A new run's name, as the source engine names its runs (the flow run's name)."""
    return program_class(wf).run_name(wf)


# ---------------------------------------------------------------- stop ladder

STORM_WINDOW = 0.25  # seconds: signals closer together than this are one stop request


class RunControl:
    """The stop state of one run, shared by the core (which changes it) and the program
    (which reads it). `main` stops the main graph, `lifecycle` the lifecycle nodes."""

    def __init__(self, semantics: Semantics, first_stop: str = "stop") -> None:
        self.ladder = semantics.stop_ladder
        self.first_stop = first_stop  # Argo: "stop" or "terminate" (--on-cancel)
        self.main = StopToken(grace=semantics.stop_grace_seconds)
        self.lifecycle = StopToken(grace=semantics.stop_grace_seconds)
        self.shutdown: str | None = None  # "Stop" | "Terminate" (Argo's words; Dagu: "Stop")
        self.source: str | None = None  # who asked first: "signal" | "Prefect"
        self.deadline_exceeded = False
        self.in_lifecycle = False
        self.lifecycle_requests = 0
        self.last_signal = float("-inf")
        self.asked = threading.Event()  # any stop request of this run, even one seen twice
        self.asked_by: str | None = None  # who asked first (a Prefect cancel in the handlers too)
        self.on_stop: Callable[[str], None] = lambda source: None
        self.lock = threading.RLock()
        self.children: list[RunControl] = []  # child runs (Dagu sub-DAGs) started by its nodes

    @property
    def stopped(self) -> bool:
        return self.shutdown is not None

    def enter_lifecycle(self) -> None:
        with self.lock:
            self.in_lifecycle = True

    def request_stop(self, source: str = "signal", strategy: str | None = None, *, forwarded: bool = False) -> None:
        """One stop request (a signal, a Prefect cancel, or `strategy` forced by a caller).
        `forwarded`: the request of a parent run, already counted there (no storm window, no
        "one cancel seen twice"): each one is a step of this run's ladder too."""
        with self.lock:
            if not forwarded and source == "signal" and strategy is None:
                # A burst of signals (a supervisor repeating SIGTERM) is one request: each
                # arrival within STORM_WINDOW of the previous one is the same request. A
                # person's second Ctrl-C comes later, and escalates.
                last, self.last_signal = self.last_signal, time.monotonic()
                if self.last_signal - last < STORM_WINDOW:
                    return
            if not self.asked.is_set():
                self.asked_by = source
                self.asked.set()
            if not forwarded and source == "Prefect" and strategy is None and (self.source == "Prefect" or (
                    self.ladder == "dagu" and (self.stopped or self.in_lifecycle))):
                return  # one cancel seen twice (our watcher, then the runner's SIGTERM)
            if self.ladder == "dagu":
                self._dagu_step(source)
            else:
                self._argo_step(strategy)
            if self.source is None:
                self.source = source
            children = list(self.children) if self._reaches_children() else []
        self.on_stop(source)
        for child in children:  # the child stops (and runs its handlers) before this run goes on
            child.request_stop(source, strategy, forwarded=True)

    def _reaches_children(self) -> bool:
        """A stop that stopped this run's nodes stops the child runs they started (Dagu
        Node.Signal → the sub-DAG executor's Kill → the child's own stop); the first request
        in a Dagu lifecycle lets the handlers, and so their children, finish."""
        return (self.main.requested.is_set() and not self.in_lifecycle) or self.lifecycle.requested.is_set()

    def adopt(self, child: "RunControl") -> Callable[[], None]:
        """A child run started by one of this run's nodes: the stop requests this run takes
        reach it too, and one taken already reaches it at once. Returns the release."""
        with self.lock:
            self.children.append(child)
            stopped = self._reaches_children()
            source = self.source or self.asked_by or ("the parent's timeout" if self.deadline_exceeded else "signal")
            strategy = self.shutdown if self.ladder == "argo" else None
        if stopped:
            child.request_stop(source, strategy, forwarded=True)

        def release() -> None:
            with self.lock:
                if child in self.children:
                    self.children.remove(child)

        return release

    def _dagu_step(self, source: str) -> None:
        """`dagu stop`: the first request stops the steps gracefully; the next kills them.
        Handlers are not stopped by the first request (Dagu lets them finish)."""
        if self.in_lifecycle:
            # The first request of a run nobody stopped lets the handlers finish (Dagu);
            # after that, each request force-stops the handler that is running now.
            self.lifecycle_requests += 1
            if self.shutdown is not None or self.lifecycle_requests > 1:
                self.lifecycle.stop(force=True)
            return
        if self.shutdown is None:
            self.shutdown = "Stop"
            self.main.stop()
        else:
            self.main.stop(force=True)

    def _argo_step(self, strategy: str | None) -> None:
        """`argo stop` (exit handlers still run), then `argo terminate` (they are stopped);
        a request after Terminate kills at once."""
        if strategy is None:
            first = "Terminate" if self.first_stop == "terminate" else "Stop"
            strategy = first if self.shutdown is None else "Terminate"
        again = self.shutdown == "Terminate"
        self.shutdown = strategy
        self.main.stop(force=again)
        if strategy == "Terminate":
            self.lifecycle.stop(force=again)

    def lifecycle_node(self) -> StopToken:
        """The stop token of the next lifecycle node. Dagu: each handler gets its own (and its
        own grace), so a handler force-stopped by a second Ctrl-C does not take the next ones
        with it. Argo: one token for the exit handler and its children (Terminate stops all)."""
        with self.lock:
            if self.ladder == "dagu":
                self.lifecycle = StopToken(grace=self.main.grace)
            return self.lifecycle

    def await_retry(self, delay: float) -> bool:
        """Between two attempts: wait `delay` seconds. False when a stop request came (during
        the wait or the attempt's lifecycle): it ends the whole run. True: the next attempt
        starts with fresh stop tokens, out of the lifecycle phase."""
        if self.asked.wait(max(delay, 0.0)):
            return False
        with self.lock:
            if self.asked.is_set():  # came as the wait ended
                return False
            self.main = StopToken(grace=self.main.grace)
            self.lifecycle = StopToken(grace=self.main.grace)
            self.in_lifecycle = False
            self.lifecycle_requests = 0
            self.deadline_exceeded = False
        return True

    def exceed_deadline(self) -> None:
        with self.lock:
            self.deadline_exceeded = True
            children = list(self.children)
        self.main.stop()
        for child in children:  # Dagu: the DAG timeout cancels the running sub-DAG nodes too
            child.request_stop("the parent's timeout", forwarded=True)


# ---------------------------------------------------------------- leaves


def _retryable(task: Any, task_run: Any, state: Any) -> bool:
    data = state.data if isinstance(state.data, dict) else {}
    return bool(data.get("retryable"))


def _edge(task_run_id: Any) -> Any:
    """A `wait_for` item that only records "runs after task run X" (an edge of Prefect's run
    graph): a Completed state with data, so Prefect never waits on it nor refuses to start
    after a failed upstream. Dagu `continueOn` and Argo `depends` decide that, not Prefect."""
    from prefect.client.schemas.objects import StateDetails
    from prefect.states import Completed

    return Completed(data={}, state_details=StateDetails(task_run_id=task_run_id))


class PrefectLeaves:
    """Runs node work as Prefect task runs of the current flow run. Task parameters stay
    two short strings (run id, node id): the work itself waits in `work` until it ends.
    `after` names the nodes a node follows: they become the edges of the UI's run graph."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.work: dict[str, Work] = {}
        self.task_run_ids: dict[str, Any] = {}  # node id -> its task run
        self._tasks: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def task(self, name: str, retry: Retry | None = None) -> Any:
        key = (name, retry)
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = _make_task(name, retry)
        return task

    def _wait_for(self, after: Iterable[str]) -> list[Any] | None:
        return [_edge(self.task_run_ids[a]) for a in after if a in self.task_run_ids] or None

    def run(self, name: str, node_id: str, work: Work, after: Iterable[str] = ()) -> Any:
        """Run now, in this thread; returns the task run's final state."""
        self.work[node_id] = work
        try:
            state = self.task(name)(self.run_id, node_id, return_state=True, wait_for=self._wait_for(after))
        finally:
            self.work.pop(node_id, None)
        self.task_run_ids[node_id] = state.state_details.task_run_id
        return state

    def submit(self, name: str, node_id: str, work: Work, retry: Retry | None = None,
               after: Iterable[str] = ()) -> Future:
        self.work[node_id] = work
        future = self.task(name, retry).submit(self.run_id, node_id, wait_for=self._wait_for(after))
        self.task_run_ids[node_id] = future.task_run_id
        future.add_done_callback(lambda _f: self.work.pop(node_id, None))
        return future

    def restate(self, node_id: str, state: Any) -> None:
        """A node decided after its task run ended (a Dagu approval step a person answered):
        its task run takes the final state."""
        from prefect.client.orchestration import get_client

        task_run_id = self.task_run_ids.get(node_id)
        if task_run_id is None:
            return
        try:
            with get_client(sync_client=True) as client:
                client.set_task_run_state(task_run_id, state, force=True)
        except Exception as exc:  # the UI's picture must never cost the run its handlers
            logging.getLogger("flowport").warning("flowport: could not update the task run of %s: %s", node_id, exc)

    def show_untouched(self, records: list[NodeRecord]) -> None:
        """A task run, in the state its phase says (Skipped, NotStarted, …), for every node
        that ran none: the source's UI shows those nodes, so the Prefect UI does too."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.objects import TaskRunResult

        from .states import node_state

        untouched = [r for r in records if r.name not in self.task_run_ids]
        if not untouched:
            return
        with get_client(sync_client=True) as client:
            for rec in untouched:
                task_inputs = {"wait_for": [TaskRunResult(id=self.task_run_ids[a])
                                            for a in rec.after if a in self.task_run_ids]}
                run = client.create_task_run(self.task(rec.label), flow_run_id=self.run_id,
                                             dynamic_key=f"untouched-{rec.name}", name=rec.label,
                                             state=node_state(rec.phase, rec.message), task_inputs=task_inputs)
                self.task_run_ids[rec.name] = run.id


class InlineLeaves:
    """Runs node work in the calling thread (or a plain thread pool), without Prefect task
    runs: the Prefect hooks replay lifecycle nodes with it, outside any flow run."""

    def __init__(self, logger: Any = None) -> None:
        self.logger = logger or logging.getLogger("flowport")
        self._pool: ThreadPoolExecutor | None = None

    def run(self, name: str, node_id: str, work: Work, after: Iterable[str] = ()) -> Any:
        return work(self.logger)

    def submit(self, name: str, node_id: str, work: Work, retry: Retry | None = None,
               after: Iterable[str] = ()) -> Future:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(thread_name_prefix="flowport-leaf")
        context = contextvars.copy_context()
        return self._pool.submit(context.run, self._attempts, work, retry)

    def _attempts(self, work: Work, retry: Retry | None) -> Any:
        state = work(self.logger)
        for delay in (retry.delays() if retry else ()):
            if not _retryable(None, None, state):
                break
            time.sleep(delay)
            state = work(self.logger)
        return state

    def show_untouched(self, records: list[NodeRecord]) -> None:
        pass  # no flow run to show them in

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _leaf_task(run_id: str, node_id: str) -> Any:
    from prefect.logging import get_run_logger

    return RUNS[run_id].leaves.work[node_id](get_run_logger())


def _make_task(name: str, retry: Retry | None) -> Any:
    from prefect import Task
    from prefect.cache_policies import NO_CACHE

    options: dict[str, Any] = {}
    if retry is not None and retry.limit > 0:
        options = dict(retries=retry.limit, retry_delay_seconds=retry.delays(), retry_condition_fn=_retryable)
    return Task(_leaf_task, name=name, task_run_name=name, cache_policy=NO_CACHE, persist_result=False,
                log_prints=False, **options)


# ---------------------------------------------------------------- registry


@dataclass
class ActiveRun:
    program: Program
    control: RunControl
    leaves: Any


RUNS: dict[str, ActiveRun] = {}  # the runs live in this process, by flow run id


class Reports:
    """Finished runs' reports until their reader takes them (`run()`, the alert hook); the
    oldest go first, so a long-lived `serve` process does not grow."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._items: OrderedDict[str, RunReport] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, run_id: str, report: RunReport) -> None:
        with self._lock:
            self._items[run_id] = report
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def pop(self, run_id: str) -> RunReport | None:
        with self._lock:
            return self._items.pop(run_id, None)

    def get(self, run_id: str) -> RunReport | None:
        with self._lock:
            return self._items.get(run_id)

    def __len__(self) -> int:
        return len(self._items)


REPORTS = Reports()


# ---------------------------------------------------------------- the run


class _NoEmptyTraceback(logging.Filter):
    """Prefect logs a failed task state with exc_info even when no exception was raised (a
    step that exited non-zero); that prints a stray "NoneType: None" after the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is None:
            record.exc_info = None
        return True


class _FinalStateIsNoCrash(logging.Filter):
    """A deployed run returns its final state (Cancelled, Failed named after the source
    status); Prefect's engine then calls `state.result()`, which raises CancelledRun/FailedRun
    for it, and logs "Engine execution exited with unexpected exception" with a 30-line
    traceback. The run ended as the workflow says: one INFO line says so instead."""

    ENGINE_MESSAGE = "Engine execution exited with unexpected exception"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == self.ENGINE_MESSAGE and record.exc_info and record.exc_info[1] is not None:
            from prefect.exceptions import CancelledRun, FailedRun

            exc = record.exc_info[1]
            if isinstance(exc, (CancelledRun, FailedRun)):
                ended = "Cancelled" if isinstance(exc, CancelledRun) else "Failed"
                record.msg, record.args = "flowport: the flow run ended %s: %s", (ended, exc)
                record.levelno, record.levelname = logging.INFO, "INFO"
                record.exc_info = record.exc_text = None
        return True


logging.getLogger("prefect.task_runs").addFilter(_NoEmptyTraceback())
logging.getLogger("prefect.flow_runs").addFilter(_FinalStateIsNoCrash())


def current_run_id() -> str:
    from prefect.context import FlowRunContext

    flow_ctx = FlowRunContext.get()
    return str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else str(uuid.uuid4())


def current_run_name(wf: Workflow) -> str:
    """The flow run's name (what `flowport run` and deployments name it, or what a user gave
    it, as `argo submit --name` does), else a new one."""
    from prefect.context import FlowRunContext

    flow_ctx = FlowRunContext.get()
    name = flow_ctx.flow_run.name if flow_ctx and flow_ctx.flow_run else None
    return name or run_name(wf)


def execute(wf: Workflow, options: RunOptions | None = None, params: list[tuple[str, str]] | None = None) -> Any:
    """The flow body of every workflow: run it, return the Prefect state of its status."""
    from . import states

    run_id = current_run_id()
    report = drive(wf, run_id=run_id, params=params, options=options or RunOptions(), leaves=PrefectLeaves(run_id))
    state = states.run_state(report.workflow, report.status, report.message)
    if not state.is_cancelled() and _cancelling(run_id):
        # Prefect asked for the cancel (Argo's stop ends Failed): the server accepts only a
        # Cancelled state from Cancelling, and a run left there looks as if it still ran
        from prefect.states import Cancelled

        state = Cancelled(name=state.name, message=state.message)
    return state


def _cancelling(run_id: str) -> bool:
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            current = client.read_flow_run(uuid.UUID(run_id)).state
        return current is not None and current.type.value == "CANCELLING"
    except Exception:  # no server to ask: the state the source status gives
        return False


def drive(wf: Workflow, *, run_id: str, params: list[tuple[str, str]] | None, options: RunOptions,
          leaves: Any, publish: bool = True, name: str | None = None) -> RunReport:
    """begin → main graph (under the deadline) → stop what a stop left → lifecycle (again per
    attempt while the program asks for a retry) → finish."""
    from . import notify
    from .cancel import watch_cancellation

    folder, why = usable_run_dir(wf.name, run_id)
    if why:
        logging.getLogger("flowport").warning("flowport: %s; the run's files go to %s", why, folder)
    claim(folder, "started")  # the Prefect hooks replay only runs that began
    control = RunControl(wf.semantics, options.on_cancel)
    program = make_program(wf, run_id=run_id, params=params, options=options, control=control,
                           leaves=leaves, folder=folder, name=name or current_run_name(wf))
    control.on_stop = program.stop_requested
    caller = CALLER.get()
    release = caller.adopt(control) if caller is not None else (lambda: None)
    RUNS[run_id] = ActiveRun(program, control, leaves)
    started = now()
    notify.preload_in_background(options.notify)
    restore = SIGNALS.attach(control) if caller is None else (lambda: None)  # a child: its caller's
    watcher = watch_cancellation(run_id, lambda: control.request_stop("Prefect"))
    report: RunReport | None = None
    try:
        attempts = _run_attempts(run_id, program, control, folder, wf.semantics.stop_grace_seconds, leaves)
        report = build_report(wf, program, run_id, folder, started, attempts=attempts)
        claim(folder, "finished")  # not an orphan (orphans.py)
        REPORTS.put(run_id, report)
        if publish:
            from .artifacts import publish_run_artifacts
            from .mermaid import mermaid

            try:
                graph = mermaid(wf)
            except Exception:  # a picture must never cost the run its artifact
                graph = None
            publish_run_artifacts(report, graph=graph)
        return report
    finally:
        watcher.set()
        restore()
        release()
        with contextlib.suppress(Exception):
            program.close()
        _release_volumes(run_id, succeeded=report is not None and report.ok, stopped=control.stopped)
        RUNS.pop(run_id, None)


# The run whose node is starting a child run (a Dagu sub-DAG): set by `run_child` around the
# child, read by the child's `drive`, so that the caller's stop requests reach the child.
CALLER: contextvars.ContextVar[RunControl | None] = contextvars.ContextVar("flowport_caller", default=None)


def run_child(wf: Workflow, *, params: list[tuple[str, str]], options: RunOptions, caller: RunControl,
              leaves: Any, logger: Any = None, inline_id: str | None = None) -> RunReport:
    """Run child workflow `wf` (a Dagu sub-DAG) from a node of the run `caller` controls, to
    its end, through this same core (its own run id, run folder, program, handlers, report).
    On Prefect (`leaves` are PrefectLeaves) it is a subflow: the flow of `wf` called inside
    the node's task run, which Prefect nests under it; otherwise (tests, Prefect hooks) it runs
    inline (run id `inline_id`). Returns the child's report."""
    child_options = replace(options, notify=None)  # alerts are the top run's
    token = CALLER.set(caller)
    try:
        if isinstance(leaves, PrefectLeaves):
            state = build_flow(wf, child_options)(params=params, return_state=True)
            run_id = str(state.state_details.flow_run_id)
            report = REPORTS.pop(run_id)
            if report is None:  # the child flow crashed before it could report
                report = RunReport(workflow=wf.name, dialect=wf.dialect, status="failed",
                                   message=f"Prefect flow run ended {state.type.value}: {state.message}",
                                   started_at=None, finished_at=None, params=dict(params), nodes=[],
                                   outputs={}, run_id=run_id)
            return report
        inline = InlineLeaves(logger or logging.getLogger("flowport"))
        try:
            run_id = inline_id or f"child-{uuid.uuid4().hex[:16]}"
            report = drive(wf, run_id=run_id, params=params, options=child_options, leaves=inline,
                           publish=False, name=run_name(wf))
            REPORTS.pop(run_id)
            return report
        finally:
            inline.close()
    finally:
        CALLER.reset(token)


def _show_untouched(leaves: Any, program: Program) -> None:
    try:
        leaves.show_untouched(program.records())
    except Exception as exc:  # the UI's picture must never cost the run its handlers
        logging.getLogger("flowport").warning("flowport: could not show the nodes that ran no task: %s", exc)


def _run_attempts(run_id: str, program: Program, control: RunControl, folder: Path, grace: float,
                  leaves: Any) -> int:
    """main graph (under the deadline) → stop what a stop left → lifecycle, once per attempt;
    another attempt only when the program asks for one (Dagu's retry_policy, the role Dagu's
    scheduler plays there) and no stop came. Returns the number of attempts run."""
    attempt = 0
    while True:
        program.attempt = attempt
        with timer(program.deadline, lambda: (program.deadline_passed(), control.exceed_deadline())):
            _guarded(program, program.run_main)
        if control.stopped:
            _stop_containers(run_id, program, grace)
        _show_untouched(leaves, program)  # before the lifecycle nodes, which follow them
        control.enter_lifecycle()
        _guarded(program, program.run_lifecycle)
        _show_untouched(leaves, program)
        pending = _guarded(program, program.retry_pending)
        if pending is None:
            return attempt + 1
        claim(folder, retry_claim(attempt + 1, pending=True))  # a replay then runs no handler
        if not control.await_retry(pending.delay):
            _guarded(program, lambda: pending.abandon(control.asked_by or "signal"))
            return attempt + 1
        attempt += 1
        claim(folder, retry_claim(attempt))
        program.attempt = attempt
        _guarded(program, pending.reset)


def retry_claim(attempt: int, *, pending: bool = False) -> str:
    """The claims that say how far a run's retries went (read by `replay_lifecycle`)."""
    return f"retry-{attempt}-pending" if pending else f"retry-{attempt}"


def current_attempt(folder: Path) -> tuple[int, bool]:
    """The attempt a run was in (0: the first), and whether its next attempt was pending."""
    attempt = 0
    while claimed(folder, retry_claim(attempt + 1)):
        attempt += 1
    return attempt, claimed(folder, retry_claim(attempt + 1, pending=True))


def _guarded(program: Program, phase: Callable[[], Any]) -> Any:
    """A flowport bug inside a phase must not skip the rest of the run (handlers, report)."""
    try:
        return phase()
    except Exception as exc:
        program.internal_error(exc)
        return None


def _release_volumes(run_id: str, succeeded: bool, stopped: bool) -> None:
    """The volumes the run created go once its containers are gone (program.close), as their
    labels say (runners/volumes.py: always, only after a success, or never)."""
    if f"{__package__}.runners.docker" not in sys.modules:
        return  # this process never talked to Docker: no volume (nor a 0.2 s Docker SDK import)
    try:
        from .runners.volumes import release_run_volumes

        release_run_volumes(run_id, succeeded, stopped=stopped)
    except Exception:  # no Docker Engine: there is nothing to remove
        pass


def _stop_containers(run_id: str, program: Program, grace: float) -> None:
    """Nothing of the main graph outlives a stop: its containers go before the lifecycle
    nodes start (a Dagu DAG-level container stays: handlers run in it too)."""
    try:
        from .runners.docker import stop_run_containers

        stop_run_containers(run_id, grace=grace, spare=program.spare_containers())
    except Exception:  # no Docker Engine: there is nothing to stop
        pass


class SignalRouter:
    """SIGINT/SIGTERM → the stop ladder of the run in progress (main thread only).

    The handler only hands the signal to a thread: a signal may land while the main thread
    holds a lock the stop needs. `run()` keeps the router installed from before the server
    starts until the flow run is final, so Prefect's own SIGTERM bridge (which turns the
    signal into a crash) never sees a signal meant for the run. A signal before the run began
    is kept and stops it as it begins (a second one aborts); one after it ended is ignored."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.control: RunControl | None = None
        self.pending = 0
        self.ran = False  # a run was attached since the router was installed
        self.owned = False  # installed by run() for its whole length

    def handle(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        control = self.control
        if control is None and self.ran:
            return  # the run is over: its summary and report are being written
        if control is None:
            self.pending += 1
            if self.pending > 1:
                raise KeyboardInterrupt  # asked twice before any run began: give up
            return
        from .cancel import signal_source

        context = contextvars.copy_context()  # the flow run's (signal_source reads it)
        threading.Thread(target=context.run, args=(lambda: control.request_stop(signal_source()),),
                         name="flowport-signal", daemon=True).start()

    @contextlib.contextmanager
    def installed(self, restore: bool = True) -> Iterator[None]:
        """Route the signals for the whole block (the outermost call installs). The CLI
        passes restore=False: after its run only the summary and the exit are left, and a
        late signal of a storm must not kill the process on its way out."""
        if self.owned or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle) for sig in self.SIGNALS}
        self.owned, self.pending, self.ran = True, 0, False
        try:
            yield
        finally:
            self.owned = False
            if restore:
                for sig, old in previous.items():
                    signal.signal(sig, old)

    def attach(self, control: RunControl) -> Callable[[], None]:
        """Route to `control` while its run is active; returns the detach function."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        # Prefect's flow engine put its SIGTERM bridge in place since: ours goes back on top.
        previous = {sig: signal.signal(sig, self.handle) for sig in self.SIGNALS}
        self.control, self.ran = control, True
        if self.pending:
            self.pending = 0
            control.request_stop("signal")

        def detach() -> None:
            self.control = None
            if not self.owned:  # a deployed run: Prefect's handlers are back for its finish
                for sig, old in previous.items():
                    signal.signal(sig, old)

        return detach


SIGNALS = SignalRouter()


def build_report(wf: Workflow, program: Program, run_id: str, folder: Path, started, *, attempts: int = 1) -> RunReport:
    outcome = program.outcome()
    nodes = [NodeReport.of(rec, outputs=program.public_outputs(rec)) for rec in program.records()]
    report = RunReport(
        workflow=program.name, dialect=wf.dialect, status=outcome.status, message=outcome.message,
        started_at=started.isoformat(), finished_at=now().isoformat(), params=outcome.params,
        nodes=nodes, outputs=outcome.outputs, run_id=run_id, log_dir=str(folder), attempts=attempts,
    )
    return masking.mask_all(report)  # no secret value in the report, its artifact or summary


# ---------------------------------------------------------------- replay (Prefect hooks)


def replay_lifecycle(wf: Workflow, run_id: str, params: list[tuple[str, str]], reason: str, logger: Any,
                     name: str | None = None) -> list[str]:
    """The flow process is gone (`reason`: "canceled" or "crashed"): run the lifecycle nodes
    the body did not claim, here, without task runs. Returns the names of those run."""
    folder = existing_run_dir(wf.name, run_id)
    if not claimed(folder, "started"):
        logger.info("flowport: the run never started; no lifecycle node to run")
        return []
    if reason == "crashed" and not wf.semantics.lifecycle_after_crash:
        return []  # Dagu runs no handler for a killed run
    attempt, retry_was_pending = current_attempt(folder)
    if retry_was_pending:
        # stopped while the next attempt waited: Dagu ends the run aborted, no handler runs
        # (dagrun/failed_auto_retry_cancel.go); the attempt's own handlers have run
        logger.info("flowport: the run ended while a retry was pending; no lifecycle node to run")
        return []
    control = RunControl(wf.semantics)
    if reason == "canceled":
        control.shutdown, control.source = "Stop", "Prefect"
    control.enter_lifecycle()
    leaves = InlineLeaves(logger)
    program = make_program(wf, run_id=run_id, params=params, options=RunOptions(), control=control,
                           leaves=leaves, folder=folder, name=name or run_name(wf))
    program.attempt = attempt
    try:
        return program.replay_lifecycle(reason, logger)
    finally:
        leaves.close()
        program.close()
        _release_volumes(run_id, succeeded=False, stopped=True)  # canceled or crashed: nothing stays


# ---------------------------------------------------------------- public API


def flow_name(workflow_name: str) -> str:
    """The Prefect flow of a workflow, for `run`, deployments and serve alike: its name, with
    the characters Prefect refuses in names (`/ % & > <`) as `-`."""
    return re.sub(r"[/%&><]", "-", workflow_name) or "workflow"


def build_flow(wf: Workflow, options: RunOptions | None = None) -> Any:
    """A Prefect flow named after the workflow; call it with `params=[(name, value), …]`."""
    from prefect import Flow
    from prefect.task_runners import ThreadPoolTaskRunner

    from . import notify

    options = options or RunOptions()

    def run_workflow(params: list[tuple[str, str]] | None = None) -> Any:
        return execute(wf, options, params)

    return Flow(run_workflow, **notify.state_hooks(options.notify), name=flow_name(wf.name),
                flow_run_name=lambda: run_name(wf),
                task_runner=ThreadPoolTaskRunner(), persist_result=False, validate_parameters=False,
                log_prints=False, description=wf.description)


def run(wf: Workflow, params: list[tuple[str, str]] | None = None, options: RunOptions | None = None) -> RunReport:
    """Run `wf` now as a Prefect flow run and return its report: on the server in
    PREFECT_API_URL, else on Prefect's embedded server started for the run."""
    return run_flow(wf, lambda: build_flow(wf, options)(params=params, return_state=True), params)


def run_flow(wf: Workflow, call: Callable[[], Any], params: list[tuple[str, str]] | None = None) -> RunReport:
    """`call()` runs a flow of `wf` (built here, or a `flowport.sdk` flow) and returns its
    final state; this runs it as `run` does and returns its report."""
    from .server import prefect_api

    with SIGNALS.installed(), prefect_api():
        from .orphans import end_orphans

        end_orphans()  # runs of killed flowport processes: their leftovers go, Prefect learns
        state = call()
    run_id = str(state.state_details.flow_run_id)
    report = REPORTS.pop(run_id)
    if report is None:  # the flow crashed before it could report
        report = RunReport(
            workflow=wf.name, dialect=wf.dialect, status="failed",
            message=f"Prefect flow run ended {state.type.value}: {state.message}",
            started_at=None, finished_at=None, params=dict(params or []), nodes=[], outputs={},
            run_id=run_id,
        )
    return report
