"""Run visibility in the Prefect UI: each run publishes a markdown artifact with the node
table (source status, phases, durations, handler outcomes) and the run report JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime

from .report import RunReport


def artifact_key(workflow: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes. One key per workflow, so
    the Artifacts page keeps the history of each workflow's runs."""
    slug = re.sub(r"[^a-z0-9-]+", "-", workflow.lower()).strip("-") or "workflow"
    return f"flowport-{slug}"[:100]


def _duration(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    try:
        seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return ""
    return f"{seconds:.1f} s"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: RunReport, graph: str | None = None) -> str:
    """The run's markdown: summary, node table, the workflow's graph (Mermaid), the report."""
    lines = [
        f"# {report.workflow}: {report.status}",
        "",
        f"- source: {report.dialect}",
        f"- status: **{report.status}**" + (f" ({_cell(report.message)})" if report.message else ""),
        f"- duration: {_duration(report.started_at, report.finished_at)}",
    ]
    if report.params:
        lines.append("- params: " + ", ".join(f"`{k}={v}`" for k, v in report.params.items()))
    if report.log_dir:
        lines.append(f"- logs: `{report.log_dir}`")
    lines += ["", "| node | kind | phase | exit code | started | duration | message |",
              "|---|---|---|---|---|---|---|"]
    for n in report.nodes:
        lines.append(
            f"| {_cell(n.display_name)} | {n.kind} | {n.phase} | {_cell(n.exit_code)} | "
            f"{_cell(n.started_at)} | {_duration(n.started_at, n.finished_at)} | {_cell(n.message)} |"
        )
    saved = [(n, a) for n in report.nodes for a in (n.outputs.get("artifacts") or ())]
    if saved:  # Argo artifacts: where each one lives
        lines += ["", "## Artifacts", "", "| node | artifact | size | location |", "|---|---|---|---|"]
        for n, a in saved:
            lines.append(f"| {_cell(n.display_name)} | {_cell(a.get('name'))} | {_cell(a.get('size'))} | "
                         f"{_cell(a.get('url') or a.get('key'))} |")
    if graph:
        lines += ["", "## Graph", "", "```mermaid", graph.rstrip("\n"), "```"]
    lines += ["", "## Run report", "", "```json", json.dumps(report.to_dict(), indent=2), "```", ""]
    return "\n".join(lines)


def publish_run_artifacts(report: RunReport, graph: str | None = None) -> str | None:
    """Create the markdown artifact in the current flow run; never fails the run. Returns
    the artifact key, or None when nothing could be published."""
    try:
        from prefect.artifacts import create_markdown_artifact

        key = artifact_key(report.workflow)
        create_markdown_artifact(
            markdown=render_markdown(report, graph),
            key=key,
            description=f"flowport run report: {report.workflow} {report.status}",
        )
        return key
    except Exception as exc:  # visibility must never change a run's outcome
        try:
            from prefect.logging import get_run_logger

            get_run_logger().warning("flowport: could not publish the run artifact: %s", exc)
        except Exception:
            pass
        return None
