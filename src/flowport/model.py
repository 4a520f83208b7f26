"""The intermediate representation (IR) every translator produces and the adapter runs.

Plain frozen dataclasses: no YAML, no Prefect. Values that a run resolves later (variables,
expressions) stay text here; the adapter evaluates them with `flowport.lang`.
Anything that differs between source engines is an explicit field (see `Semantics`),
so the engine never asks "is this Dagu?".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
class Container:
    """A container on the Docker Engine. Docker's own terms, so each dialect maps onto it:
    Argo `command` -> entrypoint and `args` -> cmd; Dagu's step command -> cmd."""

    image: str
    entrypoint: tuple[str, ...] | None = None  # None: the image's ENTRYPOINT
    cmd: tuple[str, ...] | None = None  # None: the image's CMD
    env: Pairs = ()
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


Action = Union[Shell, Container, Mail, Http, Sql, Noop]


# ---------------------------------------------------------------- step policy


@dataclass(frozen=True)
class Precondition:
    """`condition` alone: a command, met when it exits 0. With `expected`: the expanded
    condition text must equal `expected` (or match it when it starts with `re:`)."""

    condition: str
    expected: str | None = None
    negate: bool = False


@dataclass(frozen=True)
class Retry:
    limit: int
    interval: float = 0.0
    backoff: float = 1.0  # multiplier per attempt; 1.0 = constant interval
    max_interval: float | None = None
    exit_codes: tuple[int, ...] = ()  # empty = retry on any failure

    def delays(self) -> list[float]:
        """Wait before retry 1..limit: interval * backoff**attempt, capped (Dagu retry.go)."""
        out = []
        for attempt in range(self.limit):
            delay = self.interval * (self.backoff**attempt)
            if self.max_interval is not None and self.max_interval > 0:
                delay = min(delay, self.max_interval)
            out.append(delay)
        return out


@dataclass(frozen=True)
class Repeat:
    """Dagu `repeatPolicy`: run the step again `while` (or `until`) the condition holds — a
    precondition-style `condition`, an exit code in `exit_codes`, or else its success; at
    most `limit` runs in all (0 = no limit); `interval * backoff**runs` apart, capped."""

    mode: Literal["while", "until"]
    interval: float = 0.0
    limit: int = 0
    condition: Precondition | None = None
    exit_codes: tuple[int, ...] = ()
    backoff: float = 0.0  # 0 = constant interval
    max_interval: float | None = None

    def delay(self, runs: int) -> float:
        if self.backoff <= 0:
            return self.interval
        delay = self.interval * (self.backoff**runs)
        return min(delay, self.max_interval) if self.max_interval else delay


@dataclass(frozen=True)
class ContinueOn:
    failure: bool = False
    skipped: bool = False
    exit_codes: tuple[int, ...] = ()
    output: tuple[str, ...] = ()  # substring, or `re:` regex, matched against the step output
    mark_success: bool = False

    @property
    def any(self) -> bool:
        return self.failure or self.skipped or bool(self.exit_codes) or bool(self.output)


@dataclass(frozen=True)
class OutputField:
    """One entry of Dagu's structured `output:` map, published as `${<id>.output.<key>}`.
    Either a literal (`value_json`: the YAML value as JSON text, strings in it expanded at
    run time) or read `source` (stdout|stderr|file at `path`), decoded (text|json|yaml),
    narrowed by a jq `select` path."""

    key: str
    value_json: str | None = None
    source: str | None = None
    path: str | None = None
    decode: str = "text"
    select: str | None = None


@dataclass(frozen=True)
class Step:
    name: str
    action: Action
    id: str | None = None
    description: str | None = None
    depends: tuple[str, ...] = ()  # names of steps this one waits for
    preconditions: tuple[Precondition, ...] = ()
    retry: Retry | None = None
    repeat: Repeat | None = None
    timeout: float | None = None  # seconds
    continue_on: ContinueOn = ContinueOn()
    output: str | None = None  # variable that receives trimmed stdout
    declared_outputs: tuple[str, ...] = ()  # Dagu V3 `outputs:` written to $DAGU_OUTPUT_FILE
    structured_output: tuple[OutputField, ...] = ()  # Dagu `output:` given as a map
    env: Pairs = ()
    workdir: str | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None
    stdout_artifact: str | None = None  # relative path under the run's artifacts folder
    stderr_artifact: str | None = None
    signal_on_stop: str | None = None
    mail_on_error: bool = False
    where: Where | None = None


