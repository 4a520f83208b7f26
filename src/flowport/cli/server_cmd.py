"""The local Prefect server that stays (adapter/server.py) on the terminal: the spinner while
it starts, Ctrl-C during that wait, and `flowport server start|stop|status`."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

import typer
from rich.console import Console
from rich.markup import escape

EXIT_INTERRUPTED = 130

server_app = typer.Typer(
    no_args_is_help=True,
    help="The local Prefect server `flowport run` starts when PREFECT_API_URL is not set. "
         "It stays for later runs and stops after FLOWPORT_SERVER_IDLE (default 30m) without one.",
)

WAITING = {
    "starting": "starting the local Prefect server (first run; later runs reuse it)…",
    "waiting": "waiting for the local Prefect server (another flowport is starting it)…",
}


class ServerWait:
    """The spinner (a line when not on a terminal) that says the local server is starting.
    `run` shows it first thing when no server is up, before it reads the workflow, so it
    appears at once; `leased_server` keeps it while the server starts."""

    def __init__(self, out: Console, err: Console) -> None:
        self.out, self.err, self.status = out, err, None
        self.said: str | None = None

    def show(self, why: str) -> None:
        if self.status is not None:
            self.status.update(WAITING[why])
        elif self.out.is_terminal:
            self.status = self.out.status(WAITING[why], spinner="dots")
            self.status.start()
        elif self.said != why:
            self.err.print(f"flowport: {WAITING[why]}", markup=False, highlight=False, soft_wrap=True)
        self.said = why

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def server_needed() -> bool:
    """No PREFECT_API_URL: the local server will be used."""
    from ..adapter.server import configured_api_url

    return configured_api_url() is None


def server_starts() -> bool:
    """The local server is not running (cheap: its records only, no request)."""
    from ..adapter.server import local_server_running

    return not local_server_running()


@contextlib.contextmanager
def leased_server(wait: ServerWait) -> Iterator[str]:
    """The local server's API URL for the block (started if needed), in PREFECT_API_URL for
    everything flowport does in this process. `wait` shows while it starts; Ctrl-C then ends
    flowport with one line and exit code 130."""
    from ..adapter import server as local

    try:
        try:
            state, lease = local.ensure_local_server(wait.show)
        finally:
            wait.stop()
    except KeyboardInterrupt:
        wait.err.print("flowport: interrupted while the local Prefect server was starting (it goes on in the "
                       "background and stops when idle; `flowport server stop` stops it now)", markup=False,
                       highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (RuntimeError, OSError, ValueError) as exc:
        wait.err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    os.environ["PREFECT_API_URL"] = state.url
    try:
        yield state.url
    finally:
        with contextlib.suppress(OSError):
            lease.unlink()


def _describe(status) -> str:
    state = status.state
    if not status.running or state is None:
        return f"not running (home {status.folder})"
    health = "up" if status.healthy else "starting or not answering"
    age = time.time() - state.started_at
    return (f"{health}: {state.url.removesuffix('/api')} (API {state.url}); watcher pid {state.watcher_pid}; "
            f"started {age:.0f}s ago; {status.leases} flowport process(es) using it; "
            f"stops after {state.idle_seconds:g}s idle; log {status.folder / 'server.log'}")


@server_app.command()
def status() -> None:
    """Say whether the local server runs, where, and who uses it. Exit 0 when it runs, 1 when not."""
    from ..adapter import server as local

    found = local.local_server_status()
    typer.echo(_describe(found))
    raise typer.Exit(0 if found.running else 1)


@server_app.command()
def start() -> None:
    """Start the local server now (a run would start it anyway); print its URL."""
    with leased_server(ServerWait(Console(), Console(stderr=True))) as url:
        typer.echo(url.removesuffix("/api"))


@server_app.command()
def stop() -> None:
    """Stop the local server (a run still using it loses its server)."""
    from ..adapter import server as local

    state = local.stop_local_server()
    typer.echo(f"stopped the local Prefect server at {state.url.removesuffix('/api')}" if state
               else "the local Prefect server was not running")
