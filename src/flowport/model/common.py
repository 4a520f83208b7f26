"""What both dialects share: source positions, actions (shell, container, mail, http, sql,
noop), parameters and the engine semantics that differ by source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Union

Pairs = tuple[tuple[str, str], ...]  # ordered KEY=VALUE pairs (Dagu evaluates env in order)


@dataclass(frozen=True)
class Where:
    """Source location kept for runtime messages (`dag.yaml:12:5`)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Shell:
    """A local process. Exactly one of `command` (through the shell), `argv` (no shell)
    or `script` (written to a temp file and run by `shell`, or by its shebang)."""

    command: str | None = None
    argv: tuple[str, ...] | None = None
    script: str | None = None
    shell: tuple[str, ...] = ()  # interpreter argv; () = the workflow's / default shell


DAG_CONTAINER = "@dag-container"  # Container.exec_in: the run's DAG-level container


@dataclass(frozen=True)
class EnvRef:
    """An environment value kept in a Kubernetes Secret or ConfigMap, read when the container
    starts (Argo `env[].valueFrom.secretKeyRef|configMapKeyRef`, `envFrom[]`). In flowport the
    Secret N is the Prefect Secret block N and the ConfigMap N the Prefect Variable N (as
    `flowport secrets import` stores them)."""

    source: Literal["secret", "configMap"]
    object: str  # the Secret / ConfigMap name
    key: str | None = None  # one key (valueFrom) → variable `name`; None: every key (envFrom)
    name: str | None = None  # the variable (valueFrom)
    prefix: str = ""  # envFrom.prefix
    optional: bool = False


@dataclass(frozen=True)
class Container:
    """A container on the Docker Engine. Docker's own terms, so each dialect maps onto it:
    Argo `command` -> entrypoint and `args` -> cmd; Dagu's step command -> cmd."""

    image: str
    entrypoint: tuple[str, ...] | None = None  # None: the image's ENTRYPOINT
    cmd: tuple[str, ...] | None = None  # None: the image's CMD
    env: Pairs = ()
    env_refs: tuple[EnvRef, ...] = ()  # values from Secrets/ConfigMaps; envFrom below `env`, valueFrom above
    volumes: tuple[str, ...] = ()  # "host:container[:ro]"; relative host paths -> workflow dir
    workdir: str | None = None
    user: str | None = None
    network: str | None = None
    platform: str | None = None
    pull_policy: Literal["missing", "always", "never"] = "missing"
    keep: bool = False  # keep the container after it exits (Dagu autoRemove: false)
    name: str | None = None  # container name to create
    exec_in: str | None = None  # run `cmd` inside this existing container (docker exec)
    script: str | None = None  # Argo script.source: mounted, its path appended to cmd
    # Docker HostConfig fields by Docker's own names (`CapDrop`, `ShmSize`…), JSON values,
    # merged into the container's host config as given
    host: tuple[tuple[str, Any], ...] = ()

@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    sender: str
    subject: str
    message: str
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Http:
    """One HTTP request: an Argo http template, or Dagu's http executor (whose response is
    the step's stdout: status line and headers unless `silent`, then the body; or a JSON
    document with `json_format`; the body goes to `output_file` when given)."""

    url: str
    method: str = "GET"
    headers: Pairs = ()
    body: str | None = None
    success_condition: str | None = None  # Argo; Dagu: any 2xx
    timeout: float | None = None
    query: Pairs = ()
    silent: bool = False
    json_format: bool = False
    output_file: str | None = None
    skip_tls_verify: bool = False


@dataclass(frozen=True)
class Sql:
    """Dagu's SQLite executor (`type: sqlite`, V3 `action: sqlite.query`): one `query`, or a
    `script` of `;`-separated statements; rows go to stdout as jsonl, json or csv."""

    dsn: str
    query: str | None = None
    script: str | None = None
    params_json: str | None = None  # a JSON object (named `:name`) or list (positional `?`)
    output_format: Literal["jsonl", "json", "csv"] = "jsonl"
    headers: bool = False  # csv header row
    null_string: str = "null"  # csv rendering of NULL
    max_rows: int = 0  # 0 = all
    timeout: float = 60.0
    transaction: bool = False


@dataclass(frozen=True)
class Noop:
    pass


@dataclass(frozen=True)
class PythonCall:
    """A Python function called in the run's own process (flowport.sdk `pytask`: a Prefect
    `@task` function as a step). String arguments are expanded as a command is; other
    values are passed as they are. What it returns is the step's stdout."""

    function: Any  # a callable; compared by identity
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


Action = Union[Shell, Container, Mail, Http, Sql, Noop, PythonCall]



@dataclass(frozen=True)
class Semantics:
    """What the source engine does where engines differ."""

    vocabulary: Literal["dagu", "argo"] = "dagu"
    handler_failure_fails_run: bool = True
    stop_grace_seconds: float = 5.0  # Dagu maxCleanUpTimeSec: SIGTERM, then SIGKILL
    run_backticks: bool = True  # V1/V2 execute `cmd` substitutions; V3 does not in value matches
    default_shell: tuple[str, ...] = ()  # () = $SHELL or sh
    # What repeated stop requests do: "dagu" (`dagu stop`: the first stops the steps
    # gracefully and lets the handlers finish, the next kills) or "argo" (`argo stop`,
    # then `argo terminate`: exit handlers are stopped too).
    stop_ladder: Literal["dagu", "argo"] = "dagu"
    # Do the lifecycle nodes still run when the flow process died (SIGKILL, OOM)? Argo's
    # controller runs onExit whatever happened to the pods; Dagu runs nothing for a killed run.
    lifecycle_after_crash: bool = False


@dataclass(frozen=True)
class Param:
    name: str  # "1", "2" for positional parameters
    default: str | None  # None: declared without a value (references stay literal)
    description: str | None = None