# ---------------------------------------------------------------- workflow


@dataclass(frozen=True)
class Handlers:
    """Dagu `handlerOn`. `cancel` also holds Dagu's later `abort`."""

    success: Step | None = None
    failure: Step | None = None
    cancel: Step | None = None
    exit: Step | None = None
    init: Step | None = None

    def items(self) -> list[tuple[str, Step]]:
        names = ("init", "success", "failure", "cancel", "exit")
        return [(n, getattr(self, n)) for n in names if getattr(self, n) is not None]


HANDLER_NODE_NAMES = {
    "success": "onSuccess",
    "failure": "onFailure",
    "cancel": "onCancel",
    "exit": "onExit",
    "init": "onInit",
}


@dataclass(frozen=True)
class Semantics:
    """What the source engine does where engines differ."""

    vocabulary: Literal["dagu", "argo"] = "dagu"
    handler_failure_fails_run: bool = True
    stop_grace_seconds: float = 5.0  # Dagu maxCleanUpTimeSec: SIGTERM, then SIGKILL
    run_backticks: bool = True  # V1/V2 execute `cmd` substitutions; V3 does not in value matches
    default_shell: tuple[str, ...] = ()  # () = $SHELL or sh


@dataclass(frozen=True)
class Param:
    name: str  # "1", "2" for positional parameters
    default: str | None  # None: declared without a value (references stay literal)
    description: str | None = None


@dataclass(frozen=True)
class SmtpConfig:
    """Dagu `smtp:`; values may hold `${VAR}` references, resolved when a mail is sent."""

    host: str
    port: str = "25"
    username: str | None = None
    password: str | None = None  # never printed: `Workflow.to_dict` redacts it


@dataclass(frozen=True)
class MailBlock:
    """Dagu `errorMail` / `infoMail`."""

    sender: str
    to: tuple[str, ...]
    prefix: str = ""
    attach_logs: bool = False


@dataclass(frozen=True)
class MailSettings:
    """Dagu smtp / errorMail / infoMail / mailOn: the run mail, sent after all handlers."""

    smtp: SmtpConfig | None = None
    on_failure: bool = False
    on_success: bool = False
    error_mail: MailBlock | None = None
    info_mail: MailBlock | None = None


@dataclass(frozen=True)
class Workflow:
    name: str
    dialect: str  # "dagu-v1", "dagu-v2", "dagu-v3", "argo"
    source_file: str
    workdir: str
    steps: tuple[Step, ...]
    params: tuple[Param, ...] = ()
    params_text: str | None = None  # Dagu string params, resolved at run time (backticks)
    env: Pairs = ()
    dotenv: tuple[str, ...] = ()
    handlers: Handlers = Handlers()
    preconditions: tuple[Precondition, ...] = ()
    timeout: float | None = None
    max_active_steps: int = 0  # 0 = unlimited
    delay: float = 0.0  # seconds between starting steps (Dagu delaySec)
    shell: tuple[str, ...] = ()
    container: Container | None = None  # Dagu DAG-level container: steps are exec'd into it
    container_shell: tuple[str, ...] = ()
    schedule: tuple[str, ...] = ()
    schedule_paused: bool = False  # Argo CronWorkflow `suspend`: deployed with inactive schedules
    mail: MailSettings = MailSettings()
    artifacts_dir: str | None = None  # Dagu `artifacts:`; None = off, "" = flowport's data folder
    description: str | None = None
    tags: tuple[str, ...] = ()
    semantics: Semantics = Semantics()
    ignored: tuple[str, ...] = field(default=(), compare=False)  # accepted, no effect here
    argo: Any = None  # model_argo.ArgoSpec: the template tree of an Argo workflow

    def uses_containers(self) -> bool:
        nodes = [*self.steps, *(h for _, h in self.handlers.items())]
        return self.container is not None or any(isinstance(n.action, Container) for n in nodes)

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for `plan --json`)."""
        data = asdict(self)

        def tag_actions(obj: Any, src: Any) -> None:
            for step, raw in zip(src, obj):
                raw["action"] = {"kind": type(step.action).__name__.lower(), **raw["action"]}

        tag_actions(data["steps"], self.steps)
        if self.mail.smtp is not None and self.mail.smtp.password:
            data["mail"]["smtp"]["password"] = "***"
        for key, step in self.handlers.items():
            data["handlers"][key]["action"] = {
                "kind": type(step.action).__name__.lower(),
                **data["handlers"][key]["action"],
            }
        return data
