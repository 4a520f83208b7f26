"""Where `flowport run` finds a Prefect server when no PREFECT_API_URL is set.

The CLI uses *the local server that stays*: the first run starts Prefect's server app in the
background, under a small watcher process (server_watch.py), with its own PREFECT_HOME and a
port recorded under the flowport home; later runs reuse it, so they start as fast as a run
against any running server and the UI links they print keep working. The watcher stops the
server once no flowport process has used it for the idle period, also when the flowport that
started it was killed. Every user of the server holds a *lease* (a file naming its process);
a lease whose process is gone does not count.

Layout of `$FLOWPORT_HOME/server/` (FLOWPORT_HOME defaults to ~/.flowport):
  lock          flock: one process at a time starts, joins or stops the server
  port          the port, kept across restarts so old links stay valid
  server.json   the running server: url, port, watcher pid, idle seconds
  server.pid    the server process (written by the watcher)
  leases/       one file per flowport process using the server
  prefect/      the server's PREFECT_HOME (its database)
  server.log    the server's output

`embedded_server()` (a server for the length of a block) stays for library use, the tests
and the benchmarks.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from .server_app import SERVER_TUNING

#: how long the local server stays without a user, unless FLOWPORT_SERVER_IDLE says otherwise
DEFAULT_IDLE_SECONDS = 30 * 60
START_TIMEOUT = 180.0  # a first start migrates the database: slow on a loaded 2-CPU host


def flowport_home() -> Path:
    return Path(os.environ.get("FLOWPORT_HOME") or Path.home() / ".flowport").expanduser()


def server_dir() -> Path:
    return flowport_home() / "server"


def server_log_path() -> Path:
    folder = server_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "server.log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    """Free for a server (uvicorn binds with SO_REUSEADDR: a port in TIME_WAIT is free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def parse_idle(text: str) -> float:
    """`900`, `90s`, `15m`, `2h` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text or "")
    if not match:
        raise ValueError(f"FLOWPORT_SERVER_IDLE: expected seconds or a number with s/m/h (e.g. 30m), got {text!r}")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def idle_seconds() -> float:
    value = os.environ.get("FLOWPORT_SERVER_IDLE")
    return parse_idle(value) if value else DEFAULT_IDLE_SECONDS


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile, read without
    loading Prefect (the CLI decides on the local server before Prefect's import)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    import tomllib

    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = (data.get("profiles") or {}).get(active) or {}
    return profile.get("PREFECT_API_URL") or None


def server_env(home: Path, port: int) -> dict[str, str]:
    """The server's environment: its own PREFECT_HOME, no telemetry, none of the caller's
    client settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH",
                        "PREFECT_UI_API_URL", "PREFECT_UI_URL")}
    url = f"http://127.0.0.1:{port}/api"
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port),
               PREFECT_UI_API_URL=url, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return {**SERVER_TUNING, **env}


def server_command(port: int) -> list[str]:
    """Prefect's own server app, as `prefect server start` serves it (UI included), with a
    short Retry-After on its lock-contention 503s (server_app.py)."""
    return [sys.executable, "-m", "uvicorn", "--factory", "flowport.adapter.server_app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"]


