"""Run a `Container` action on the Docker Engine, the way `docker run` does: create, attach,
start, stream stdout/stderr line by line, wait, remove.

Every container carries `flowport.managed=true` plus the caller's labels (`flowport.run-id`,
`flowport.step`), so a cancelled or crashed run can be cleaned up by label. All calls go
through the low-level API of one docker-py client per process: the high-level models add an
inspect per call, which short steps would pay for.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import docker
import docker.errors
import requests

from ...model import Container
from ..masking import mask
from .base import TIMEOUT_EXIT_CODE, LineSink, RunResult, StopToken, timer
from .images import IMAGES_ENV, ImageMap, ImageUnavailable, auth_for, ensure_image, forget_image, load_image_map
from .shell import MAX_OUTPUT_BYTES

MANAGED_LABEL = "flowport.managed"
RUN_ID_LABEL = "flowport.run-id"
STEP_LABEL = "flowport.step"
KEEP_LABEL = "flowport.keep"  # stop_run_containers leaves these for the user to inspect
WORKFLOW_LABEL = "flowport.workflow"


def run_labels(run_id: str, step: str, workflow: str) -> dict[str, str]:
    """The labels that tie a container to its run: cancel, cleanup and tests find it by them."""
    return {RUN_ID_LABEL: run_id, STEP_LABEL: step[:63], WORKFLOW_LABEL: workflow[:63]}
SCRIPT_PATH = "/argo/staging/script"  # where Argo puts script.source; scripts may rely on it
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# PID 1 ignores SIGTERM without a handler; the trap makes `docker stop` immediate.
KEEPALIVE = ("sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done")


class DockerUnavailable(RuntimeError):
    """The Docker Engine cannot be reached."""


class ContainerError(RuntimeError):
    """A service container could not be started."""


# ---------------------------------------------------------------- the shared client

_clients: dict[tuple[str | None, ...], docker.DockerClient] = {}
_clients_lock = threading.Lock()


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def shared_client() -> docker.DockerClient:
    """One client per process and daemon address (DOCKER_HOST & co.), created on first use.

    Its connection pool is larger than docker-py's default of 10 because every running
    step holds one connection for its output stream while making other calls."""
    key = tuple(os.environ.get(k) for k in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"))
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            try:
                client = docker.from_env(version="auto", max_pool_size=128)
            except docker.errors.DockerException as exc:
                raise DockerUnavailable(f"Docker Engine unreachable ({docker_host()}): {exc}") from None
            _clients[key] = client
    return client


def _api(client) -> docker.APIClient:
    if client is None:
        return shared_client().api
    return getattr(client, "api", client)  # a DockerClient or already an APIClient


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"Docker Engine unreachable ({docker_host()}): {exc}"
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return f"docker: {exc.explanation}"
    return f"docker: {exc}"


_default_map: tuple[str, ImageMap] | None = None


def default_image_map() -> ImageMap:
    """$FLOWPORT_IMAGES alone, for callers that pass no map (re-read when it changes)."""
    global _default_map
    value = os.environ.get(IMAGES_ENV, "")
    if _default_map is None or _default_map[0] != value:
        _default_map = (value, load_image_map(None, ()))
    return _default_map[1]


# ---------------------------------------------------------------- output

class _Output:
    """Splits the two streams into lines for the sink and the log files; keeps stdout
    (up to MAX_OUTPUT_BYTES) as the step's output."""

    def __init__(self, sink: LineSink, stdout_file: IO[str] | None, stderr_file: IO[str] | None) -> None:
        self.sink = sink
        self.files = {"stdout": stdout_file, "stderr": stderr_file}
        self.partial = {"stdout": b"", "stderr": b""}
        self.captured: list[bytes] = []
        self.size = 0
        self.too_big = False

    def pump(self, frames: Iterable[tuple[bytes | None, bytes | None]]) -> None:
        for out, err in frames:
            if out:
                self._feed("stdout", out)
            if err:
                self._feed("stderr", err)
        for stream, rest in self.partial.items():
            if rest:
                self._emit(stream, rest)
        self.partial = {"stdout": b"", "stderr": b""}

    def _feed(self, stream: str, data: bytes) -> None:
        if stream == "stdout" and not self.too_big:
            self.size += len(data)
            if self.size > MAX_OUTPUT_BYTES:
                self.too_big = True
            else:
                self.captured.append(data)
        *lines, self.partial[stream] = (self.partial[stream] + data).split(b"\n")
        for line in lines:
            self._emit(stream, line)

    def _emit(self, stream: str, raw: bytes) -> None:
        line = mask(raw.decode("utf-8", "replace").rstrip("\r"))  # secrets never reach a log
        file = self.files[stream]
        if file is not None:
            file.write(line + "\n")
        self.sink(stream, line)

    @property
    def stdout(self) -> str:
        return b"".join(self.captured).decode("utf-8", "replace")


