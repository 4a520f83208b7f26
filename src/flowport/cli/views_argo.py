"""Terminal views for Argo workflows: the plan (template tree) and an `argo get`-like tree.
Workflow text is `escape`d wherever a line also carries markup (see views)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..model import Workflow

ICON = {"Succeeded": ("✔", "green"), "Failed": ("✖", "red"), "Error": ("⚠", "red"),
        "Skipped": ("○", "dim"), "Omitted": ("○", "dim"), "Running": ("●", "cyan"), "Pending": ("◷", "dim")}


def describe(wf: Workflow) -> str:
    spec = wf.argo
    kinds: dict[str, int] = {}
    for t in spec.templates.values():
        kinds[t.kind] = kinds.get(t.kind, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    hooks = (1 if spec.exit_hook else 0) + len(spec.hooks)
    from .helptext import count

    return f"argo {spec.kind}, {count(len(spec.templates), 'template')} ({parts}), {count(hooks, 'workflow hook')}"


def render_argo_plan(console: Console, wf: Workflow) -> None:
    spec = wf.argo
    console.print(f"[bold]{escape(wf.name)}[/]  (argo {escape(spec.kind)}, {escape(wf.source_file)})", highlight=False)
    if spec.arguments:
        console.print("arguments: " + " ".join(f"{p.name}={p.value if p.value is not None else p.default}"
                                                for p in spec.arguments), markup=False, highlight=False)
    if wf.schedule:
        console.print("schedule: " + ", ".join(wf.schedule) + (" (suspended)" if wf.schedule_paused else "")
                      + " — a Prefect deployment schedule (`flowport deploy`); `run` runs once now",
                      markup=False, highlight=False)
    if spec.active_deadline:
        console.print(f"activeDeadlineSeconds {spec.active_deadline:g} (exit handlers ignore it)", highlight=False)
    if spec.parallelism:
        console.print(f"parallelism {spec.parallelism} (containers at once)", highlight=False)
    for line in _volume_lines(spec):
        console.print(line, markup=False, highlight=False)
    console.print(f"entrypoint: [bold]{escape(spec.entrypoint)}[/]", highlight=False)
    seen: set[str] = set()
    _plan_template(console, wf, spec.entrypoint, "  ", seen)
    for hook in spec.hooks:
        console.print(f"hooks.{hook.name} (when {hook.expression}, at most once; before the exit handler): "
                      f"{hook.template}", markup=False, highlight=False)
        _plan_template(console, wf, hook.template, "  ", seen)
    if spec.exit_hook:
        console.print(f"onExit (after the entrypoint, also when it failed or was stopped; its failure "
                      f"turns Succeeded into Failed/Error): {spec.exit_hook.template}", markup=False, highlight=False)
        _plan_template(console, wf, spec.exit_hook.template, "  ", seen)
    console.print("[dim]container/script/http/suspend nodes run as Prefect task runs; steps and dag "
                  "templates are orchestrated inside the flow run[/]", highlight=False)
    for note in wf.ignored:
        console.print(Text(f"ignored: {note}", style="dim"), highlight=False)


_VOLUME_KINDS = {
    "claimTemplate": "a Docker volume per run",
    "emptyDir": "a fresh Docker volume per step",
    "persistentVolumeClaim": "Docker volume",
    "hostPath": "bind of",
}


def _volume_lines(spec) -> list[str]:
    """What each volume of the spec becomes, and when the run removes it."""
    lines = []
    for v in spec.volumes:
        where = f" {v.path}" if v.path else ""
        lines.append(f"volume {v.name}: {_VOLUME_KINDS.get(v.source, v.source)}{where}"
                     + (" (read-only)" if v.read_only else ""))
    if any(v.source == "claimTemplate" for v in spec.volumes):
        when = "after a success" if spec.volume_claim_gc == "OnWorkflowSuccess" else "after every run"
        lines.append(f"volumeClaimGC {spec.volume_claim_gc}: claim volumes are removed {when} "
                     "(kept with --keep-volumes)")
    return lines


def _what(t) -> str:
    if t.kind in ("container", "script") and t.container is not None:
        c = t.container
        argv = " ".join([*(c.entrypoint or ()), *(c.cmd or ())])
        return f"{t.kind} {c.image}" + (f": {argv}" if argv else "") + (" + source" if c.script else "")
    if t.kind == "http" and t.http is not None:
        return f"http {t.http.method} {t.http.url}"
    if t.kind == "suspend":
        return f"suspend {t.suspend_duration}"
    return t.kind


def _policy(t) -> str:
    bits = []
    if t.retry:
        bits.append(f"retry {t.retry.limit if t.retry.limit is not None else '∞'}× ({t.retry.policy})")
    if t.timeout or t.active_deadline:
        bits.append(f"timeout {t.timeout or t.active_deadline}")
    if t.parallelism:
        bits.append(f"parallelism {t.parallelism}")
    if t.mutexes:
        bits.append("mutex " + ",".join(t.mutexes))
    return f" [dim]({escape('; '.join(bits))})[/]" if bits else ""


def _plan_template(console: Console, wf: Workflow, name: str, indent: str, seen: set[str]) -> None:
    t = wf.argo.templates.get(name)
    if t is None:
        return
    if name in seen and t.kind in ("steps", "dag"):
        console.print(f"{indent}[dim](template {escape(name)} shown above)[/]", highlight=False)
        return
    seen.add(name)
    if t.kind == "steps":
        for i, group in enumerate(t.steps):
            console.print(f"{indent}\\[{i}] " + ("in parallel: " if len(group) > 1 else "") +
                          escape(", ".join(c.name for c in group)) + _policy(t), highlight=False)
            for c in group:
                _plan_call(console, wf, c, indent + "    ", seen)
    elif t.kind == "dag":
        console.print(f"{indent}dag" + (f" target {escape(t.target)}" if t.target else "") + _policy(t), highlight=False)
        for c in t.tasks:
            _plan_call(console, wf, c, indent + "    ", seen, dag=True)
    else:
        console.print(f"{indent}{escape(_what(t))}{_policy(t)}", highlight=False)


def _plan_call(console: Console, wf: Workflow, c, indent: str, seen: set[str], dag: bool = False) -> None:
    extra = []
    if dag and c.depends:
        extra.append(f"depends {c.depends}")
    if c.when:
        extra.append(f"when {c.when}")
    if c.loop is not None:
        extra.append("loop " + ("withItems" if c.loop.items is not None else "withParam" if c.loop.param else "withSequence"))
    if c.continue_failed or c.continue_error:
        extra.append("continueOn")
    hooks = [f"{c.name}.onExit → {c.exit_hook.template}"] if c.exit_hook else []
    hooks += [f"{c.name}.hooks.{h.name} → {h.template} (when {h.expression})" for h in c.hooks]
    t = wf.argo.templates.get(c.template)
    what = _what(t) if t is not None and t.kind not in ("steps", "dag") else f"template {c.template}"
    console.print(f"{indent}{escape(f'{c.name}: {what}')}" + (f" [dim]({escape('; '.join(extra))})[/]" if extra else ""), highlight=False)
    for h in hooks:
        console.print(f"{indent}  {h}", markup=False, highlight=False)
    if t is not None and t.kind in ("steps", "dag"):
        _plan_template(console, wf, c.template, indent + "  ", seen)


# ---------------------------------------------------------------- after the run


def _secs(a: str | None, b: str | None) -> str:
    if not a or not b:
        return ""
    d = (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()
    return f"{d:.0f}s" if d >= 1 else f"{d:.1f}s"


def tree_lines(report) -> list[tuple[str, object]]:
    """(prefix + name, node) in `argo get` order: StepGroup nodes are folded into their
    parent, as `argo get` shows them."""
    by_id = {n.name: n for n in report.nodes}
    kids: dict[str | None, list] = {}
    for n in report.nodes:
        kids.setdefault(n.parent, []).append(n)

    def children(n) -> list:
        out = []
        for c in kids.get(n.name, []):
            if c.node_type == "StepGroup":
                out.extend(children(c))
            else:
                out.append(c)
        return out

    lines: list[tuple[str, object]] = []

    def walk(n, prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└─" if last else "├─")
        lines.append((prefix + branch, n))
        cs = children(n)
        for i, c in enumerate(cs):
            walk(c, prefix + ("" if root else ("  " if last else "│ ")), i == len(cs) - 1, False)

    for r in kids.get(None, []):
        walk(r, "", True, True)
    seen = {id(n) for _, n in lines}
    for n in report.nodes:  # anything whose parent is unknown
        if id(n) not in seen and n.parent not in by_id:
            lines.append(("", n))
    return lines


def render_argo_summary(console: Console, report) -> None:
    style = "green" if report.status == "Succeeded" else "red"
    console.print(Text(f"Name:     {report.workflow}"), highlight=False)
    console.print(Text.assemble("Status:   ", (report.status, style)), highlight=False)
    if report.message:
        console.print(f"Message:  {report.message}", markup=False, highlight=False)
    console.print(f"Duration: {_secs(report.started_at, report.finished_at)}", highlight=False)
    lines = tree_lines(report)
    width = max([len(p) + 2 + len(n.display_name) for p, n in lines] + [4]) + 2
    tw = max([len((n.template or "").split("/")[-1]) for _, n in lines] + [8]) + 2
    console.print()
    console.print(Text(f"{'STEP':<{width}}{'TEMPLATE':<{tw}}{'DURATION':<10}MESSAGE", style="bold"), highlight=False)
    for prefix, n in lines:
        icon, colour = ICON.get(n.phase, ("?", ""))
        name = f"{prefix}{icon} {n.display_name}"
        row = Text(f"{prefix}")
        row.append(icon, style=colour)
        row.append(f" {n.display_name}".ljust(width - len(prefix) - 1))
        row.append(f"{(n.template or '').split('/')[-1] if n.node_type not in ('StepGroup',) else '':<{tw}}")
        row.append(f"{_secs(n.started_at, n.finished_at):<10}")
        row.append(n.message or "", style="dim" if n.phase in ("Skipped", "Omitted") else "")
        del name
        console.print(row, overflow="ellipsis", no_wrap=True, highlight=False)
    if report.outputs:
        console.print("Outputs: " + ", ".join(f"{k}={v}" for k, v in report.outputs.items()), markup=False, highlight=False)
    if report.run_id:
        console.print(Text(f"run id {report.run_id}; logs in {report.log_dir}", style="dim"), highlight=False)
