"""`flowport deploy` and `flowport serve` (registered on the app in cli.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, List, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2
T = TypeVar("T")


def _specs(files: list[Path], name: Optional[str], tags: list[str], params: list[str]):
    from .deploy import DeployError, parse_param_options, spec_for
    from ..translators.source import SourceError

    try:
        overrides = parse_param_options(params)
    except DeployError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_INVALID)
    specs, failed = [], False
    for f in files:
        try:
            specs.append(spec_for(f, name=name, tags=tags, params=overrides))
        except SourceError as exc:
            print(exc.render(color=err.is_terminal), file=sys.stderr)
            failed = True
        except DeployError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            failed = True
    if failed:
        raise typer.Exit(EXIT_INVALID)
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        err.print(f"[red]error:[/red] two files give the deployment name(s) {', '.join(dupes)}; "
                  "deploy them separately with --name")
        raise typer.Exit(EXIT_INVALID)
    return specs


def _on_server(what: str, call: Callable[[], T]) -> T:
    """`call()`; its DeployError, or a server problem (unreachable, rejected request), ends
    the command with exit code 1 and a one-line message."""
    from .deploy import DeployError

    try:
        return call()
    except DeployError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1)
    except Exception as exc:  # noqa: BLE001 - server unreachable, rejected request
        err.print(f"[red]error:[/red] {escape(what)}: {escape(str(exc))}")
        raise typer.Exit(1)


def deploy(
    files: List[Path] = typer.Argument(..., help="Workflow files (Dagu DAGs, Argo Workflows)."),
    pool: str = typer.Option(..., "--pool", help="Prefect work pool the deployments run in (e.g. a `process` pool)."),
    name: Optional[str] = typer.Option(None, "--name", help="Deployment name (default: the workflow's name)."),
    tag: List[str] = typer.Option([], "--tag", help="Extra tag; repeatable."),
    param: List[str] = typer.Option([], "--param", "-p", help="NAME=VALUE: the deployment's default for a workflow parameter; repeatable."),
    work_queue: Optional[str] = typer.Option(None, "--work-queue", help="Work queue of the pool."),
    paused: bool = typer.Option(False, "--paused", help="Register the deployments paused (schedules do not fire)."),
    prefect_yaml: bool = typer.Option(False, "--prefect-yaml", help="Write a prefect.yaml instead of registering (then: prefect deploy --all)."),
    output: Path = typer.Option(Path("prefect.yaml"), "--output", "-o", help="Where --prefect-yaml writes."),
) -> None:
    """Register one Prefect deployment per workflow on the server in PREFECT_API_URL.

    Each deployment runs flowport's static flow with the workflow's YAML as a parameter;
    Dagu `schedule` and Argo CronWorkflow schedules become Prefect cron schedules."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    specs = _specs(files, name, tag, param)
    from .deploy import prefect_yaml as render_yaml, register, save_secrets

    if prefect_yaml:  # the file keeps placeholders; the secrets go to the server
        _on_server("cannot save the Secret blocks", lambda: save_secrets(specs))
        output.write_text(render_yaml(specs, pool, work_queue=work_queue))
        out.print(f"wrote {output} ({len(specs)} deployment(s)); register with: "
                  f"prefect --no-prompt deploy --all --prefect-file {output}")
        return
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        err.print("[red]error:[/red] PREFECT_API_URL is not set: deploy needs a running Prefect server "
                  "(`prefect server start`), or use --prefect-yaml")
        raise typer.Exit(1)
    done = _on_server(f"cannot register on {PREFECT_API_URL.value()}",
                      lambda: register(specs, pool, work_queue=work_queue, paused=paused))
    for spec, deployment_id, changed in done:
        sched = ", ".join(f"{c.cron} ({c.timezone}){'' if c.active else ' inactive'}" for c in spec.schedules)
        out.print(f"[green]deployed[/] {spec.full_name}  ({spec.workflow.dialect}, {deployment_id})"
                  + (f"  schedules: {sched}" if sched else "") + ("" if changed else "  unchanged"))
    same = sum(1 for *_, changed in done if not changed)
    if same:
        out.print(f"{same} of {len(done)} deployment(s) were already up to date on the server")
    out.print(f"run one with: prefect deployment run '{done[0][0].full_name}'" if done else "")


def serve(
    folder: Path = typer.Argument(..., help="Folder whose *.yaml / *.yml workflows are served."),
    tag: List[str] = typer.Option([], "--tag", help="Extra tag; repeatable."),
    param: List[str] = typer.Option([], "--param", "-p", help="NAME=VALUE default for every workflow having that parameter; repeatable."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most this many runs at once."),
) -> None:
    """Serve every workflow of FOLDER from this process (no work pool or worker needed).

    The files are read at start: restart to pick up changes. Ctrl-C stops serving."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from .deploy import DeployError, serve as serve_all, workflow_files

    try:
        files = workflow_files(folder)
    except DeployError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_INVALID)
    if not files:
        err.print(f"[red]error:[/red] no *.yaml or *.yml file in {folder}")
        raise typer.Exit(EXIT_INVALID)
    specs = _specs(files, None, tag, param)
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        err.print("[red]error:[/red] PREFECT_API_URL is not set: serve needs a running Prefect server")
        raise typer.Exit(1)
    for spec in specs:
        out.print(f"serving {spec.full_name}  ({Path(spec.path).name})")
    try:
        serve_all(specs, limit=limit)
    except DeployError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
