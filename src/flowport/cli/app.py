"""`flowport` command line: wires translators, adapter and views together."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Run Dagu DAGs and Argo Workflows as Prefect 3 flows, lifecycle handlers included.",
)
out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2
_settings: dict[str, Path | None] = {"base_config": None}
_templates: list[Path] = []  # Argo: WorkflowTemplate files/folders for workflowTemplateRef/templateRef


@app.callback()
def _global_options(
    base_config: Optional[Path] = typer.Option(
        None, "--base-config", envvar="DAGU_BASE_CONFIG",
        help="Dagu base config merged under every DAG (default: $DAGU_HOME/base.yaml or ~/.config/dagu/base.yaml if present)."),
    templates: List[Path] = typer.Option(
        [], "--templates", envvar="FLOWPORT_TEMPLATES",
        help="Argo: a WorkflowTemplate file or folder that workflowTemplateRef/templateRef may name; repeatable."),
) -> None:
    _settings["base_config"] = base_config
    _templates[:] = templates


def _base_config() -> Path | None:
    from ..translators.dagu_base import default_base_config

    return _settings["base_config"] or default_base_config()


def _parse_params(values: list[str]) -> list[tuple[str, str]]:
    """`-p NAME=VALUE` (named) or `-p VALUE` (positional, in order)."""
    parsed = []
    for item in values:
        key, sep, value = item.partition("=")
        parsed.append((key, value) if sep and key and " " not in key else ("", item))
    return parsed


@app.command()
def validate(
    files: List[Path] = typer.Argument(..., help="Workflow files to check."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Check workflow files; print every problem with file:line:col. Exit 2 if any."""
    results = [_check(f) for f in files]
    if as_json:
        doc = [
            {
                "file": r.file,
                "ok": r.ok,
                "workflow": r.workflow.name if r.workflow else None,
                "dialect": r.workflow.dialect if r.workflow else None,
                "problems": [p.to_dict() for p in r.problems],
                "ignored": r.ignored,
            }
            for r in results
        ]
        print(json.dumps(doc, indent=2))
    else:
        for r in results:
            if r.ok and r.workflow.argo is not None:
                from .views_argo import describe

                out.print(f"[green]ok[/]  {escape(r.file)}: {escape(describe(r.workflow))}")
            elif r.ok:
                wf = r.workflow
                out.print(f"[green]ok[/]  {escape(r.file)}: {wf.dialect}, {len(wf.steps)} steps, "
                          f"{len(wf.handlers.items())} handlers")
            else:
                print(r.error().render(color=err.is_terminal), file=sys.stderr)
    raise typer.Exit(0 if all(r.ok for r in results) else EXIT_INVALID)


def _check(file: Path):
    """`check`, and a bug in it reported as a problem of the file rather than a traceback (the
    fuzz test calls `check` itself, so such bugs still fail the tests)."""
    from ..translators import Checked, check
    from ..translators.source import Mark, Problem

    try:
        return check(file, base_config=_base_config(), templates=_templates)
    except Exception as exc:  # noqa: BLE001 - the contract: every input gets an answer, exit 2
        return Checked(str(file), None, [Problem(
            f"flowport failed while checking this file ({type(exc).__name__}: {exc})", Mark(str(file), 0, 0), (),
            "this is a flowport bug: please report it with the file")])


def _load_or_exit(file: Path):
    r = _check(file)
    if not r.ok:
        print(r.error().render(color=err.is_terminal), file=sys.stderr)
        raise typer.Exit(EXIT_INVALID)
    return r.workflow


@app.command()
def plan(
    file: Path = typer.Argument(..., help="Workflow file."),
    as_json: bool = typer.Option(False, "--json", help="Print the translated IR as JSON."),
) -> None:
    """Show what `run` would do: steps, order, handlers, where each runs. Nothing runs."""
    from .secrets import redact_strings, redactor
    from .views import render_plan

    wf = _load_or_exit(file)
    # Secrets never reach a plan: literal secrets of the file and secret URLs are masked.
    wf = redact_strings(wf, redactor(file.read_text(encoding="utf-8-sig")))
    if as_json:
        print(json.dumps(wf.to_dict(), indent=2, default=str))
        return
    render_plan(out, wf)


