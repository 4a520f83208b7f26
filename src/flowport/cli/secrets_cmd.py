"""The `secrets` commands: `flowport secrets import FILE…` (k8s_import.py does the work)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

secrets_app = typer.Typer(help="Kubernetes Secrets and ConfigMaps as Prefect Secret blocks and Variables.",
                          no_args_is_help=True)


@secrets_app.command(name="import")
def import_manifests(
    files: List[Path] = typer.Argument(..., help="Kubernetes manifests (kind: Secret / ConfigMap; Lists too)."),
) -> None:
    """Save every Secret as a Prefect Secret block and every ConfigMap as a Prefect Variable
    of the same name, on the server in PREFECT_API_URL; Argo `secretKeyRef`/`envFrom` and Dagu
    `secrets:` (provider `prefect`) then read them. Values are never printed."""
    from .k8s_import import ManifestError, import_objects, read_objects

    os.environ.setdefault("DO_NOT_TRACK", "1")
    try:
        objects = [obj for f in files for obj in read_objects(f)]
        if not objects:
            err.print("[red]error:[/red] no kind: Secret or ConfigMap in " + ", ".join(map(str, files)))
            raise typer.Exit(2)
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            err.print("[red]error:[/red] PREFECT_API_URL is not set: the blocks and variables go to a Prefect server")
            raise typer.Exit(1)
        for line in import_objects(objects):
            out.print(escape(line), highlight=False)
    except ManifestError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2)
