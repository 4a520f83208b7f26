"""`flowport export` (registered on the app in app.py): a workflow file as a Python module
in the `flowport.sdk` API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True)
EXIT_INVALID = 2


def export(
    file: Path = typer.Argument(..., help="Workflow file (Dagu DAG or Argo Workflow)."),
    output: Optional[Path] = typer.Option(
        None, "-o", "--output",
        help="Write the module here (default: print it; its working dir is then relative to the current folder)."),
) -> None:
    """Write the workflow as a Python module (flowport.sdk): a Prefect flow that runs the same."""
    from ..export import export_checked
    from ..translators.source import SourceError
    from .app import _check

    checked = _check(file)
    if not checked.ok:
        print(checked.error().render(color=err.is_terminal), file=sys.stderr)
        raise typer.Exit(EXIT_INVALID)
    target = output.resolve().parent if output else Path.cwd()
    try:
        source = export_checked(checked, target)
    except SourceError as exc:
        print(exc.render(color=err.is_terminal), file=sys.stderr)
        raise typer.Exit(EXIT_INVALID)
    if output is None:
        sys.stdout.write(source)
        return
    try:
        output.write_text(source, encoding="utf-8")
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot write {escape(str(output))}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(1)
    err.print(f"wrote {escape(str(output))}", highlight=False)