@app.command()
def run(
    file: Path = typer.Argument(..., help="Workflow file."),
    param: List[str] = typer.Option([], "--param", "-p", help="NAME=VALUE (or VALUE for a positional parameter); repeatable."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the run report as JSON here."),
    logs: Optional[bool] = typer.Option(None, "--logs/--no-logs", help="Stream step logs to the terminal (default: when not a terminal)."),
    image: List[str] = typer.Option([], "--image", help="NAME=MIRROR: run MIRROR wherever the workflow names image NAME; repeatable (also $FLOWPORT_IMAGES and the config file's `images:`)."),
    config: Optional[Path] = typer.Option(None, "--config", help="flowport config file (YAML: `images:`, `notify:`). Default: $FLOWPORT_CONFIG, else ~/.flowport/config.yaml if present."),
    notify: List[str] = typer.Option([], "--notify", help="Alert through Apprise when the run ends: 'URL' or 'URL on=failure,success,cancel' (or on=all; default on=failure); repeatable."),
    keep_volumes: Optional[bool] = typer.Option(None, "--keep-volumes/--no-keep-volumes", help="Argo: keep the Docker volumes made for volumeClaimTemplates after the run, whatever volumeClaimGC says (config file: `keep_volumes: true`); `flowport cleanup` removes them."),
    on_cancel: str = typer.Option("stop", "--on-cancel", help="Argo: what the first Ctrl-C/SIGTERM/Prefect cancel does: 'stop' (kill the steps, still run exit handlers) or 'terminate' (exit handlers do not run)."),
) -> None:
    """Run the workflow now as a Prefect flow run (embedded server unless PREFECT_API_URL is set).

    Exit code 0 only when the run succeeded; 1 otherwise; 2 when the file is invalid."""
    wf = _load_or_exit(file)
    options = _run_options(config, image, notify)
    if on_cancel not in ("stop", "terminate"):
        err.print(f"[red]error:[/red] --on-cancel must be 'stop' or 'terminate', got {on_cancel!r}")
        raise typer.Exit(EXIT_INVALID)
    if on_cancel != "stop" or keep_volumes is not None:
        import dataclasses

        options = dataclasses.replace(options, on_cancel=on_cancel,
                                      keep_volumes=options.keep_volumes if keep_volumes is None else keep_volumes)
    interactive = out.is_terminal
    show_logs = (not interactive) if logs is None else logs
    if not show_logs:
        # Prefect's console handler would interleave with the live view; the logs still go
        # to the Prefect API and to the run's log folder.
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from ..adapter import prefect_api, run as run_workflow
    from ..adapter.core import SIGNALS
    from .views import live_progress, render_summary

    with SIGNALS.installed(restore=False):  # a signal from here on stops the run, never the tool
        with prefect_api():
            with live_progress(out, wf, enabled=interactive):
                result = run_workflow(wf, _parse_params(param), options)
        render_summary(out, result)
        if report:
            result.write(report)
    raise typer.Exit(0 if result.ok else 1)


def _run_options(config: Optional[Path], images: list[str], notify: list[str] = ()):
    from ..adapter.options import load_run_options

    try:
        return load_run_options(config, images, notify)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_INVALID)


@app.command()
def cleanup(
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Only the containers and volumes of this run (default: every flowport container, and the volumes of runs not in progress)."),
) -> None:
    """End what runs whose flowport process was killed left behind (step processes, containers,
    volumes; their flow runs are marked Crashed), then remove containers left by killed runs
    (found by their flowport labels), containers kept on purpose (`autoRemove: false`,
    `keepContainer`) and the volumes runs kept (Argo claims of a failed run, `--keep-volumes`).
    Volumes flowport did not create (an existing `persistentVolumeClaim.claimName`) stay."""
    from ..adapter.orphans import end_orphans, live_runs
    from ..adapter.runners.docker import DockerUnavailable, cleanup as remove_containers
    from ..adapter.runners.volumes import cleanup_volumes

    for orphan in end_orphans():
        out.print(f"ended the leftovers of run {orphan} (its flowport process was killed)")
    try:
        removed = remove_containers(run_id)
        volumes = cleanup_volumes(run_id, spare_runs=() if run_id else live_runs())
    except DockerUnavailable as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1)
    for name in removed:
        out.print(f"removed {name}")
    for name in volumes:
        out.print(f"removed volume {name}")
    out.print(f"{len(removed)} container(s) removed, {len(volumes)} volume(s) removed")


from .deploy_cmd import deploy as _deploy, serve as _serve  # noqa: E402

app.command(name="deploy")(_deploy)
app.command(name="serve")(_serve)

from .export_cmd import export as _export  # noqa: E402

app.command(name="export")(_export)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