# ---------------------------------------------------------------- ending early

class _Ending:
    """Why an action ended early ("timeout" / "stop"; the first one counts) and ending it
    once it has started. Ending runs in its own thread: StopToken calls stoppers one after
    the other, and a graceful stop blocks for up to the grace period."""

    def __init__(self, end: Callable[[bool], None]) -> None:
        self.reason: str | None = None
        self._end = end
        self._lock = threading.Lock()
        self._started = False
        self._pending_force: bool | None = None

    def request(self, reason: str, force: bool) -> None:
        with self._lock:
            self.reason = self.reason or reason
            if not self._started:
                self._pending_force = force or bool(self._pending_force)
                return
        self._spawn(force)

    def started(self) -> None:
        with self._lock:
            self._started = True
            pending = self._pending_force
        if pending is not None:
            self._spawn(pending)

    def _spawn(self, force: bool) -> None:
        threading.Thread(target=self._safe_end, args=(force,), daemon=True).start()

    def _safe_end(self, force: bool) -> None:
        with contextlib.suppress(Exception):  # best effort: the action may be gone already
            self._end(force)


@contextlib.contextmanager
def _watch(ending: _Ending, stop: StopToken | None, timeout: float | None) -> Iterator[None]:
    key = stop.register(lambda force: ending.request("stop", force)) if stop is not None else None
    try:
        with timer(timeout, lambda: ending.request("timeout", False)):
            yield
    finally:
        if key is not None and stop is not None:
            stop.unregister(key)


def _stop_seconds(grace: float) -> int:
    """`docker stop` counts whole seconds; round up so a short grace is still a grace."""
    return max(0, math.ceil(grace))


def _result(code: int | None, output: _Output, ending: _Ending, timeout: float | None) -> RunResult:
    """Same outcomes as the shell runner."""
    if ending.reason == "timeout":
        return RunResult(TIMEOUT_EXIT_CODE, output.stdout, f"step timed out after {timeout:g}s", timed_out=True)
    if ending.reason == "stop":
        return RunResult(code, output.stdout, "stopped", stopped=True)
    if output.too_big:
        return RunResult(code, output.stdout, f"output exceeds the {MAX_OUTPUT_BYTES} byte limit")
    return RunResult(code, output.stdout, None if code == 0 else f"exit status {code}")


# ---------------------------------------------------------------- container settings

def _is_host_path(source: str) -> bool:
    """`data` is a named volume (Docker's rule); `./data`, `data/x`, `/abs`, `~/x` are paths."""
    return source.startswith(("/", ".", "~")) or "/" in source


def volume_binds(volumes: Iterable[str], host_dir: str) -> tuple[list[str], list[str]]:
    """("host:ctr[:opts]", ...) -> binds with host paths made absolute against `host_dir`,
    plus anonymous volumes (a lone container path)."""
    binds, anonymous = [], []
    for volume in volumes:
        source, sep, rest = volume.partition(":")
        if not sep:
            anonymous.append(source)
            continue
        if _is_host_path(source):
            source = os.path.normpath(os.path.join(host_dir, os.path.expanduser(source)))
        binds.append(f"{source}:{rest}")
    return binds, anonymous


def _labels(labels: dict[str, str], keep: bool) -> dict[str, str]:
    merged = {**labels, MANAGED_LABEL: "true"}
    if keep:
        merged[KEEP_LABEL] = "true"
    return merged


def _env_list(env: dict[str, str], own: Iterable[tuple[str, str]]) -> list[str]:
    merged = {**env, **dict(own)}  # the container's own env wins over the run's
    return [f"{k}={v}" for k, v in merged.items()]


