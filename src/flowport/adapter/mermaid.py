"""A workflow's graph as a Mermaid flowchart: Dagu steps and their `depends`, Argo
templates (steps groups in order, DAG tasks and their `depends`, a called steps/dag template
as its own subgraph); lifecycle handlers, exit handlers and hooks drawn apart in their own
subgraph, after the graph. Pure text from the model: `flowport plan --mermaid` prints it
and the run's markdown artifact embeds it."""

from __future__ import annotations

import re
from typing import Iterable

from ..model import HANDLER_NODE_NAMES, Workflow

_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


class _Chart:
    def __init__(self) -> None:
        self.lines = ["flowchart TD"]
        self.count = 0

    def node(self, label: str, indent: str = "  ", shape: str = "box") -> str:
        self.count += 1
        ident = f"n{self.count}"
        text = label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
        opening, closing = {"box": ('["', '"]'), "round": ('("', '")'), "hex": ('{{"', '"}}')}[shape]
        self.lines.append(f"{indent}{ident}{opening}{text}{closing}")
        return ident

    def edge(self, a: str, b: str, dashed: bool = False, indent: str = "  ") -> None:
        self.lines.append(f"{indent}{a} {'-.->' if dashed else '-->'} {b}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def mermaid(wf: Workflow) -> str:
    chart = _Chart()
    if wf.argo is not None:
        _argo(chart, wf)
    else:
        _dagu(chart, wf)
    return chart.text()


def _dagu(chart: _Chart, wf: Workflow) -> None:
    ids = {s.name: chart.node(s.name) for s in wf.steps}
    for s in wf.steps:
        for d in s.depends:
            chart.edge(ids[d], ids[s.name])
    handlers = wf.handlers.items()
    if not handlers:
        return
    chart.lines.append('  subgraph handlers["handlerOn (by the final status, then exit)"]')
    status_nodes, exit_node = [], None
    for key, _step in handlers:
        label = HANDLER_NODE_NAMES[key] + (" (before the steps)" if key == "init" else "")
        ident = chart.node(label, "    ", "round")
        if key == "exit":
            exit_node = ident
        elif key != "init":
            status_nodes.append(ident)
    for ident in status_nodes if exit_node else ():
        chart.edge(ident, exit_node, dashed=True, indent="    ")
    chart.lines.append("  end")
    last = [ids[s.name] for s in wf.steps if not any(s.name in t.depends for t in wf.steps)]
    for ident in last:
        chart.edge(ident, "handlers", dashed=True)


def _argo(chart: _Chart, wf: Workflow) -> None:
    spec = wf.argo
    drawn: dict[str, tuple[str, str]] = {}  # template name -> (first node, last node) of its subgraph
    entry = _template(chart, spec, spec.entrypoint, drawn, "  ")
    lifecycle = [(f"hooks.{h.name} (when {h.expression})", h.template) for h in spec.hooks]
    if spec.exit_hook:
        lifecycle.append(("onExit", spec.exit_hook.template))
    if not lifecycle:
        return
    chart.lines.append('  subgraph lifecycle["exit handler and hooks (apart from the entrypoint)"]')
    for label, template in lifecycle:
        head = chart.node(label, "    ", "round")
        first, _ = _template(chart, spec, template, drawn, "    ")
        chart.edge(head, first, indent="    ")
    chart.lines.append("  end")
    chart.edge(entry[1], "lifecycle", dashed=True)


def _template(chart: _Chart, spec, name: str, drawn: dict[str, tuple[str, str]], indent: str) -> tuple[str, str]:
    """(first, last) node of template `name`; a steps/dag template is a subgraph, drawn once."""
    if name in drawn:
        return drawn[name]
    tmpl = spec.templates.get(name)
    if tmpl is None or tmpl.kind not in ("steps", "dag"):
        kind = tmpl.kind if tmpl is not None else "?"
        ident = chart.node(f"{name} ({kind})", indent)
        drawn[name] = (ident, ident)
        return drawn[name]
    sub = f"t{len(drawn) + 1}"
    drawn[name] = (sub, sub)  # a call back into itself (recursion) points at the subgraph
    chart.lines.append(f'{indent}subgraph {sub}["{name} ({tmpl.kind})"]')
    inner = indent + "  "
    if tmpl.kind == "steps":
        previous: list[str] = []
        for group in tmpl.steps:
            current = [_call(chart, spec, call, drawn, inner) for call in group]
            for a in previous:
                for b in current:
                    chart.edge(a, b, indent=inner)
            previous = current or previous
    else:
        ids = {t.name: _call(chart, spec, t, drawn, inner) for t in tmpl.tasks}
        for t in tmpl.tasks:
            for dep in _depends_on(t.depends, ids):
                chart.edge(ids[dep], ids[t.name], indent=inner)
    chart.lines.append(f"{indent}end")
    return drawn[name]


def _call(chart: _Chart, spec, call, drawn: dict[str, tuple[str, str]], indent: str) -> str:
    target = spec.templates.get(call.template)
    label = f"{call.name} → {call.template}" + (" (loop)" if call.loop else "") + (" (when)" if call.when else "")
    ident = chart.node(label, indent, "hex" if call.when else "box")
    if target is not None and target.kind in ("steps", "dag"):
        first, _ = _template(chart, spec, call.template, drawn, indent)
        chart.edge(ident, first, dashed=True, indent=indent)
    return ident


def _depends_on(depends: str | None, names: Iterable[str]) -> list[str]:
    known = set(names)
    seen: list[str] = []
    for token in _TOKEN.findall(depends or ""):
        if token in known and token not in seen:
            seen.append(token)
    return seen
