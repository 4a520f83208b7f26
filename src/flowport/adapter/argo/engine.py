"""ArgoSpec → one Prefect flow run (DESIGN.md §4, Argo table).

The flow body runs the entry template, the workflow-level hooks and the exit handler
itself (Prefect state hooks could not change the outcome), then returns a state carrying
Argo's phase: Completed(name="Succeeded") or Failed(name="Failed"|"Error").
Leaves (container/script/http/suspend) are Prefect task runs named like Argo's display
names; steps/dag templates run inline in the flow (no subflows: one flow run per workflow
keeps the Prefect overhead low and the UI a flat, readable list of task runs).

Stop (first Ctrl-C, SIGTERM or a Prefect cancel): running steps are killed, no new step
starts, exit handlers still run, phase Failed "Stopped with strategy 'Stop'". A second
request, or `--on-cancel terminate`, is Terminate: exit handlers are killed / never start.
"""

from __future__ import annotations

import random
import string
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

from prefect import Flow, Task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from ...model import Workflow
from .. import notify
from ..cancel import watch_cancellation
from ..context import log_root, now, safe_name
from ..options import RunOptions
from ..report import NodeReport, RunReport
from .executor import ERROR, FAILED, SUCCEEDED, Executor, Node
from .leaf import run_leaf

RUNS: dict[str, Executor] = {}  # by flow run id: the live view and the task runs find them here
ARGO_RUNS: dict[str, "ArgoRun"] = {}
REPORTS: dict[str, RunReport] = {}


def _leaf_task(run_id: str, node_id: str) -> State:
    """The body of every leaf task run: two short strings in, the node's state out."""
    run = ARGO_RUNS[run_id]
    work = run.work.pop(node_id)
    return work(get_run_logger())


class ArgoRun:
    """What the leaves of one run share: the Prefect tasks, log files, options."""

    def __init__(self, engine: "ArgoEngine", run_id: str, name: str) -> None:
        self.engine = engine
        self.wf = engine.wf
        self.run_id = run_id
        self.images = engine.options.images
        self.grace = engine.wf.semantics.stop_grace_seconds
        self.work: dict[str, Callable[[Any], State]] = {}
        self.log_dir = log_root() / safe_name(name) / run_id
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def task(self, name: str) -> Task:
        return self.engine.task(name)

    def log_paths(self, node: Node) -> tuple[Path, Path]:
        base = str(self.log_dir / safe_name(node.id)[-150:])  # node ids hold dots: no with_suffix
        return Path(base + ".out"), Path(base + ".err")


