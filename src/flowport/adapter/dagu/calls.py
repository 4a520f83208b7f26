"""A Dagu call step (`call:`, V1 `run:`, V3 `action: dag.run`), as Dagu's dag and parallel
executors run it (dagucloud/dagu internal/runtime/builtin/dag/dag.go and parallel.go): each
child DAG runs as its own run through the run core (core.run_child: a Prefect subflow under
the step's task run), with the params the step gives it; the step's stdout is the child's
status as JSON (`parallel`: the aggregate of every child), and its phase follows the
children's status (dag.go / parallel.go DetermineNodeStatus)."""

from __future__ import annotations

import contextvars
import hashlib
import re
import threading
from typing import Any, Callable

from ...lang import dagu_vars, gofmt
from ...model import Step, SubDag, Workflow
from ..runners.base import LineSink, RunResult, StopToken, emit_stdout
from .status import PARTIALLY_SUCCEEDED, SUCCEEDED

OK_STATUSES = (SUCCEEDED, PARTIALLY_SUCCEEDED)  # Dagu Status.IsSuccess
# Dagu stringutil.ParseSeparatedValues: newline, comma, semicolon, pipe, tab or blanks;
# double quotes group a token
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s,;|"]+)')
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def child_run_id(parent_run_id: str, step: str, dag: str, params: str) -> str:
    """Dagu GenerateSubDAGRunIDForTarget: Base58(SHA-256("<run>:<step>:<dag>\\0<params>"))."""
    n = int.from_bytes(hashlib.sha256(f"{parent_run_id}:{step}:{dag}\0{params}".encode()).digest(), "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return out or "1"


def parallel_items(text: str) -> list[str]:
    """A `parallel: ${VAR}` value (Dagu ParseSeparatedValues): a JSON array gives one item per
    element (non-strings as compact JSON), a JSON object one item, anything else is split."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            data = gofmt.json_unmarshal(stripped)
        except ValueError:
            data = None
        if isinstance(data, list):
            return [v if isinstance(v, str) else gofmt.json_marshal(v) for v in data]
        if isinstance(data, dict):
            return [stripped]
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(stripped)]


def params_string(pairs: list[tuple[str, str]]) -> str:
    """What Dagu passes on `dagu start … -- <params>` and shows as the child's params:
    `K="v"` tokens (positional ones as written), blank-separated."""
    return " ".join(f"{k}={gofmt.quote(v)}" if k else v for k, v in pairs)


def child_params(action: SubDag, item: str | None, expand: Callable[[str, dict[str, str]], str]) -> list[tuple[str, str]]:
    """The params the child receives, evaluated in the parent step (with `ITEM` in a parallel
    step: an evaluation variable, not an env var of the child). Without `params:`, a parallel
    child receives its item as its whole params string (a scalar is positional `$1`, an
    object named params)."""
    extra = {"ITEM": item} if item is not None else {}
    if action.params is not None:
        return [(k, expand(v, extra)) for k, v in action.params]
    if action.params_text is not None:
        text = expand(action.params_text, extra)
    elif item is not None:
        text = item
    else:
        return []
    return [(k or "", v) for k, v in dagu_vars.parse_params(text)]


def status_json(report: Any, params: str) -> dict[str, Any]:
    """Dagu's RunStatus as a child publishes it to the calling step (ir/run_result.go): the
    union of the child's `output:` variables as `outputs`."""
    doc: dict[str, Any] = {"name": report.workflow, "dagRunId": report.run_id}
    if params:
        doc["params"] = params
    doc["outputs"] = {k: report.outputs[k] for k in sorted(report.outputs) if isinstance(report.outputs[k], str)}
    doc["status"] = report.status
    return doc


def _json(doc: Any) -> str:
    """json.MarshalIndent(v, "", "  ") + "\n": fields in Go's struct order, map keys sorted."""
    return gofmt.json_marshal(doc, indent="  ", sort_keys=False) + "\n"


class CallStep:
    """One call step run: its children (one, or one per distinct item), at most
    `max_concurrent` at once; a stop starts no more of them (the running ones are stopped by
    the core, through their caller's RunControl)."""

    def __init__(self, ctx: Any, step: Step, action: SubDag, rec: Any, stop: StopToken | None,
                 expand: Callable[[str, dict[str, str]], str], logger: Any) -> None:
        self.ctx, self.step, self.action, self.rec, self.stop = ctx, step, action, rec, stop
        self.expand, self.logger = expand, logger
        self.child: Workflow = ctx.wf.subdag(action.dag)

    def runs(self) -> list[list[tuple[str, str]]]:
        """The children's params: one run per distinct params (Dagu keys child runs by a
        hash of them, so items that give the same params are one run)."""
        fan = self.action.parallel
        if fan is None:
            return [child_params(self.action, None, self.expand)]
        items = list(fan.items) if fan.source is None else parallel_items(self.expand(fan.source, {}))
        seen: dict[str, list[tuple[str, str]]] = {}
        for item in items:
            params = child_params(self.action, item, self.expand)
            seen.setdefault(params_string(params), params)
        return list(seen.values())

    def run(self, sink: LineSink, out_file: Any) -> RunResult:
        try:
            runs = self.runs()
        except Exception as exc:  # an expression the languages cannot evaluate
            return RunResult(None, error=str(exc))
        fan = self.action.parallel
        if fan is not None and not runs:
            return RunResult(None, error="no sub DAG runs to execute: the parallel items are empty")
        if fan is not None and len(runs) > 1000:
            return RunResult(None, error=f"{len(runs)} parallel items: Dagu runs at most 1000")
        reports = self._run_all(runs, fan.max_concurrent if fan else 1)
        stopped = self.stop is not None and self.stop.requested.is_set()
        if fan is None:
            return self._single(runs[0], reports[0], stopped, sink, out_file)
        return self._parallel(runs, reports, stopped, sink, out_file)

    def _run_all(self, runs: list[list[tuple[str, str]]], limit: int) -> list[Any]:
        reports: list[Any] = [None] * len(runs)
        gate = threading.Semaphore(max(limit, 1))

        def one(i: int) -> None:
            with gate:
                if self.stop is not None and self.stop.requested.is_set():
                    return  # a stop launches no pending child (parallel.go Kill)
                params = runs[i]
                inline_id = child_run_id(self.ctx.run_id, self.step.name, self.action.dag, params_string(params))
                self.logger.info("starting child DAG %s (params: %s)", self.child.name, params_string(params) or "none")
                reports[i] = self.ctx.run_child(self.child, params, inline_id, self.logger)
                self.logger.info("child DAG %s run %s ended %s", self.child.name, reports[i].run_id, reports[i].status)

        if len(runs) == 1:
            one(0)
            return reports
        # each thread in this task run's context: Prefect nests the child flow runs under it
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(one, i),
                                    name=f"flowport-call-{self.step.name[:20]}-{i}", daemon=True)
                   for i in range(len(runs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return reports

    def _single(self, params: list[tuple[str, str]], report: Any, stopped: bool, sink: LineSink,
                out_file: Any) -> RunResult:
        if report is None:
            return RunResult(None, stopped=True)
        self.rec.sub_runs = [report]
        text = _json(status_json(report, params_string(params)))
        emit_stdout(text, sink, out_file)
        if report.status == SUCCEEDED:
            return RunResult(0, text)
        if report.status == PARTIALLY_SUCCEEDED:
            return RunResult(0, text, partial=True)
        if stopped:
            return RunResult(None, text, stopped=True)
        return RunResult(1, text, error=f"sub DAG run {report.run_id} failed with status: {report.status}")

    def _parallel(self, runs: list[list[tuple[str, str]]], reports: list[Any], stopped: bool, sink: LineSink,
                  out_file: Any) -> RunResult:
        done = [(p, r) for p, r in zip(runs, reports) if r is not None]
        self.rec.sub_runs = [r for _, r in done]
        if stopped:  # parallel.go: a canceled fan-out writes no aggregate, the step is aborted
            return RunResult(None, stopped=True)
        results = [status_json(r, params_string(p)) for p, r in done]
        ok = [d for d in results if d["status"] in OK_STATUSES]
        text = _json({
            "summary": {"total": len(runs), "succeeded": len(ok), "failed": len(results) - len(ok)},
            "results": results,
            "outputs": [d["outputs"] for d in ok],
        })
        emit_stdout(text, sink, out_file)
        failed = len(results) - len(ok)
        if failed:
            return RunResult(1, text, error=f"parallel execution failed: {failed} sub dag(s) failed")
        partial = any(d["status"] == PARTIALLY_SUCCEEDED for d in results) or len(results) != len(runs)
        return RunResult(0, text, partial=partial)

