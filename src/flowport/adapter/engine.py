"""IR → Prefect flow. The flow body runs the step graph as Prefect task runs, computes the
source status, runs the lifecycle handlers as task runs, and returns a Prefect state that
carries the source status (DESIGN.md §4)."""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
import uuid
from collections import deque
from typing import Any, Callable

from prefect import Flow, Task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.logging import get_run_logger
from prefect.states import Cancelled, Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from ..model import Step, Workflow
from . import lifecycle, notify
from .artifacts import publish_run_artifacts
from .cancel import signal_source as _signal_source, watch_cancellation
from .hooks import claim
from .context import RunContext, now
from .options import RunOptions
from .report import NodeReport, RunReport
from .runners.base import ForceOnlyStop, StopToken
from .status import CANCELED, FAILED, NOT_STARTED, SKIPPED, SUCCEEDED, NodeRecord, readiness, run_status
from .steps import check_preconditions, execute_node

class _NoEmptyTraceback(logging.Filter):
    """Prefect logs a failed task state with exc_info even when no exception was raised (a
    step that exited non-zero); that prints a stray "NoneType: None" after the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is None:
            record.exc_info = None
        return True


logging.getLogger("prefect.task_runs").addFilter(_NoEmptyTraceback())

# Runs in this process, by run id: tasks find their RunContext here (task parameters stay
# two short strings, so Prefect has nothing heavy to record or hash).
RUNS: dict[str, RunContext] = {}
REPORTS: dict[str, RunReport] = {}


def _node_task(run_id: str, node: str, handler: str = "") -> State:
    ctx = RUNS[run_id]
    logger = get_run_logger()
    if handler:
        step = getattr(ctx.wf.handlers, handler)
        rec = ctx.handler_record(handler)
        result = execute_node(
            ctx, step, rec, logger=logger, stop=ctx.handler_stop, handler=handler, status=ctx.status
        )
    else:
        step = ctx.wf.step(node)
        rec = ctx.nodes[node]
        if step.repeat is not None:
            result = run_repeating(ctx, step, rec, logger=logger)
        else:
            result = execute_node(ctx, step, rec, logger=logger, stop=ctx.stop)
    return _task_state(step, rec, result)


def _retryable(step: Step, result) -> bool:
    return bool(
        step.retry
        and result is not None
        and not result.ok
        and not result.timed_out  # Dagu never retries a step that hit its timeout
        and not result.stopped
        and (not step.retry.exit_codes or result.exit_code in step.retry.exit_codes)
    )


def _task_state(step: Step, rec: NodeRecord, result) -> State:
    if rec.phase == SUCCEEDED:
        return Completed(name="Succeeded", message=rec.message)
    if rec.phase == SKIPPED:
        return Completed(name="Skipped", message=rec.message)
    if rec.phase == CANCELED:
        return Cancelled(message=rec.message or "stopped")
    return Failed(message=rec.message or "failed", data={"retryable": _retryable(step, result)})


def _retry_condition(task: Any, task_run: Any, state: State) -> bool:
    data = state.data if isinstance(state.data, dict) else {}
    return bool(data.get("retryable"))


def run_repeating(ctx: RunContext, step: Step, rec: NodeRecord, *, logger) -> Any:
    """A step with a repeat policy, as Dagu's runner loops it: each run (retried on failure
    per its retryPolicy, inside this task run) counts once; then the policy decides whether
    to run again. A stop lets the current run finish (only the forced stop kills it)."""
    policy = step.repeat
    stop = ForceOnlyStop(ctx.stop)
    runs = retries = 0
    while True:
        result = execute_node(ctx, step, rec, logger=logger, stop=stop)
        if _retryable(step, result) and retries < step.retry.limit and not ctx.stop.requested.is_set():
            delay = step.retry.delays()[retries]
            retries += 1
            logger.info("retry %d/%d in %gs", retries, step.retry.limit, delay)
            if ctx.stop.requested.wait(delay):
                return result
            continue
        if result is None or result.stopped:  # skipped by a precondition, or killed
            return result
        runs += 1
        if not _repeat_again(ctx, step, rec, result, runs) or ctx.stop.requested.is_set():
            return result
        delay = policy.delay(runs)
        logger.info("repeating (run %d done) in %gs", runs, delay)
        if ctx.stop.requested.wait(delay):
            return result


def _repeat_again(ctx: RunContext, step: Step, rec: NodeRecord, result, runs: int) -> bool:
    policy = step.repeat
    if policy.limit > 0 and runs >= policy.limit:
        return False
    if policy.condition is not None:
        env = ctx.step_env(step)
        if step.output and step.output in rec.outputs:  # the step's own output counts too
            env[step.output] = rec.outputs[step.output]
        met = check_preconditions(ctx, (policy.condition,), env, ctx.workdir, viewer=step.name) is None
    elif policy.exit_codes:
        met = result.exit_code in policy.exit_codes
    else:
        met = result.ok
    return met if policy.mode == "while" else not met


def _make_task(name: str, step: Step | None) -> Task:
    options: dict[str, Any] = {}
    if step is not None and step.retry and step.retry.limit > 0 and step.repeat is None:
        options = dict(
            retries=step.retry.limit,
            retry_delay_seconds=step.retry.delays(),
            retry_condition_fn=_retry_condition,
        )
    return Task(
        _node_task,
        name=name,
        task_run_name=name,
        cache_policy=NO_CACHE,
        persist_result=False,
        log_prints=False,
        **options,
    )


class Engine:
    """Runs one workflow; owns its Prefect tasks (built once per workflow)."""

    def __init__(self, wf: Workflow, options: RunOptions | None = None) -> None:
        self.wf = wf
        self.options = options or RunOptions()
        self.tasks = {s.name: _make_task(s.name, s) for s in wf.steps}
        self.handler_tasks = {
            key: _make_task(name, None)
            for key, name in (
                ("init", "onInit"),
                ("success", "onSuccess"),
                ("failure", "onFailure"),
                ("cancel", "onCancel"),
                ("exit", "onExit"),
            )
            if getattr(wf.handlers, key) is not None
        }
        # dependants, for the ready queue
        self.children: dict[str, list[str]] = {s.name: [] for s in wf.steps}
        for s in wf.steps:
            for d in s.depends:
                self.children[d].append(s.name)

    # ------------------------------------------------------------------ the flow body

    def body(self, params: list[tuple[str, str]] | None = None, stop: StopToken | None = None) -> State:
        flow_ctx = FlowRunContext.get()
        run_id = str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else str(uuid.uuid4())
        ctx = RunContext(self.wf, run_id=run_id, params=params, stop=stop, options=self.options)
        ctx.handler_stop = StopToken(grace=self.wf.semantics.stop_grace_seconds)
        ctx.canceled = False
        ctx.in_handlers = False
        ctx.handler_stop_requests = 0
        RUNS[run_id] = ctx
        notify.preload_in_background(self.options.notify)
        restore = _install_signal_handlers(lambda: self.request_stop(ctx, source=_signal_source()))
        watcher = watch_cancellation(run_id, lambda: self.request_stop(ctx, source="Prefect"))
        try:
            try:
                status = self._main(ctx)
            except Exception as exc:  # a flowport bug must not skip the failure/exit handlers
                ctx.log(f"internal error: {exc!r}")
                ctx.message = f"internal error: {exc}"
                status = FAILED
            if ctx.stop.requested.is_set():
                _stop_step_containers(ctx)  # nothing of the main graph outlives it
            ctx.in_handlers = True
            ctx.status = status
            status = lifecycle.run_handlers(
                self.wf.handlers,
                status,
                lambda key, st: self._run_handler(ctx, key, st),
                failure_fails_run=self.wf.semantics.handler_failure_fails_run,
            )
            ctx.status = status
            ctx.finished_at = now()
            notify.send_run_mail(ctx)
            report = build_report(ctx)
            REPORTS[run_id] = report
            publish_run_artifacts(report)
            return final_state(report)
        finally:
            watcher.set()
            restore()
            ctx.dag_container.close(ctx)
            ctx.close()
            RUNS.pop(run_id, None)

    def request_stop(self, ctx: RunContext, source: str = "signal") -> None:
        """First request: stop gracefully; second: kill. Handlers are not stopped by the
        first request (Dagu lets them finish)."""
        if source == "Prefect" and (ctx.canceled or ctx.in_handlers):
            return  # one cancel seen twice (our watcher, the runner's SIGTERM): not a 2nd stop
        if ctx.in_handlers:
            ctx.handler_stop_requests += 1
            if ctx.handler_stop_requests > 1:  # the first lets handlers finish, the next kills
                ctx.handler_stop.stop(force=True)
            return
        if not ctx.canceled:
            ctx.canceled = True
            ctx.message = f"stopped by {source}"
            ctx.log(f"stop requested ({source})")
            ctx.stop.stop()
        else:
            ctx.stop.stop(force=True)

    def _main(self, ctx: RunContext) -> str:
        wf = self.wf
        if wf.preconditions:
            unmet = check_preconditions(ctx, wf.preconditions, dict(ctx.base_env), ctx.workdir)
            if unmet is not None:
                ctx.canceled = True
                ctx.message = f"DAG precondition not met: {unmet}"
                ctx.log(ctx.message)
                return CANCELED
        if wf.handlers.init is not None and not ctx.canceled:
            ok = self._run_handler(ctx, "init", "running")
            if not ok:
                ctx.canceled = True
                ctx.message = "init handler failed"
                return CANCELED
        deadline_timer = None
        if wf.timeout:
            deadline_timer = threading.Timer(wf.timeout, self._on_deadline, args=(ctx,))
            deadline_timer.daemon = True
            deadline_timer.start()
        try:
            self._run_graph(ctx)
        finally:
            if deadline_timer is not None:
                deadline_timer.cancel()
        steps = list(ctx.nodes.values())
        status = run_status(steps, canceled=ctx.canceled, error=ctx.timed_out)
        if status == FAILED and not ctx.message:
            failed = [n.name for n in steps if n.phase == FAILED]
            ctx.message = f"step(s) failed: {', '.join(failed)}" if failed else ctx.message
        return status

    def _on_deadline(self, ctx: RunContext) -> None:
        ctx.timed_out = True
        ctx.message = f"DAG timeout ({self.wf.timeout:g}s) exceeded"
        ctx.log(ctx.message)
        ctx.stop.stop()

    def _run_handler(self, ctx: RunContext, key: str, status: str | None = None) -> bool:
        ctx.status = status  # what DAG_RUN_STATUS says in this handler
        rec = ctx.handler_record(key)
        if not claim(ctx.log_dir, f"handler-{key}"):  # ran already (hooks.py: exactly once)
            return True
        self.handler_tasks[key](ctx.run_id, rec.name, key, return_state=True)
        return rec.phase in (SUCCEEDED, SKIPPED)

    def _run_graph(self, ctx: RunContext) -> None:
        wf = self.wf
        by_name = {s.name: s for s in wf.steps}
        waiting = {s.name: len(s.depends) for s in wf.steps}
        ready: deque[str] = deque(s.name for s in wf.steps if not s.depends)
        done_q: queue.SimpleQueue[str] = queue.SimpleQueue()
        running: set[str] = set()
        limit = wf.max_active_steps or len(wf.steps) or 1
        started_any = False
        finished = 0
        total = len(wf.steps)

        def settle(name: str) -> None:
            """`name` has ended: unblock its dependants (deciding the ones that cannot run)."""
            nonlocal finished
            finished += 1
            for child in self.children[name]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)

        while finished < total:
            while ready and len(running) < limit:
                name = ready.popleft()
                rec = ctx.nodes[name]
                step = by_name[name]
                if ctx.stop.requested.is_set():
                    # Stopped: what has not started stays not_started (a DAG timeout cancels it).
                    if ctx.timed_out:
                        rec.phase, rec.message = CANCELED, "DAG timeout"
                    settle(name)
                    continue
                verdict, why = readiness(
                    [(ctx.nodes[d], by_name[d].continue_on) for d in step.depends]
                )
                if verdict != "run":
                    rec.phase, rec.message = verdict, why
                    ctx.log(f"{name}: {verdict} ({why})")
                    settle(name)
                    continue
                if wf.delay and started_any:
                    time.sleep(wf.delay)
                started_any = True
                rec.phase = "running"
                running.add(name)
                future = self.tasks[name].submit(ctx.run_id, name)
                future.add_done_callback(lambda _f, n=name: done_q.put(n))
            if finished >= total:
                break
            if not running:
                if ready:
                    continue
                raise RuntimeError("step graph cannot progress (cycle?)")  # validated earlier
            name = done_q.get()
            running.discard(name)
            rec = ctx.nodes[name]
            if rec.phase in ("running", NOT_STARTED):  # the task crashed before recording
                rec.phase, rec.message = FAILED, rec.message or "task crashed"
            if rec.phase == FAILED and by_name[name].mail_on_error:
                notify.send_step_error_mail(ctx, name)
            settle(name)


def _install_signal_handlers(on_signal: Callable[[], None]) -> Callable[[], None]:
    """SIGINT/SIGTERM stop the run instead of killing the process (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {}

    def handler(signum, frame):  # noqa: ARG001
        on_signal()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def build_report(ctx: RunContext) -> RunReport:
    return RunReport(
        workflow=ctx.wf.name,
        dialect=ctx.wf.dialect,
        status=ctx.status or "not_started",
        message=ctx.message,
        started_at=ctx.started_at.isoformat(),
        finished_at=(ctx.finished_at or now()).isoformat(),
        params={k: v for k, v in ctx.params},
        nodes=[NodeReport.of(r) for r in ctx.all_records()],
        outputs=dict(ctx.outputs),
        run_id=ctx.run_id,
        log_dir=str(ctx.log_dir),
    )


def final_state(report: RunReport) -> State:
    message = f"{report.workflow}: {report.status}" + (f" ({report.message})" if report.message else "")
    if report.status == "succeeded":
        return Completed(name="Succeeded", message=message)
    if report.status == "partially_succeeded":
        return Completed(name="PartiallySucceeded", message=message)
    if report.status == "canceled":
        return Cancelled(name="Cancelled", message=message)
    return Failed(name="Failed", message=message)


def _stop_step_containers(ctx: RunContext) -> None:
    """Stop and remove the run's step containers before the cancel/exit handlers start (the
    DAG-level container stays: handlers run in it too)."""
    if not ctx.wf.uses_containers():
        return
    from .runners.docker import stop_run_containers

    spare = [ctx.dag_container.container_id] if ctx.dag_container.container_id else []
    for name in stop_run_containers(ctx.run_id, grace=ctx.wf.semantics.stop_grace_seconds, spare=spare):
        ctx.log(f"container {name} stopped")


def build_flow(wf: Workflow, options: RunOptions | None = None) -> Flow:
    """A Prefect flow named after the workflow; call it with `params=[(name, value), …]`."""
    engine = Engine(wf, options)

    def run(params: list[tuple[str, str]] | None = None) -> State:
        return engine.body(params)

    run.__name__ = "run_workflow"
    return Flow(
        run,
        **notify.state_hooks(engine.options.notify),
        name=wf.name,
        task_runner=ThreadPoolTaskRunner(),
        persist_result=False,
        validate_parameters=False,
        log_prints=False,
        description=wf.description,
    )
