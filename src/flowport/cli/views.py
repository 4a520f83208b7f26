"""Terminal views for the CLI: plan, live progress, summary (rich). Text from the workflow
(names, commands, messages) is never read as rich markup: it is `escape`d in markup strings
and given as `Text` to tables, so a step named `[/red]` prints as written."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..model.workflow import step_dict
from ..model import HANDLER_NODE_NAMES, Container, Http, Mail, PythonCall, Shell, Sql, Step, SubDag, Workflow

PHASE_STYLE = {
    "succeeded": "green", "Succeeded": "green", "partially_succeeded": "yellow",
    "failed": "red", "Failed": "red", "Error": "red", "canceled": "yellow",
    "skipped": "dim", "Skipped": "dim", "Omitted": "dim", "not_started": "dim", "running": "cyan",
    "waiting": "magenta", "rejected": "red", "Pending": "dim",
}


def _what(step: Step, wf: Workflow) -> str:
    a = step.action
    if isinstance(a, Shell):
        shell = " ".join(a.shell or wf.shell) or "$SHELL (or sh)"
        if a.argv is not None:
            return "exec " + " ".join(a.argv)
        if a.script is not None:
            first = a.script.strip().splitlines()[0] if a.script.strip() else ""
            return f"script via {shell}: {first}" + (" …" if "\n" in a.script.strip() else "")
        return f"{shell} -c {a.command}"
    if isinstance(a, Container):
        return f"container {a.image}"
    if isinstance(a, Mail):
        return f"mail to {', '.join(a.to)}"
    if isinstance(a, Http):
        return f"http {a.method} {a.url}"
    if isinstance(a, Sql):
        text = (a.query if a.query is not None else a.script or "").strip()
        return f"sqlite {a.dsn}: {text.splitlines()[0] if text else ''}" + (" …" if "\n" in text else "")
    if isinstance(a, SubDag):
        fan = a.parallel
        each = "" if fan is None else f" per item of {fan.source or len(fan.items)} (at most {fan.max_concurrent} at once)"
        return f"call {a.dag} as a subflow{each}"
    if isinstance(a, PythonCall):
        fn = a.function
        return f"python {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}()"
    return type(a).__name__


def levels(wf: Workflow) -> dict[str, int]:
    """Wave number of each step: 1 + the deepest dependency's (what can run together)."""
    level: dict[str, int] = {}
    pending = {s.name: s for s in wf.steps}
    while pending:
        progressed = False
        for name, s in list(pending.items()):
            if all(d in level for d in s.depends):
                level[name] = 1 + max((level[d] for d in s.depends), default=0)
                del pending[name]
                progressed = True
        if not progressed:
            break
    return level


# A rich Table lays out every row before printing (~0.4 ms a row): past this many steps the
# plan prints as plain columns, a line at a time, so time and memory stay linear.
PLAIN_PLAN_ROWS = 2000


def render_plan(console: Console, wf: Workflow) -> None:
    if wf.argo is not None:
        from .views_argo import render_argo_plan

        return render_argo_plan(console, wf)
    console.print(f"[bold]{escape(wf.name)}[/]  ({wf.dialect}, {escape(wf.source_file)})", highlight=False)
    for line in _plan_header(wf):
        console.print(line, markup=False, highlight=False)
    lv = levels(wf)
    rows = (_plan_row(s, wf, lv) for s in sorted(wf.steps, key=lambda s: lv.get(s.name, 0)))
    columns = ("wave", "step", "after", "runs", "policy")
    if len(wf.steps) > PLAIN_PLAN_ROWS:
        _print_plain_rows(console, "steps (Prefect task runs)", columns, rows)
    else:
        table = Table(title="steps (Prefect task runs)", show_lines=False)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table, highlight=False)
    handlers = wf.handlers.items()
    if handlers:
        console.print("[bold]handlers[/] (after the steps, as task runs):", highlight=False)
        for key, step in handlers:
            console.print(f"  {HANDLER_NODE_NAMES[key]}: {_what(step, wf)}", markup=False, highlight=False)
        console.print("  order: success|failure|cancel by final status, then exit; a failing handler fails a succeeded run", highlight=False)
    for line in _plan_mail(wf):
        console.print(line, markup=False, highlight=False)
    for note in wf.ignored:
        console.print(Text(f"ignored: {note}", style="dim"), highlight=False)


