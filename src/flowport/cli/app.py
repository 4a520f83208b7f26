"""`flowport` command line: wires translators, adapter and views together."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

# Before anything imports Prefect: its client telemetry (and first-run notice) stays off in
# flowport's own processes, as the server's analytics do.
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402

from .helptext import plain_help_types  # noqa: E402

plain_help_types()

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


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"flowport {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    base_config: Optional[Path] = typer.Option(
        None, "--base-config", envvar="DAGU_BASE_CONFIG", metavar="FILE",
        help="Dagu base config merged under every DAG (default: $DAGU_HOME/base.yaml or ~/.config/dagu/base.yaml if present)."),
    templates: List[Path] = typer.Option(
        [], "--templates", envvar="FLOWPORT_TEMPLATES", metavar="PATH",
        help="Argo: a WorkflowTemplate file or folder that workflowTemplateRef/templateRef may name; repeatable."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print flowport's version and exit."),
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
    files: List[Path] = typer.Argument(..., help="Workflow files to check.", metavar="FILE..."),
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

                out.print(f"[green]ok[/]  {escape(r.file)}: {escape(describe(r.workflow))}", soft_wrap=True)
            elif r.ok:
                from .helptext import count

                wf = r.workflow
                out.print(f"[green]ok[/]  {escape(r.file)}: {wf.dialect}, {count(len(wf.steps), 'step')}, "
                          f"{count(len(wf.handlers.items()), 'handler')}", soft_wrap=True)
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
    file: Path = typer.Argument(..., help="Workflow file.", metavar="FILE"),
    as_json: bool = typer.Option(False, "--json", help="Print the translated IR as JSON."),
    as_mermaid: bool = typer.Option(False, "--mermaid", help="Print the step/template graph as a Mermaid flowchart (handlers and exit hooks apart)."),
) -> None:
    """Show what `run` would do: steps, order, handlers, where each runs. Nothing runs."""
    from .secrets import redact_strings, redactor
    from .views import render_plan, write_plan_json

    wf = _load_or_exit(file)
    # Secrets never reach a plan: literal secrets of the file and secret URLs are masked.
    wf = redact_strings(wf, redactor(file.read_text(encoding="utf-8-sig")))
    if as_json:
        write_plan_json(wf, sys.stdout)
        return
    if as_mermaid:
        from ..adapter.mermaid import mermaid

        print(mermaid(wf), end="")
        return
    render_plan(out, wf)


@app.command()
def run(
    file: Path = typer.Argument(..., help="Workflow file.", metavar="FILE"),
    param: List[str] = typer.Option([], "--param", "-p", metavar="NAME=VALUE", help="NAME=VALUE (or VALUE for a positional parameter); repeatable. A name the workflow does not declare is warned about."),
    strict: bool = typer.Option(False, "--strict", help="A -p name the workflow does not declare is an error (exit 2)."),
    report: Optional[Path] = typer.Option(None, "--report", metavar="FILE", help="Write the run report as JSON here."),
    logs: Optional[bool] = typer.Option(None, "--logs/--no-logs", help="Stream step logs to the terminal (default: when not a terminal)."),
    image: List[str] = typer.Option([], "--image", metavar="NAME=MIRROR", help="Run MIRROR wherever the workflow names image NAME; repeatable (also $FLOWPORT_IMAGES and the config file's `images:`)."),
    config: Optional[Path] = typer.Option(None, "--config", metavar="FILE", help="flowport config file (YAML: `images:`, `notify:`). Default: $FLOWPORT_CONFIG, else ~/.flowport/config.yaml if present."),
    notify: List[str] = typer.Option([], "--notify", metavar="URL", help="Alert through Apprise when the run ends: 'URL' or 'URL on=failure,success,cancel' (or on=all; default on=failure); repeatable."),
    keep_volumes: Optional[bool] = typer.Option(None, "--keep-volumes/--no-keep-volumes", help="Argo: keep the Docker volumes made for volumeClaimTemplates after the run, whatever volumeClaimGC says (config file: `keep_volumes: true`); `flowport cleanup` removes them."),
    on_cancel: str = typer.Option("stop", "--on-cancel", metavar="stop|terminate", help="Argo: what the first Ctrl-C/SIGTERM/Prefect cancel does: 'stop' (kill the steps, still run exit handlers) or 'terminate' (exit handlers do not run)."),
) -> None:
    """Run the workflow now as a Prefect flow run, on the server in PREFECT_API_URL or else on the local server that stays (`flowport server`).

    Exit codes: 0 the run succeeded; 1 it did not (failed, partially succeeded, canceled) or the server could not be reached; 2 the file or an option is invalid (nothing ran); 130 Ctrl-C while the local server was starting (nothing ran)."""
    from .params import check_param_names
    from .server_cmd import EXIT_INTERRUPTED, ServerWait, leased_server, server_needed, server_starts

    wait = ServerWait(out, err)
    local_server = server_needed()
    if local_server and out.is_terminal and server_starts():
        wait.show("starting")  # at once; the server itself starts once the workflow is valid
    try:
        wf = _load_or_exit(file)
        params = _parse_params(param)
        if not check_param_names(err, wf, params, strict=strict):
            raise typer.Exit(EXIT_INVALID)
        options = _run_options(config, image, notify)
        if on_cancel not in ("stop", "terminate"):
            err.print(f"[red]error:[/red] --on-cancel must be 'stop' or 'terminate', got {on_cancel!r}")
            raise typer.Exit(EXIT_INVALID)
    except KeyboardInterrupt:
        wait.stop()
        err.print("flowport: interrupted before the run began; nothing ran", markup=False, highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BaseException:  # what was printed meanwhile went above the spinner (rich redirects)
        wait.stop()
        raise
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
    with contextlib.ExitStack() as server:
        if local_server:  # before Prefect loads: Ctrl-C here just exits
            server.enter_context(leased_server(wait))
        from ..adapter import flush_logs, prefect_api, run as run_workflow
        from ..adapter.core import SIGNALS
        from .views import live_progress, render_summary

        with SIGNALS.installed(restore=False):  # a signal from here on stops the run, never the tool
            with prefect_api():
                with live_progress(out, wf, enabled=interactive):
                    result = run_workflow(wf, params, options)
                flush_logs()
            render_summary(out, result, wf)
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
    run_id: Optional[str] = typer.Option(None, "--run-id", metavar="ID", help="Only what this run left."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be ended and removed; change nothing."),
    everything: bool = typer.Option(False, "--all", help="Remove every flowport container and volume, those of running runs included."),
) -> None:
    """Clean up after runs that are no longer running: end what a killed flowport left (step processes, containers, volumes; its flow run is marked Crashed), then remove the containers and volumes flowport made (label flowport.managed) whose run has ended, kept ones included (`autoRemove: false`, `keepContainer`, Argo claims of a failed run, `--keep-volumes`).

    A run counts as running while its flowport process on this host lives, or, when this host has no record of it, while its Prefect flow run is not final. Everything is listed before it is removed. Volumes flowport did not create (an existing `persistentVolumeClaim.claimName`) carry no flowport label and stay."""
    from ..adapter.leftovers import find_leftovers, remove_leftovers
    from ..adapter.orphans import end_orphans, orphaned_runs
    from ..adapter.runners.docker import DockerUnavailable

    if dry_run:
        for _, orphan in orphaned_runs():
            out.print(f"would end the leftovers of run {orphan} (its flowport process was killed)", highlight=False)
    else:
        for orphan in end_orphans():
            out.print(f"ended the leftovers of run {orphan} (its flowport process was killed)", highlight=False)
    try:
        remove, keep = find_leftovers(run_id, everything)
    except DockerUnavailable as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1)
    for item in keep:
        out.print(f"keep    {item.describe()}", markup=False, highlight=False, soft_wrap=True)
    for item in remove:
        out.print(f"{'would remove' if dry_run else 'remove'}  {item.describe()}", markup=False, highlight=False,
                  soft_wrap=True)
    if dry_run:
        out.print(f"dry run: {len(remove)} to remove, {len(keep)} kept; nothing changed", highlight=False)
        return
    removed = remove_leftovers(remove)
    for item in remove:
        if item not in removed:
            err.print(f"{item.kind} {item.name} {item.reason}", markup=False, highlight=False, soft_wrap=True)
    containers = sum(i.kind == "container" for i in removed)
    out.print(f"{containers} container(s) removed, {len(removed) - containers} volume(s) removed, {len(keep)} kept",
              highlight=False)


from .server_cmd import server_app  # noqa: E402

app.add_typer(server_app, name="server")

from .deploy_cmd import deploy as _deploy, serve as _serve  # noqa: E402

app.command(name="deploy")(_deploy)
app.command(name="serve")(_serve)

from .audit_cmd import audit as _audit  # noqa: E402
from .secrets_cmd import secrets_app as _secrets_app  # noqa: E402

app.command(name="audit")(_audit)
app.add_typer(_secrets_app, name="secrets")

from .pause_cmd import reject as _reject, resume as _resume  # noqa: E402

app.command(name="resume")(_resume)
app.command(name="reject")(_reject)

from .export_cmd import export as _export  # noqa: E402

app.command(name="export")(_export)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
