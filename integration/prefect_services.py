"""Real Prefect services for the integration tests and bench/server.py: `prefect server start`
(SQLite or PostgreSQL) on 127.0.0.1, `process` work pools and workers, and a throwaway
PostgreSQL cluster (initdb + pg_ctl). Every process runs in its own session and is stopped
by its process group id, never by name."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx

from testkit.procs import free_port


def prefect_cli() -> list[str]:
    exe = shutil.which("prefect")
    return [exe] if exe else [sys.executable, "-m", "prefect"]


def base_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_UI_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="5",
        # A loaded host keeps SQLite busy: the server waits longer for its lock before it answers
        # 503 ("retry"), and the clients retry a 503 7 times (2 s, 4 s … 128 s) instead of 5.
        PREFECT_SERVER_DATABASE_TIMEOUT="30",
        PREFECT_CLIENT_MAX_RETRIES="7",
        FLOWPORT_LOG_DIR=str(home / "flowport-logs"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def stop_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the process group of `proc` (started with start_new_session), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


class PrefectServer:
    """`prefect server start` on a free 127.0.0.1 port, PREFECT_HOME in `home`."""

    def __init__(self, home: Path, database_url: str | None = None, ui: bool = False) -> None:
        self.ui = ui  # serve Prefect's UI (for the browser tests), its API calls to this server
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.database_url = database_url
        self.log_path = self.home / "server.log"
        self.proc: subprocess.Popen | None = None
        self.children: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = base_env(self.home, PREFECT_API_URL=self.url, **extra)
        if self.database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database_url
        return env

    def start(self, timeout: float = 90.0) -> "PrefectServer":
        env = self.env()
        env.pop("PREFECT_API_URL")
        if self.ui:
            env.update(PREFECT_UI_ENABLED="true", PREFECT_UI_API_URL=self.url)
        self.proc = subprocess.Popen(
            [*prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"prefect server exited: {self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/health", timeout=2).status_code == 200:
                        return self
                if time.monotonic() > deadline:
                    raise RuntimeError(f"prefect server did not start in {timeout:g}s: {self.log_tail()}")
                time.sleep(0.2)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def cli(self, *args: str, cwd: str | Path | None = None, timeout: float = 120, check: bool = True,
            **extra: str) -> subprocess.CompletedProcess:
        done = subprocess.run([*prefect_cli(), *args], env=self.env(**extra), cwd=cwd, capture_output=True,
                              text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def flowport(self, *args: str, cwd: str | Path | None = None, timeout: float = 120,
                 **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flowport.cli", *args], env=self.env(**extra), cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)

    def create_pool(self, name: str) -> None:
        self.cli("work-pool", "create", name, "--type", "process", "--overwrite")

    def start_worker(self, pool: str, name: str, *, limit: int | None = None, **extra: str) -> "Worker":
        log = self.home / f"worker-{name}.log"
        cmd = [*prefect_cli(), "worker", "start", "--pool", pool, "--type", "process", "--name", name]
        if limit:
            cmd += ["--limit", str(limit)]
        proc = subprocess.Popen(cmd, env=self.env(**extra), stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.home)
        self.children.append(proc)
        worker = Worker(name, proc, log)
        worker.wait_ready(self)
        return worker

    def stop(self) -> None:
        for child in reversed(self.children):
            stop_group(child)
        self.children.clear()
        if self.proc is not None:
            stop_group(self.proc)
            self.proc = None

    @contextlib.contextmanager
    def settings(self) -> Iterator[None]:
        """This process's Prefect calls go to this server (e.g. Block.save, flowport's readers)."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.url}):
            yield

    @contextlib.contextmanager
    def client(self) -> Iterator[Any]:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.url}):
            with get_client(sync_client=True) as client:
                yield client

    def wait_final(self, flow_run_id: Any, timeout: float = 120.0) -> Any:
        """The flow run once its state is final (and stays so: a runner may rewrite it)."""
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                run = client.read_flow_run(uuid.UUID(str(flow_run_id)))
                if run.state is not None and run.state.is_final():
                    return run
                if time.monotonic() > deadline:
                    raise AssertionError(f"flow run {flow_run_id} not final after {timeout:g}s: {run.state}")
                time.sleep(0.3)

    def __enter__(self) -> "PrefectServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Worker:
    def __init__(self, name: str, proc: subprocess.Popen, log: Path) -> None:
        self.name, self.proc, self.log = name, proc, log

    def wait_ready(self, server: PrefectServer, timeout: float = 60) -> None:
        """Until the worker has polled its pool (the server then lists it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited: {self.log.read_text(errors='replace')[-2000:]}")
            if f"Worker '{self.name}' started" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def submitted(self) -> set[str]:
        """Flow run ids this worker submitted (from its log)."""
        text = self.log.read_text(errors="replace")
        return set(re.findall(rf"Worker '{re.escape(self.name)}' submitting flow run '([0-9a-f-]+)'", text))


def run_id_from_cli(output: str) -> str:
    m = re.search(r"UUID:\s*([0-9a-f-]{36})", output)
    if not m:
        raise AssertionError(f"no flow run id in:\n{output}")
    return m.group(1)


# ------------------------------------------------------------------ PostgreSQL


def postgres_bin() -> Path | None:
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name)
        if found:
            return Path(os.path.realpath(found)).parent
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return roots[0] if roots else None


class Postgres:
    """A throwaway cluster: initdb in `folder`, pg_ctl start on a free 127.0.0.1 port. As
    root, the cluster runs as the `postgres` user (PostgreSQL refuses root)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        import tempfile

        # directly under /tmp: the postgres user must reach it (pytest's tmp dirs are 0700 root)
        self._own_folder = folder is None
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="flowport-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "flowport"
        self.password = "flowport"
        self.database = "prefect"
        self._as: list[str] = []
        if os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and no `postgres` user to run PostgreSQL as") from None
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *cmd: str, timeout: float = 120) -> None:
        done = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=timeout,
                              cwd=self.folder, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> "Postgres":
        self.folder.mkdir(parents=True, exist_ok=True)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
            self.folder.chmod(0o700)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "--pwfile", str(pwfile),
                  "-A", "scram-sha-256", "-E", "UTF8", "--no-sync")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
                  "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                        f"-c max_connections=200", "-w", "start")
        env = {**os.environ, "PGPASSWORD": self.password}
        done = subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                               self.database], env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"createdb failed: {done.stderr}")
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Postgres":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