def _plan_header(wf: Workflow) -> list[str]:
    lines = [f"working dir: {wf.workdir}"]
    if wf.schedule:
        lines.append("schedule: " + ", ".join(wf.schedule) + (" (paused)" if wf.schedule_paused else "")
                     + " — a Prefect deployment schedule (`flowport deploy`); `run` runs once now")
    if wf.timeout:
        lines.append(f"timeout {wf.timeout:g}s")
    if wf.max_active_steps:
        lines.append(f"max {wf.max_active_steps} steps at once")
    if wf.max_active_runs:
        lines.append(f"max {wf.max_active_runs} runs at once (Prefect global concurrency limit)")
    if wf.delay:
        lines.append(f"{wf.delay:g}s between step starts")
    if wf.retry:
        lines.append(_dag_retry_text(wf.retry))
    if wf.params or wf.params_text:
        lines.append("params: " + (wf.params_text or " ".join(f"{p.name}={p.default}" for p in wf.params)))
    if wf.preconditions:
        lines.append("DAG preconditions (unmet → canceled): " + "; ".join(p.condition for p in wf.preconditions))
    return lines


def _plan_row(s: Step, wf: Workflow, lv: dict[str, int]) -> tuple[str, ...]:
    policy = []
    if s.retry:
        policy.append(f"retry {s.retry.limit}×")
    if s.repeat:
        policy.append(f"repeat {s.repeat.mode}" + (f" ≤{s.repeat.limit}×" if s.repeat.limit else ""))
    if s.timeout:
        policy.append(f"timeout {s.timeout:g}s")
    if s.continue_on.any:
        policy.append("continueOn")
    if s.preconditions:
        policy.append("preconditions")
    if s.output:
        policy.append(f"output → {s.output}")
    if s.mail_on_error:
        policy.append("error mail")
    if s.approval is not None:
        policy.append("approval" + (f" ({', '.join(s.approval.inputs)})" if s.approval.inputs else ""))
    return (str(lv.get(s.name, "?")), s.name, ", ".join(s.depends), _what(s, wf), ", ".join(policy))


def _print_plain_rows(console: Console, title: str, columns: tuple[str, ...], rows) -> None:
    """Plain columns for a big plan, without a first pass for the widths: each column is as
    wide as its header or 12 characters, and longer cells just push on. The lines go out in
    one write (a write per line cost ~10 µs a step to a pipe)."""
    widths = [max(len(c), 12) for c in columns]
    write = console.file.write

    def line(cells) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip() + "\n"

    write("".join([title + "\n", line(columns), *map(line, rows)]))


def _plan_mail(wf: Workflow) -> list[str]:
    """The run mail Dagu sends after the handlers (mailOn + errorMail/infoMail)."""
    mail, lines = wf.mail, []
    for when, on, block in (("failure", mail.on_failure, mail.error_mail), ("success", mail.on_success, mail.info_mail)):
        if on:
            to = ", ".join(block.to) if block else "(no mail block: nothing is sent)"
            lines.append(f"mail on {when}: to {to}, after the handlers")
    if mail.smtp is not None and lines:
        lines.append(f"  via SMTP {mail.smtp.host}:{mail.smtp.port}")
    return lines


def _dag_retry_text(policy) -> str:
    """`flowport plan`'s line for a DAG-level retry_policy, with the waits it makes."""
    waits = ", ".join(f"{policy.delay(n):g}s" for n in range(min(policy.limit, 4)))
    more = ", …" if policy.limit > 4 else ""
    return f"retry_policy: a failed run runs again up to {policy.limit}×, after {waits}{more}"


def _duration(start: datetime | None, end: datetime | None) -> str:
    if not start:
        return ""
    secs = ((end or datetime.now(start.tzinfo)) - start).total_seconds()
    return f"{secs:.1f}s"


@contextlib.contextmanager
def live_progress(console: Console, wf: Workflow, *, enabled: bool) -> Iterator[None]:
    """The run's nodes, redrawn in place until the run ends; then the view is erased
    (transient) and the summary takes its place, so no frame stays on the screen."""
    if not enabled:
        yield
        return
    from ..adapter.core import RUNS

    started = time.monotonic()
    seen: list = []  # the run once it began: its last frame stays until the view closes

    def view():
        active = next(iter(RUNS.values()), None)
        if active is not None:
            seen[:] = [active]
        table = Table(title=Text(f"{wf.name} — {time.monotonic() - started:.0f}s"), expand=False)
        table.add_column("node")
        table.add_column("phase")
        table.add_column("time", justify="right")
        if not seen:
            return Group(table, Text("starting Prefect flow run…", style="dim"))
        for rec in seen[0].program.records():
            style = PHASE_STYLE.get(rec.phase, "")
            table.add_row(Text(rec.label), Text(rec.phase, style=style), _duration(rec.started_at, rec.finished_at))
        return table

    with _logs_above(console), Live(get_renderable=view, console=console, refresh_per_second=4, transient=True):
        yield