def healthy(url: str) -> bool:
    """The server at `url` (http://127.0.0.1:PORT/api) answers its health check. Plain
    http.client: an httpx client builds an SSL context first, ~0.3 s on a loaded host, on
    the path of every run."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=2)
    try:
        conn.request("GET", f"{parts.path.rstrip('/')}/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_healthy(url: str, alive: Callable[[], bool], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if not alive():
            raise RuntimeError(f"the Prefect server exited while starting; see {log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Prefect server did not start in {timeout:g}s; see {log}")
        time.sleep(0.1)


# ---------------------------------------------------------------- processes and leases


def process_start(pid: int) -> str | None:
    """The kernel's start time of `pid` (tells a reused pid from the original), None if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def process_alive(pid: int, start: str | None = None) -> bool:
    """`pid` runs (not a zombie) and, when `start` is given and known, is the same process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] != "Z" and (start is None or fields[19] == start)


def _lease_alive(path: Path) -> bool:
    try:
        pid, _, start = path.read_text().partition(" ")
        return process_alive(int(pid), start.strip() or None)
    except (OSError, ValueError):
        return False


def live_leases(folder: Path | None = None) -> int:
    """How many processes use the server; leases of gone processes are removed."""
    leases = (folder or server_dir()) / "leases"
    count = 0
    for path in leases.glob("*") if leases.is_dir() else ():
        if _lease_alive(path):
            count += 1
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return count


def _take_lease(folder: Path) -> Path:
    leases = folder / "leases"
    leases.mkdir(parents=True, exist_ok=True)
    path = leases / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.write_text(f"{os.getpid()} {process_start(os.getpid()) or ''}\n")
    return path


@contextlib.contextmanager
def server_lock(folder: Path | None = None) -> Iterator[None]:
    folder = folder or server_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- the local server that stays


@dataclass
class ServerState:
    url: str
    port: int
    watcher_pid: int
    idle_seconds: float
    started_at: float

    @classmethod
    def read(cls, folder: Path) -> ServerState | None:
        try:
            return cls(**json.loads((folder / "server.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def write(self, folder: Path) -> None:
        tmp = folder / f"server.json.{os.getpid()}"
        tmp.write_text(json.dumps(self.__dict__))
        tmp.replace(folder / "server.json")

    def watcher_alive(self) -> bool:
        return process_alive(self.watcher_pid)


def _chosen_port(folder: Path) -> int:
    """The recorded port while it is free, else a new free port (then recorded)."""
    with contextlib.suppress(OSError, ValueError):
        port = int((folder / "port").read_text())
        if _port_free(port):
            return port
    port = _free_port()
    (folder / "port").write_text(f"{port}\n")
    return port


def _start_watcher(folder: Path, idle: float) -> ServerState:
    port = _chosen_port(folder)
    (folder / "prefect").mkdir(exist_ok=True)
    with open(folder / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowport.adapter.server_watch", str(folder), str(port), str(idle)],
            env={**os.environ, "DO_NOT_TRACK": "1"}, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            cwd=folder,  # not the first run's folder: the server must not pin (or lose) it
            start_new_session=True,  # neither Ctrl-C on the terminal nor a killed flowport reach it
        )
    state = ServerState(url=f"http://127.0.0.1:{port}/api", port=port, watcher_pid=proc.pid,
                        idle_seconds=idle, started_at=time.time())
    state.write(folder)
    return state


def ensure_local_server(on_wait: Callable[[str], None] = lambda why: None,
                        timeout: float = START_TIMEOUT) -> tuple[ServerState, Path]:
    """The local server's state and a lease on it (remove the lease file when done), starting
    the server if none runs. `on_wait(why)` is called before any wait, at once: "starting" or
    "waiting" (another process holds the lock, e.g. it is starting the server)."""
    folder = server_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait("waiting")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            state = ServerState.read(folder)
            if state is None or not state.watcher_alive():
                on_wait("starting")
                state = _start_watcher(folder, idle_seconds())
            elif not healthy(state.url):
                on_wait("starting")  # started by a process that was interrupted meanwhile
            # leased before the wait: the watcher counts its idle time from the last user, and
            # a start that takes longer than the idle period must not end when the wait does
            lease = _take_lease(folder)
            try:
                wait_healthy(state.url, state.watcher_alive, timeout, folder / "server.log")
            except BaseException:  # Ctrl-C included: an interrupted start holds no lease
                with contextlib.suppress(OSError):
                    lease.unlink()
                raise
            return state, lease
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stop_local_server(timeout: float = 20.0) -> ServerState | None:
    """Stop the local server (its users' runs lose their server); the state it had, or None."""
    folder = server_dir()
    with server_lock(folder):
        state = ServerState.read(folder)
        if state is None:
            return None
        if state.watcher_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.watcher_pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while state.watcher_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if state.watcher_alive():
                _kill_server(folder)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(state.watcher_pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            (folder / "server.json").unlink()
        return state


def _kill_server(folder: Path) -> None:
    with contextlib.suppress(OSError, ValueError, ProcessLookupError):
        os.kill(int((folder / "server.pid").read_text()), signal.SIGKILL)


def local_server_running() -> bool:
    """The local server's watcher runs (it may still be starting); no request is made."""
    state = ServerState.read(server_dir())
    return bool(state and state.watcher_alive())


@dataclass
class ServerStatus:
    running: bool
    healthy: bool
    state: ServerState | None
    leases: int
    folder: Path


def local_server_status() -> ServerStatus:
    folder = server_dir()
    state = ServerState.read(folder)
    running = bool(state and state.watcher_alive())
    return ServerStatus(running=running, healthy=running and healthy(state.url), state=state,
                        leases=live_leases(folder) if running else 0, folder=folder)


# ---------------------------------------------------------------- a server for one block


@contextlib.contextmanager
def embedded_server(timeout: float = 90.0) -> Iterator[str]:
    """Start Prefect's server on 127.0.0.1 for the duration of the block; yields its API URL.
    Its database is in the caller's PREFECT_HOME; its output goes to the server log."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    log_path = server_log_path()
    env = {**SERVER_TUNING, **os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(server_command(port), env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # Ctrl-C on the terminal goes to flowport only
    try:
        wait_healthy(url, lambda: proc.poll() is None, timeout, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def prefect_api() -> Iterator[str | None]:
    """Use the server in PREFECT_API_URL, or start Prefect's embedded one for the block."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield PREFECT_API_URL.value()
        return
    with embedded_server() as url, temporary_settings({PREFECT_API_URL: url}):
        try:
            yield url
        finally:
            flush_logs()


def flush_logs() -> None:
    """Send queued Prefect logs before the server they go to stops."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=5)
        except Exception:  # logging must never fail the run
            pass
