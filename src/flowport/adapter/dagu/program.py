"""The Dagu program: what a Dagu run means (DESIGN.md §4, Dagu table).

The main graph runs its steps as they become ready (Dagu runtime/runner.go), the status rules
decide the run's status (status.py), then the status handler and `exit` run, each claimed
once (lifecycle.py). A DAG-level `retry_policy` asks the core for another attempt of a failed
run (`retry_nodes` says which steps run again). Signals, cancel, deadlines, the wait between
attempts and Prefect states are the core's (adapter/core.py); this module only reads the run's
`RunControl`.
"""

from __future__ import annotations

import queue
import time
from datetime import datetime
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ...model import HANDLER_NODE_NAMES, Step, Workflow
from ..core import Outcome, PendingRetry, RunControl, run_child
from ..options import RunOptions
from ..records import NodeRecord, now
from ..runfiles import claim, claimed
from ..runners.base import ForceOnlyStop
from ..states import node_state
from . import lifecycle, mail
from .context import RunContext
from .status import (CANCELED, FAILED, NOT_STARTED, PARTIALLY_SUCCEEDED, SKIPPED, SUCCEEDED, readiness,
                     run_status)
from .steps import check_preconditions, execute_node


def retry_nodes(steps: tuple[Step, ...], phases: dict[str, str]) -> list[str]:
    """The steps a DAG retry runs again (Dagu plan.go setupRetry): each that did not end
    succeeded or skipped (failed, canceled, never started), and every step downstream of one
    of them; in the order of `steps`."""
    again: set[str] = set()
    children: dict[str, list[str]] = {s.name: [] for s in steps}
    for s in steps:
        for d in s.depends:
            children[d].append(s.name)
    stack = [s.name for s in steps if phases.get(s.name) not in (SUCCEEDED, PARTIALLY_SUCCEEDED, SKIPPED)]
    while stack:
        name = stack.pop()
        if name not in again:
            again.add(name)
            stack.extend(children[name])
    return [s.name for s in steps if s.name in again]


def retryable(step: Step, result: Any) -> bool:
    return bool(
        step.retry
        and result is not None
        and not result.ok
        and not result.timed_out  # Dagu never retries a step that hit its timeout
        and not result.stopped
        and (not step.retry.exit_codes or result.exit_code in step.retry.exit_codes)
    )


