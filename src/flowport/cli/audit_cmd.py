"""The `audit` command (audit.py does the work)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)


def audit(
    folders: List[Path] = typer.Argument(..., help="Folders (searched recursively) or files of Dagu DAGs and Argo workflows."),
    as_json: bool = typer.Option(False, "--json", help="Print the audit as JSON instead of the summary."),
    html: Optional[Path] = typer.Option(None, "--html", metavar="PATH", help="Also write the audit as one self-contained HTML page."),
) -> None:
    """Tell how much of a folder of workflows moves as it is: each file runs as is, needs a
    feature flowport does not support yet, or is invalid for its own engine, with every
    problem's location; features ranked by how many files they block. Exit 0; 2 when a
    folder does not exist."""
    from .audit import render, run_audit, to_html, to_json

    missing = [str(f) for f in folders if not f.exists()]
    if missing:
        err.print(f"[red]error:[/red] not found: {', '.join(missing)}")
        raise typer.Exit(2)
    from .app import _templates  # the global --templates option

    result = run_audit(folders, templates=_templates)
    if html is not None:
        html.write_text(to_html(result), encoding="utf-8")
    if as_json:
        print(to_json(result))
    else:
        render(out, result, base=Path.cwd().resolve())
        if html is not None:
            out.print(f"wrote {html}", highlight=False)
