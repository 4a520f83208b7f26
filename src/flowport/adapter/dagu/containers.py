"""Container steps of one run: resolve a `Container` action against the run's variables,
run it with the Docker runner, and own the run's long-lived DAG-level container."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from typing import IO, Callable

from ...model import DAG_CONTAINER, Container, Step
from .context import RunContext
from ..runners.base import LineSink, RunResult, StopToken


def labels(ctx: RunContext, step_name: str) -> dict[str, str]:
    from ..runners.docker import run_labels

    return run_labels(ctx.run_id, step_name, ctx.wf.name)


def workflow_env(env: dict[str, str]) -> dict[str, str]:
    """What a container gets from the run's environment: everything the workflow defined
    (env, params, outputs, DAG_* variables), not the host's own variables (the host's PATH
    or HOME would shadow the image's)."""
    host = os.environ
    return {k: v for k, v in env.items() if host.get(k) != v}


def resolve(ctx: RunContext, spec: Container, env: dict[str, str], expand: Callable[[str], str]) -> tuple[Container, dict[str, str]]:
    """Variables in every text field expanded; `spec.env` evaluated in order (a later entry
    sees the earlier ones). Returns the container and the environment it gets."""
    container_env = workflow_env(env)
    own: list[tuple[str, str]] = []
    scope = dict(env)
    for key, value in spec.env:
        value = ctx.expand(value, scope)
        scope[key] = value
        own.append((key, value))

    def opt(text: str | None) -> str | None:
        return expand(text) if text else text

    def argv(items: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return tuple(expand(a) for a in items) if items is not None else None

    resolved = replace(
        spec,
        image=expand(spec.image),
        entrypoint=argv(spec.entrypoint),
        cmd=argv(spec.cmd),
        env=tuple(own),
        volumes=tuple(expand(v) for v in spec.volumes),
        workdir=opt(spec.workdir),
        user=opt(spec.user),
        network=opt(spec.network),
        name=opt(spec.name),
        exec_in=opt(spec.exec_in),
    )
    return resolved, container_env


def run_container_step(
    ctx: RunContext,
    step: Step,
    spec: Container,
    env: dict[str, str],
    *,
    expand: Callable[[str], str],
    sink: LineSink,
    stop: StopToken | None,
    out_file: IO[str],
    err_file: IO[str],
    node_name: str,
) -> RunResult:
    from ..runners.docker import run_container

    if spec.exec_in == DAG_CONTAINER:
        cid, error = ctx.dag_container.ensure(ctx, env)
        if error:
            return RunResult(None, error=error)
        spec = replace(spec, exec_in=cid)
    resolved, container_env = resolve(ctx, spec, env, expand)
    return run_container(
        resolved,
        env=container_env,
        sink=sink,
        stop=stop,
        labels=labels(ctx, node_name),
        host_dir=ctx.workdir,
        timeout=step.timeout,
        grace=ctx.wf.semantics.stop_grace_seconds,
        stdout_file=out_file,
        stderr_file=err_file,
        images=ctx.options.images,
        stop_signal=step.signal_on_stop,
    )


class DagContainer:
    """Dagu's DAG-level container: started once, on first use; every step is exec'd into
    it; removed when the run ends unless `keepContainer`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.container_id: str | None = None
        self.error: str | None = None

    def ensure(self, ctx: RunContext, env: dict[str, str]) -> tuple[str | None, str | None]:
        with self._lock:
            if self.container_id or self.error:
                return self.container_id, self.error
            from ..runners.docker import ContainerError, DockerUnavailable, start_service_container

            spec = ctx.wf.container
            resolved, container_env = resolve(ctx, spec, env, lambda text: ctx.expand(text, env))
            try:
                self.container_id = start_service_container(
                    resolved,
                    labels=labels(ctx, "(dag container)"),
                    host_dir=ctx.workdir,
                    env={**container_env, **dict(resolved.env)},
                    images=ctx.options.images,
                )
                ctx.log(f"DAG container started from {resolved.image} ({self.container_id[:12]})")
            except (ContainerError, DockerUnavailable) as exc:
                self.error = f"DAG container: {exc}"
                ctx.log(self.error)
            return self.container_id, self.error

    def close(self, ctx: RunContext) -> None:
        if self.container_id and not ctx.wf.container.keep:
            from ..runners.docker import remove_container

            try:
                remove_container(self.container_id)
            except Exception as exc:  # the run's outcome is already decided; say why it stayed
                ctx.log(f"could not remove the DAG container {self.container_id[:12]}: {exc}")