class DaguProgram:
    """One run of a Dagu DAG. `execute` runs one node once (steps.execute_node; a test
    passes a fake that only sets phases)."""

    def __init__(self, wf: Workflow, *, run_id: str, params: list[tuple[str, str]] | None, options: RunOptions,
                 control: RunControl, leaves: Any, folder: Path, name: str | None = None,
                 execute: Callable[..., Any] = execute_node) -> None:
        self.wf = wf
        self.name = wf.name  # Dagu's reports name the DAG; `name` is the run's (flow run) name
        self.deadline = wf.timeout
        self.control = control
        self.leaves = leaves
        self.folder = folder
        self.execute = execute
        self.attempt = 0  # Dagu's autoRetryCount; the core sets it
        self.ctx = RunContext(wf, run_id=run_id, params=params, stop=control.main, options=options,
                              log_dir=folder)

        def start_child(child: Workflow, child_params: list[tuple[str, str]], inline_id: str, logger: Any) -> Any:
            return run_child(child, params=child_params, options=options, caller=control, leaves=leaves,
                             logger=logger, inline_id=inline_id)

        self.ctx.run_child = start_child  # call steps (calls.py) run their child DAGs through it
        self.canceled = False  # stopped, or an unmet DAG precondition / failed init handler
        self.skip_handlers = False  # the run failed before it began (its secrets)
        self.status: str | None = None
        self.children: dict[str, list[str]] = {s.name: [] for s in wf.steps}
        for s in wf.steps:
            self.ctx.nodes[s.name].after = tuple(s.depends)
            for d in s.depends:
                self.children[d].append(s.name)
        self.last_steps = tuple(name for name, kids in self.children.items() if not kids)
        self.lifecycle_tail = self.last_steps  # what the next handler follows in the run graph

    @staticmethod
    def run_name(wf: Workflow) -> str:
        """`<dag>-<date>-<time>`, how the Dagu UI lists a DAG's runs by their start."""
        return f"{wf.name}-{datetime.now():%Y%m%d-%H%M%S}"

    # ------------------------------------------------------------------ what the core asks

    def stop_requested(self, source: str) -> None:
        if self.control.in_lifecycle or self.canceled:
            return
        self.canceled = True
        self.ctx.message = f"stopped by {source}"
        self.ctx.log(f"stop requested ({source})")

    def deadline_passed(self) -> None:
        self.ctx.timed_out = True
        self.ctx.message = f"DAG timeout ({self.wf.timeout:g}s) exceeded"
        self.ctx.log(self.ctx.message)

    def internal_error(self, exc: BaseException) -> None:
        """A flowport bug must not skip the failure/exit handlers."""
        self.ctx.log(f"internal error: {exc!r}")
        self.ctx.message = f"internal error: {exc}"
        self.status = FAILED

    def records(self) -> list[NodeRecord]:
        return self.ctx.all_records()

    def public_outputs(self, rec: NodeRecord) -> dict[str, Any]:
        return dict(rec.outputs)

    def spare_containers(self) -> list[str]:
        cid = self.ctx.dag_container.container_id
        return [cid] if cid else []

    def outcome(self) -> Outcome:
        ctx = self.ctx
        return Outcome(status=ctx.status or "not_started", message=ctx.message, params=dict(ctx.params),
                       outputs=dict(ctx.outputs))

    def close(self) -> None:
        self.ctx.dag_container.close(self.ctx)
        self.ctx.close()

    # ------------------------------------------------------------------ main graph

    def run_main(self) -> None:
        ctx, wf = self.ctx, self.wf
        if ctx.secret_error:  # Dagu's initErr path: failed, no step, no handler
            ctx.message, self.status, self.skip_handlers = ctx.secret_error, FAILED, True
            ctx.log(ctx.message)
            return
        if wf.preconditions:
            unmet = check_preconditions(ctx, wf.preconditions, dict(ctx.base_env), ctx.workdir)
            if unmet is not None:
                self.canceled = True
                ctx.message = f"DAG precondition not met: {unmet}"
                ctx.log(ctx.message)
                self.status = CANCELED
                return
        if wf.handlers.init is not None and not self.canceled:
            if not self.run_handler("init", "running"):
                self.canceled = True
                ctx.message = "init handler failed"
                self.status = CANCELED
                return
        self.run_graph()
        steps = list(ctx.nodes.values())
        self.status = run_status(steps, canceled=self.canceled or self.control.stopped, error=ctx.timed_out)
        if self.status == FAILED and not ctx.message:
            failed = [n.name for n in steps if n.phase == FAILED]
            ctx.message = f"step(s) failed: {', '.join(failed)}" if failed else ctx.message

    def run_graph(self) -> None:
        """Start steps as their dependencies end (at most maxActiveSteps at once); decide the
        ones that cannot run (Dagu runner.go isReady); after a stop, start nothing."""
        ctx, wf = self.ctx, self.wf
        by_name = {s.name: s for s in wf.steps}
        waiting = {s.name: len(s.depends) for s in wf.steps}
        ready: deque[str] = deque(s.name for s in wf.steps if not s.depends)
        done_q: queue.SimpleQueue[str] = queue.SimpleQueue()
        running: set[str] = set()
        limit = wf.max_active_steps or len(wf.steps) or 1
        started_any = False
        finished = 0

        def settle(name: str) -> None:
            nonlocal finished
            finished += 1
            for child in self.children[name]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)

        while finished < len(wf.steps):
            while ready and len(running) < limit:
                name = ready.popleft()
                rec, step = ctx.nodes[name], by_name[name]
                if rec.done:  # a retry keeps it: it succeeded or was skipped, above no failure
                    settle(name)
                    continue
                if self.control.main.requested.is_set():
                    if ctx.timed_out:  # a DAG timeout cancels what has not started
                        rec.phase, rec.message = CANCELED, "DAG timeout"
                    settle(name)  # a stop leaves it not_started
                    continue
                verdict, why = readiness([(ctx.nodes[d], by_name[d].continue_on) for d in step.depends])
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
                future = self.leaves.submit(name, name, self._step_work(step, rec),
                                            retry=step.retry if step.repeat is None else None, after=rec.after)
                future.add_done_callback(lambda _f, n=name: done_q.put(n))
            if finished >= len(wf.steps):
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
                mail.send_step_error_mail(ctx, name)
            settle(name)

    def _step_work(self, step: Step, rec: NodeRecord) -> Callable[[Any], Any]:
        def work(logger: Any) -> Any:
            if step.repeat is not None:
                result = self.run_repeating(step, rec, logger)
            else:
                result = self.execute(self.ctx, step, rec, logger=logger, stop=self.ctx.stop)
            return node_state(rec.phase, rec.message, {"retryable": retryable(step, result)})

        return work

    def run_repeating(self, step: Step, rec: NodeRecord, logger: Any) -> Any:
        """A step with a repeat policy, as Dagu's runner loops it: each run (retried on
        failure per its retryPolicy, inside this task run) counts once; then the policy
        decides whether to run again. A stop lets the current run finish (only the forced
        stop kills it)."""
        ctx, policy = self.ctx, step.repeat
        stop = ForceOnlyStop(ctx.stop)
        runs = retries = 0
        while True:
            result = self.execute(ctx, step, rec, logger=logger, stop=stop)
            if retryable(step, result) and retries < step.retry.limit and not ctx.stop.requested.is_set():
                delay = step.retry.delays()[retries]
                retries += 1
                logger.info("retry %d/%d in %gs", retries, step.retry.limit, delay)
                if ctx.stop.requested.wait(delay):
                    return result
                continue
            if result is None or result.stopped:  # skipped by a precondition, or killed
                return result
            runs += 1
            if not self._repeat_again(step, rec, result, runs) or ctx.stop.requested.is_set():
                return result
            delay = policy.delay(runs)
            logger.info("repeating (run %d done) in %gs", runs, delay)
            if ctx.stop.requested.wait(delay):
                return result

    def _repeat_again(self, step: Step, rec: NodeRecord, result: Any, runs: int) -> bool:
        ctx, policy = self.ctx, step.repeat
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

    # ------------------------------------------------------------------ lifecycle

    def run_lifecycle(self) -> None:
        """The status handler, then exit (each claimed once); then the run mail, which Dagu
        sends after every attempt (agent.go reporter.send)."""
        ctx = self.ctx
        status = self.status or FAILED
        ctx.status = status
        if self.skip_handlers:
            ctx.finished_at = now()
            return
        self.lifecycle_tail = self.last_steps  # each attempt's handlers follow its steps
        handlers = self.wf.handlers
        if status == FAILED and self.retries_left() and handlers.failure is not None:
            # Dagu runner.go shouldRunFailureHandler: held back while a retry will follow
            ctx.log(f"failure handler held back: retry {self.attempt + 1} of {self.wf.retry.limit} is pending")
            handlers = replace(handlers, failure=None)
        status = lifecycle.run_handlers(handlers, status, self.run_handler,
                                        failure_fails_run=self.wf.semantics.handler_failure_fails_run)
        ctx.status = status
        ctx.finished_at = now()
        mail.send_run_mail(ctx, abort=self.control.lifecycle_node().forced)  # a 2nd signal ends it

    # ------------------------------------------------------------------ DAG-level retry

    def retries_left(self) -> bool:
        return self.wf.retry is not None and self.attempt < self.wf.retry.limit

    def retry_pending(self) -> PendingRetry | None:
        """A run that ended failed runs again while the policy allows (Dagu's scheduler
        retry_scanner.go: failed root runs only; a canceled or succeeded one is final)."""
        if self.ctx.status != FAILED or not self.retries_left():
            return None
        delay = self.wf.retry.delay(self.attempt)
        self.ctx.log(f"run failed: retry {self.attempt + 1} of {self.wf.retry.limit} in {delay:g}s")
        return PendingRetry(delay=delay, reset=self._reset_for_retry, abandon=self._abandon_retry)

    def _reset_for_retry(self) -> None:
        """The next attempt (Dagu plan.go setupRetry): the steps that failed or were canceled,
        and every step below one of them, run again; the others keep their result and
        outputs. The handlers (init too) run again; the report shows this attempt's."""
        ctx = self.ctx
        again = retry_nodes(self.wf.steps, {name: rec.phase for name, rec in ctx.nodes.items()})
        for name in again:
            ctx.reset_node(name)
        ctx.handler_nodes.clear()
        ctx.stop = self.control.main  # the attempt's own stop token
        ctx.status = ctx.message = ctx.finished_at = None
        ctx.timed_out = False
        ctx.dag_container.error = None  # a DAG container that failed to start is tried again
        self.canceled = False
        self.status = None
        ctx.log(f"attempt {self.attempt + 1}: running again {', '.join(again) or 'no step'}")

    def _abandon_retry(self, source: str) -> None:
        """A stop while the retry waits: the run ends aborted, no handler runs (Dagu
        dagrun/failed_auto_retry_cancel.go)."""
        ctx = self.ctx
        ctx.status = CANCELED
        ctx.message = f"stopped by {source} while retry {self.attempt + 1} of {self.wf.retry.limit} was pending"
        ctx.log(ctx.message)

    # ------------------------------------------------------------------ handlers

    def handler_claim(self, key: str) -> str:
        """Each attempt runs its handlers once: the first attempt's claims keep their names."""
        return f"handler-{key}" if self.attempt == 0 else f"handler-{key}-retry{self.attempt}"

    def run_handler(self, key: str, status: str | None = None) -> bool:
        """Run handler `key` once (claimed across processes); True when it succeeded."""
        ctx = self.ctx
        ctx.status = status  # what DAG_RUN_STATUS says in this handler
        rec = ctx.handler_record(key)
        if not claim(self.folder, self.handler_claim(key)):  # ran already: exactly once
            return True
        step = getattr(self.wf.handlers, key)

        stop = self.control.lifecycle_node()

        def work(logger: Any) -> Any:
            self.execute(ctx, step, rec, logger=logger, stop=stop, handler=key, status=ctx.status)
            return node_state(rec.phase, rec.message)

        if key != "init":
            rec.after, self.lifecycle_tail = self.lifecycle_tail, (rec.name,)
        self.leaves.run(HANDLER_NODE_NAMES[key], rec.name, work, after=rec.after)
        if rec.phase in ("running", NOT_STARTED):
            rec.phase, rec.message = FAILED, rec.message or "task crashed"
        return rec.phase in (SUCCEEDED, SKIPPED)

    def replay_lifecycle(self, reason: str, logger: Any) -> list[str]:
        """From a Prefect hook, after the flow process is gone: the handlers of a canceled
        run that nobody claimed (Dagu runs none for a crashed one: core checks Semantics)."""
        status = CANCELED if reason == "canceled" else FAILED
        pending = [k for k in lifecycle.handler_order(status)
                   if getattr(self.wf.handlers, k) is not None and not claimed(self.folder, self.handler_claim(k))]
        if not pending:
            logger.info("flowport: the flow run already ran its handlers")
            return []
        self.ctx.log(f"the flow process is gone; running {', '.join(pending)} from a Prefect hook")
        ran = []
        for key in pending:
            ok = self.run_handler(key, status)
            rec = self.ctx.handler_record(key)
            if rec.phase == NOT_STARTED:  # another process claimed it meanwhile
                continue
            ran.append(rec.name)
            logger.info("flowport: handler %s ended %s", rec.name, rec.phase)
            if not ok:
                logger.warning("flowport: handler %s failed: %s", rec.name, rec.message)
        return ran
