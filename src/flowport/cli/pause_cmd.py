"""`flowport resume` / `flowport reject`: answer a run that waits for a person (an Argo
`suspend: {}`, a Dagu `approval:` step) through the Prefect API in PREFECT_API_URL, as the
Prefect UI's Resume dialog does."""

from __future__ import annotations

import uuid
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True)
out = Console()


def _flow_run_id(run_id: str) -> uuid.UUID:
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        err.print("[red]error:[/red] PREFECT_API_URL is not set: point it at the Prefect server of the run "
                  "(e.g. http://127.0.0.1:4200/api)")
        raise typer.Exit(2)
    try:
        return uuid.UUID(run_id)
    except ValueError:
        err.print(f"[red]error:[/red] {escape(run_id)!s} is not a flow run id (a UUID, as `flowport run` prints it)")
        raise typer.Exit(2) from None


def _answer(run_id: str, values: dict[str, str], *, reject: bool, reason: str) -> None:
    from ..adapter import pauses

    flow_run_id = _flow_run_id(run_id)
    try:
        pauses.answer(flow_run_id, values, reject=reject, reason=reason)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except Exception as exc:  # the server: unreachable, no such flow run
        err.print(f"[red]error:[/red] cannot reach flow run {run_id}: {escape(str(exc))}")
        raise typer.Exit(1) from None
    out.print(f"{'rejected' if reject else 'resumed'} flow run {run_id}")


def resume(
    run_id: str = typer.Argument(..., help="The flow run id of the paused run."),
    param: List[str] = typer.Option([], "-p", "--param", help="A value the pause asks for: NAME=VALUE; repeatable."),
) -> None:
    """Resume a run that waits for a person (Argo `argo resume` / `argo node set
    --output-parameter`, Dagu approve): the values become the node's outputs."""
    values = {}
    for item in param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            err.print(f"[red]error:[/red] -p {escape(item)}: give NAME=VALUE")
            raise typer.Exit(2)
        values[name] = value
    _answer(run_id, values, reject=False, reason="")


def reject(
    run_id: str = typer.Argument(..., help="The flow run id of the paused run."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why; shown on the node and in the report."),
) -> None:
    """Reject a run that waits for a person: an Argo suspend node fails (as `argo node set
    --phase Failed`), a Dagu approval step ends `rejected` and the run with it."""
    _answer(run_id, {}, reject=True, reason=reason or "")