def _create_args(api, spec: Container, image: str, *, env, labels, host_dir, script_bind,
                 stop_signal: str | None, keepalive: bool = False) -> dict:
    binds, anonymous = volume_binds(spec.volumes, host_dir)
    if script_bind:
        binds.append(script_bind)
    entrypoint = list(spec.entrypoint) if spec.entrypoint is not None else None
    cmd = list(spec.cmd) if spec.cmd is not None else None
    if spec.script is not None:
        cmd = [*(cmd or []), SCRIPT_PATH]  # Argo: the script path is the last argument
    if keepalive:
        entrypoint, cmd = list(KEEPALIVE), None
    return dict(
        image=image,
        command=cmd,
        entrypoint=entrypoint,
        environment=_env_list(env, spec.env),
        working_dir=spec.workdir or None,
        user=spec.user or None,
        labels=_labels(labels, spec.keep),
        name=spec.name or None,
        platform=spec.platform or None,
        stop_signal=stop_signal or None,
        volumes=anonymous or None,
        host_config=_host_config(api, spec, binds),
    )


def _host_config(api, spec: Container, binds: list[str]) -> dict:
    """docker-py's host config plus the spec's own HostConfig fields, by Docker's names (the
    Engine API takes them as they are; docker-py only renames and checks)."""
    config = api.create_host_config(binds=binds or None, network_mode=spec.network or None)
    for key, value in spec.host:
        if key in ("Mounts", "Binds") and key in config:
            config[key] = [*config[key], *value]
        else:
            config[key] = value
    return config


@contextlib.contextmanager
def script_mount(script: str | None) -> Iterator[str | None]:
    """Argo script.source as a read-only file bind; the temp dir goes when the block ends."""
    if script is None:
        yield None
        return
    folder = tempfile.mkdtemp(prefix="flowport-script-")
    try:
        path = os.path.join(folder, "script")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(script)
        os.chmod(path, 0o755)  # readable by any container user, runnable as `command: [path]`
        os.chmod(folder, 0o755)
        yield f"{path}:{SCRIPT_PATH}:ro"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _prepare_image(api, spec: Container, images: ImageMap | None, sink: LineSink,
                   auths: dict[str, dict] | None = None) -> str:
    image = (images if images is not None else default_image_map()).resolve(spec.image)
    ensure_image(api, image, spec.pull_policy, spec.platform, lambda line: sink("stderr", line),
                 auth_for(image, auths))
    return image


def _create(api, args: dict, spec: Container, sink: LineSink, auths: dict[str, dict] | None = None) -> str:
    try:
        return api.create_container(**args)["Id"]
    except docker.errors.ImageNotFound:
        # Removed since we checked: check (and pull, if the policy allows) again, once.
        forget_image(api, args["image"], spec.platform)
        ensure_image(api, args["image"], spec.pull_policy, spec.platform, lambda line: sink("stderr", line),
                     auth_for(args["image"], auths))
        return api.create_container(**args)["Id"]


# ---------------------------------------------------------------- running

def run_container(
    spec: Container,
    *,
    env: dict[str, str],
    sink: LineSink,
    stop: StopToken | None,
    labels: dict[str, str],
    host_dir: str,
    timeout: float | None = None,
    grace: float = 5.0,
    stdout_file: IO[str] | None = None,
    stderr_file: IO[str] | None = None,
    images: ImageMap | None = None,
    client=None,
    stop_signal: str | None = None,
    before_start: Callable[[docker.APIClient, str], None] | None = None,
    after_exit: Callable[[docker.APIClient, str], None] | None = None,
    registry_auths: dict[str, dict] | None = None,
) -> RunResult:
    """Run one container step to its end; never raises for Docker problems (they become
    `RunResult.error`). `env` is the run's environment for the step (only what the
    workflow defines: the host's PATH would shadow the image's); `spec.env` wins over it.
    `stop_signal` (e.g. "SIGINT") is what a graceful stop or a timeout sends first.
    `before_start(api, id)` runs on the created container (an exception is the result's
    error, the container never starts); `after_exit(api, id)` on the exited one, before it
    is removed (Argo's input and output artifacts). `registry_auths`: a Docker config's
    `auths` (server -> credentials) for pulling from private registries (Argo
    `imagePullSecrets`)."""
    if stop is not None and stop.requested.is_set():
        return RunResult(None, error="stopped before the container started", stopped=True)
    try:
        api = _api(client)
        if spec.exec_in:
            return _run_exec(api, spec, env=env, sink=sink, stop=stop, timeout=timeout, grace=grace,
                             stdout_file=stdout_file, stderr_file=stderr_file)
        image = _prepare_image(api, spec, images, sink, registry_auths)
        with script_mount(spec.script) as script_bind:
            args = _create_args(api, spec, image, env=env, labels=labels, host_dir=host_dir,
                                script_bind=script_bind, stop_signal=stop_signal)
            return _run_new(api, spec, args, sink=sink, stop=stop, timeout=timeout, grace=grace,
                            stdout_file=stdout_file, stderr_file=stderr_file,
                            before_start=before_start, after_exit=after_exit, auths=registry_auths)
    except (DockerUnavailable, ImageUnavailable) as exc:
        return RunResult(None, error=str(exc))
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        return RunResult(None, error=_describe(exc))