def _summary_rows(table: Table, nodes, indent: str) -> None:
    """A row per node; a call step's child runs (sub-DAGs) below it, indented."""
    for n in nodes:
        table.add_row(Text(indent + n.display_name), n.kind, Text(n.phase, style=PHASE_STYLE.get(n.phase, "")),
                      "" if n.exit_code is None else str(n.exit_code), Text(n.message or ""))
        for child in getattr(n, "sub_runs", ()):
            table.add_row(Text(f"{indent}  ↳ {child.workflow}"), "sub-DAG",
                          Text(child.status, style=PHASE_STYLE.get(child.status, "")), "",
                          Text(child.message or ""))
            _summary_rows(table, child.nodes, indent + "    ")


@contextlib.contextmanager
def _logs_above(console: Console) -> Iterator[None]:
    """Prefect's console log handlers print through `console` while the live view runs: their
    own Console writes to the stream it found when the handler was made, under the view, which
    pushes the view down and leaves its old frames on the screen. Handlers Prefect makes
    during the run included (the class's emit is wrapped, under each handler's own lock)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    own_emit = PrefectConsoleHandler.emit

    def emit(handler: PrefectConsoleHandler, record) -> None:
        own, handler.console = handler.console, console
        try:
            own_emit(handler, record)
        finally:
            handler.console = own

    PrefectConsoleHandler.emit = emit  # type: ignore[method-assign]
    try:
        yield
    finally:
        PrefectConsoleHandler.emit = own_emit  # type: ignore[method-assign]


FAILED_PHASES = ("failed", "Failed", "Error")
STDERR_TAIL_LINES = 5


def stderr_tail(path: Path, lines: int = STDERR_TAIL_LINES, width: int = 300) -> list[str]:
    """The last non-empty lines of a step's stderr file (each cut at `width`)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    kept = [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
    return [line if len(line) <= width else line[:width] + " …" for line in kept]


def _stderr_files(report, wf: Workflow | None) -> dict[str, Path]:
    """node name → its stderr file, named as the Dagu program names it (runfiles.FileNames
    over the steps, then the handlers); a step whose stderr is redirected has none here."""
    if wf is None or not report.log_dir:
        return {}
    from ..adapter.runfiles import FileNames

    names = FileNames([*(s.name for s in wf.steps), *HANDLER_NODE_NAMES.values()])
    redirected = {s.name for s in wf.steps if getattr(s, "stderr_path", None) or getattr(s, "stderr_artifact", None)}
    folder = Path(report.log_dir)
    return {n.name: names.paths(folder, n.name, ".err")[0] for n in report.nodes if n.name not in redirected}


def render_failures(console: Console, report, wf: Workflow | None) -> None:
    """For each failed node: the last lines of its stderr; then where the logs are."""
    files = _stderr_files(report, wf)
    failed = [n for n in report.nodes if n.phase in FAILED_PHASES]
    for n in failed:
        tail = stderr_tail(files[n.name]) if n.name in files else []
        if tail:
            console.print(Text(f"{n.display_name}: last lines of stderr", style="bold red"), highlight=False)
            for line in tail:
                console.print(Text(f"  {line}"), highlight=False, soft_wrap=True)


def render_summary(console: Console, report, wf: Workflow | None = None) -> None:
    """The final table; for a Dagu run also the failed nodes' stderr tails (needs `wf` to
    find their files) and the log folder."""
    if report.dialect == "argo":
        from .views_argo import render_argo_summary

        return render_argo_summary(console, report)
    table = Table(title=Text(f"{report.workflow}: {report.status}"), title_style=PHASE_STYLE.get(report.status, ""))
    for col in ("node", "kind", "phase", "exit", "message"):
        table.add_column(col)
    _summary_rows(table, report.nodes, "")
    console.print(table, highlight=False)
    if report.message:
        console.print(f"{report.status}: {report.message}", markup=False, highlight=False)
    if report.attempts > 1:
        console.print(f"{report.attempts} attempts (retry_policy); the nodes above are the last attempt's",
                      markup=False, highlight=False)
    render_failures(console, report, wf)
    if report.run_id:
        where = f"; logs in {report.log_dir}" if report.log_dir else ""
        console.print(Text(f"run id {report.run_id}{where}", style="dim"), highlight=False, soft_wrap=True)


def write_plan_json(wf: Workflow, out: TextIO) -> None:
    """`plan --json`: the IR as indented JSON, its steps encoded and written one at a time so
    a 50,000-step DAG needs no more memory than `validate` (the whole dict and string did)."""
    marker = "\u0000steps"
    head, tail = json.dumps({**wf.to_dict(steps=False), "steps": marker}, indent=2, default=str).split(
        json.dumps(marker), 1)
    out.write(head)
    if not wf.steps:
        out.write("[]")
    for i, step in enumerate(wf.steps):
        item = json.dumps(step_dict(step), indent=2, default=str).replace("\n", "\n    ")
        out.write(("[\n    " if i == 0 else ",\n    ") + item)
    if wf.steps:
        out.write("\n  ]")
    out.write(tail + "\n")