class ArgoEngine:
    def __init__(self, wf: Workflow, options: RunOptions | None = None) -> None:
        self.wf = wf
        self.spec = wf.argo
        self.options = options or RunOptions()
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def task(self, name: str) -> Task:
        t = self._tasks.get(name)
        if t is None:
            with self._lock:
                t = self._tasks.get(name)
                if t is None:
                    t = Task(_leaf_task, name=name, task_run_name=name, cache_policy=NO_CACHE,
                             persist_result=False, log_prints=False)
                    self._tasks[name] = t
        return t

    def body(self, params: list[tuple[str, str]] | None = None) -> State:
        flow_ctx = FlowRunContext.get()
        run_id = str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else str(uuid.uuid4())
        spec = self.spec
        name = spec.name or f"{spec.generate_name or 'argo-'}{''.join(random.choices(string.ascii_lowercase + string.digits, k=5))}"
        named = {k: v for k, v in (params or []) if k}
        ex = Executor(spec, workflow_name=name, uid=run_id, params=named, run_leaf=run_leaf,
                      grace=self.wf.semantics.stop_grace_seconds)
        run = ArgoRun(self, run_id, name)
        ex.engine = run  # type: ignore[attr-defined]
        RUNS[run_id] = ex
        ARGO_RUNS[run_id] = run
        started = now()
        from ..engine import _install_signal_handlers  # shared with the Dagu engine

        restore = _install_signal_handlers(lambda: self.request_stop(ex, "signal"))
        watcher = watch_cancellation(run_id, lambda: self.request_stop(ex, "Prefect"))
        timer = None
        if spec.active_deadline:
            timer = threading.Timer(spec.active_deadline, self._deadline, args=(ex,))
            timer.daemon = True
            timer.start()
        try:
            try:
                ex.run_workflow()
            except Exception as exc:  # a flowport bug: report it as Argo reports a controller error
                ex.status, ex.message = ERROR, f"internal error: {exc!r}"
            report = build_report(ex, run, started)
            REPORTS[run_id] = report
            return final_state(report)
        finally:
            if timer is not None:
                timer.cancel()
            watcher.set()
            restore()
            _remove_leftovers(run_id)
            RUNS.pop(run_id, None)
            ARGO_RUNS.pop(run_id, None)

    def request_stop(self, ex: Executor, source: str, strategy: str | None = None) -> None:
        """First request: Stop (or Terminate with --on-cancel terminate); the next: Terminate.
        `strategy` forces one (what `argo stop` / `argo terminate` ask for)."""
        first = getattr(self.options, "on_cancel", "stop") or "stop"
        with ex.lock:
            if strategy is not None:
                pass
            elif ex.shutdown is None:
                strategy = "Terminate" if first == "terminate" else "Stop"
            else:
                strategy = "Terminate"
            again = ex.shutdown == "Terminate"
            ex.shutdown = strategy
        ex.main_stop.stop(force=again)
        if strategy == "Terminate":
            ex.exit_stop.stop(force=again)

    def _deadline(self, ex: Executor) -> None:
        ex.deadline_exceeded = True
        ex.main_stop.stop()


def _remove_leftovers(run_id: str) -> None:
    """Containers still there after the run (a crash in a task run): gone."""
    try:
        from ..runners.docker import stop_run_containers

        stop_run_containers(run_id, grace=0)
    except Exception:
        pass


def _outputs(n: Node) -> dict[str, Any]:
    out = {k: v for k, v in n.outputs.items() if k in ("result", "parameters", "exitCode") and v is not None}
    if n.type not in ("Pod", "Retry") and "result" in out and out["result"] == "":
        out.pop("result")
    return out


def build_report(ex: Executor, run: ArgoRun, started) -> RunReport:
    def iso(t):
        return t.isoformat() if t else None

    nodes = []
    for n in ex.records():
        r = NodeReport(name=n.id, display_name=n.display, kind=n.kind, phase=n.phase, exit_code=n.exit_code,
                       started_at=iso(n.started_at), finished_at=iso(n.finished_at), outputs=_outputs(n),
                       message=n.message)
        for attr, value in (("parent", n.parent), ("template", n.template), ("node_type", n.type)):
            if hasattr(r, attr):
                setattr(r, attr, value)
        nodes.append(r)
    return RunReport(
        workflow=ex.name, dialect="argo", status=ex.status, message=ex.message,
        started_at=started.isoformat(), finished_at=now().isoformat(),
        params={k: v for k, v in ex.arguments.items() if v is not None},
        nodes=nodes, outputs=dict(ex.global_outputs), run_id=run.run_id, log_dir=str(run.log_dir),
    )


def final_state(report: RunReport) -> State:
    message = f"{report.workflow}: {report.status}" + (f" ({report.message})" if report.message else "")
    if report.status == SUCCEEDED:
        return Completed(name="Succeeded", message=message)
    return Failed(name=report.status if report.status in (FAILED, ERROR) else FAILED, message=message)


def build_flow(wf: Workflow, options: RunOptions | None = None) -> Flow:
    engine = ArgoEngine(wf, options)

    def run(params: list[tuple[str, str]] | None = None) -> State:
        return engine.body(params)

    run.__name__ = "run_argo_workflow"
    return Flow(run, **notify.state_hooks(engine.options.notify),
                name=wf.name, task_runner=ThreadPoolTaskRunner(), persist_result=False,
                validate_parameters=False, log_prints=False, description=wf.description)