def _run_new(api, spec: Container, args: dict, *, sink, stop, timeout, grace, stdout_file, stderr_file,
             before_start=None, after_exit=None, auths: dict[str, dict] | None = None) -> RunResult:
    cid = _create(api, args, spec, sink, auths)
    if before_start is not None:
        try:
            before_start(api, cid)
        except Exception as exc:  # noqa: BLE001 - the caller's error message, the container goes
            with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
                api.remove_container(cid, v=True, force=True)
            return RunResult(None, error=str(exc) or repr(exc))
    ending = _Ending(lambda force: api.kill(cid) if force else api.stop(cid, timeout=_stop_seconds(grace)))
    output = _Output(sink, stdout_file, stderr_file)
    try:
        # Attach before start, as `docker run` does: no output is lost however short the run.
        frames = api.attach(cid, stream=True, demux=True)
        with _watch(ending, stop, timeout):
            if ending.reason is not None:  # stopped while we were creating it
                frames.close()
                return RunResult(None, error="stopped before the container started", stopped=True)
            api.start(cid)
            ending.started()
            try:
                output.pump(frames)
            finally:
                frames.close()
            code = api.wait(cid)["StatusCode"]
        if after_exit is not None:  # outside the timeout: saving outputs is not the step's time
            after_exit(api, cid)
        return _result(code, output, ending, timeout)
    except docker.errors.NotFound:
        # Removed under us (stop_run_containers or cleanup from another thread).
        result = _result(None, output, ending, timeout)
        if not (result.stopped or result.timed_out):
            result.error = "the container was removed while it ran"
        return result
    finally:
        if not spec.keep:
            with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
                api.remove_container(cid, v=True, force=True)


def _wait_exec_exit(api, exec_id: str) -> int | None:
    """The exec's exit code; the daemon may report it a moment after the stream closed."""
    deadline = time.monotonic() + 5
    while True:
        info = api.exec_inspect(exec_id)
        if not info.get("Running") or time.monotonic() > deadline:
            return info.get("ExitCode")
        time.sleep(0.01)


def _signal_exec(api, exec_id: str, force: bool) -> bool:
    """Signal the exec'd process from this host. The Docker API cannot stop an exec, so
    this only works when the daemon is local; its cgroup must name the container, so a
    PID from another PID namespace never hits an unrelated process."""
    info = api.exec_inspect(exec_id)
    pid, container_id = info.get("Pid"), info.get("ContainerID")
    if not pid or not container_id or not info.get("Running"):
        return False
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8") as fh:
            if container_id not in fh.read():
                return False
        os.kill(pid, signal.SIGKILL if force else signal.SIGTERM)
        return True
    except OSError:
        return False


def _run_exec(api, spec: Container, *, env, sink, stop, timeout, grace, stdout_file, stderr_file) -> RunResult:
    """`docker exec` in a running container (Dagu's DAG-level container and `container: name`)."""
    argv = [*(spec.entrypoint or ()), *(spec.cmd or ())]
    if spec.script is not None or not argv:
        return RunResult(None, error=f"nothing to run in container {spec.exec_in!r}: exec needs a command")
    try:
        exec_id = api.exec_create(spec.exec_in, argv, environment=_env_list(env, spec.env),
                                  workdir=spec.workdir or None, user=spec.user or "")["Id"]
    except docker.errors.NotFound:
        return RunResult(None, error=f"container {spec.exec_in!r} not found (exec needs a running container)")
    frames = api.exec_start(exec_id, stream=True, demux=True)

    def end(force: bool) -> None:
        if not _signal_exec(api, exec_id, force):
            frames.close()  # cannot reach the process: at least stop waiting for it
        elif not force and grace >= 0:
            kill_timer = threading.Timer(grace, ending.request, args=(ending.reason or "stop", True))
            kill_timer.daemon = True
            kill_timer.start()

    ending = _Ending(end)
    ending.started()
    output = _Output(sink, stdout_file, stderr_file)
    with _watch(ending, stop, timeout):
        try:
            output.pump(frames)
        except Exception:  # the stream was closed under us by `end`
            if ending.reason is None:
                raise
        finally:
            frames.close()
    code = _wait_exec_exit(api, exec_id)
    return _result(code, output, ending, timeout)


# ---------------------------------------------------------------- service containers and cleanup

def start_service_container(
    spec: Container,
    *,
    labels: dict[str, str],
    host_dir: str,
    env: dict[str, str],
    images: ImageMap | None = None,
    client=None,
    sink: LineSink | None = None,
) -> str:
    """Start a long-lived container that steps `docker exec` into (Dagu's DAG-level
    `container:`); returns its id. Without entrypoint/cmd it runs a keep-alive shell loop
    with the image's ENTRYPOINT cleared (Dagu's default `startup: keepalive`; the image needs
    `sh` and `sleep`); with them it runs those (`startup: command`). Raises DockerUnavailable
    or ContainerError."""
    sink = sink or (lambda stream, line: None)
    try:
        api = _api(client)
        image = _prepare_image(api, spec, images, sink)
        keepalive = spec.entrypoint is None and spec.cmd is None
        args = _create_args(api, spec, image, env=env, labels=labels, host_dir=host_dir,
                            script_bind=None, stop_signal=None, keepalive=keepalive)
        cid = _create(api, args, spec, sink)
    except ImageUnavailable as exc:
        raise ContainerError(str(exc)) from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ContainerError(_describe(exc)) from None
    try:
        api.start(cid)
        state = api.inspect_container(cid)["State"]
        if not state.get("Running"):
            tail = api.logs(cid, tail=5).decode("utf-8", "replace").strip()
            raise ContainerError(f"service container for {spec.image!r} exited at once "
                                 f"(exit {state.get('ExitCode')}){': ' + tail if tail else ''}")
        return cid
    except BaseException as exc:
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            api.remove_container(cid, v=True, force=True)
        if isinstance(exc, (docker.errors.DockerException, requests.exceptions.RequestException)):
            raise ContainerError(_describe(exc)) from None
        raise


def remove_container(container_id: str, client=None) -> None:
    """Force-remove (kill if running); a container that is already gone is fine."""
    with contextlib.suppress(docker.errors.NotFound):
        _api(client).remove_container(container_id, v=True, force=True)


def _managed(api, run_id: str | None) -> list[dict]:
    filters = [f"{MANAGED_LABEL}=true"] + ([f"{RUN_ID_LABEL}={run_id}"] if run_id else [])
    return api.containers(all=True, filters={"label": filters})


def _name(summary: dict) -> str:
    names = summary.get("Names") or [summary["Id"][:12]]
    return names[0].lstrip("/")


def _is_spared(summary: dict, spare: list[str]) -> bool:
    return any(summary["Id"].startswith(s) or _name(summary) == s for s in spare)


def cleanup(run_id: str | None = None, client=None) -> list[str]:
    """Force-remove every flowport container (of one run when `run_id` is given), kept ones
    included; returns their names. Raises DockerUnavailable when there is no daemon."""
    try:
        api = _api(client)
        removed = []
        for summary in _managed(api, run_id):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(summary["Id"], v=True, force=True)
                removed.append(_name(summary))
        return removed
    except requests.exceptions.ConnectionError as exc:
        raise DockerUnavailable(_describe(exc)) from None


def stop_run_containers(run_id: str, grace: float = 5.0, client=None, spare: Iterable[str] = ()) -> list[str]:
    """Stop (SIGTERM, kill after `grace`) all containers of a run in parallel and remove
    those not marked keep; returns the names handled. `spare`: ids (or id prefixes, names)
    to leave alone, e.g. the DAG-level container that cancel handlers still exec into.
    Best effort, never raises. A process that never talked to Docker has started none, so
    this costs nothing then."""
    if client is None and not _clients:
        return []
    try:
        api = _api(client)
        spare = [s for s in spare if s]
        containers = [c for c in _managed(api, run_id) if not _is_spared(c, spare)]
    except (DockerUnavailable, docker.errors.DockerException, requests.exceptions.RequestException):
        return []

    def finish(summary: dict) -> str:
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            if summary.get("State") == "running":
                api.stop(summary["Id"], timeout=_stop_seconds(grace))
            if (summary.get("Labels") or {}).get(KEEP_LABEL) != "true":
                api.remove_container(summary["Id"], v=True, force=True)
        return _name(summary)

    if not containers:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(containers))) as pool:
        return list(pool.map(finish, containers))
