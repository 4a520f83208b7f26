"""The Dagu step graph: steps and their policies (preconditions, retry, repeat, continueOn,
outputs), `handlerOn` handlers and the run mail settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .common import Action, Pairs, Where


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
class Fanout:
    """Dagu `parallel:` on a call step (runtime/builtin/dag/parallel.go): one child run per
    item, at most `max_concurrent` at once, items that give the same params run once.
    `items` are literal (a scalar as text, a flat mapping as compact JSON with sorted keys);
    `source` is a `${VAR}` text evaluated at run time (a JSON array, or a separated list)."""

    items: tuple[str, ...] = ()
    source: str | None = None
    max_concurrent: int = 10  # Dagu's DefaultMaxConcurrent


@dataclass(frozen=True)
class SubDag:
    """A call of a child DAG (`call:`, V1 `run:`, V3 `action: dag.run`): the child runs as a
    Prefect subflow with its own steps and handlers. `dag` names it as written (the key of
    `Workflow.subdags`). Params are a string (`params_text`, expanded, then tokenised as the
    child's params string) or pairs (values expanded); `None` for both passes nothing (a
    `parallel` child then receives its item as its params string)."""

    dag: str
    params_text: str | None = None
    params: tuple[tuple[str, str], ...] | None = None
    parallel: Fanout | None = None
    where: Where | None = field(default=None, compare=False)  # the `call:` value


@dataclass(frozen=True)
class Step:
    name: str
    action: Action | SubDag
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


@dataclass(frozen=True)
class DagRetry:
    """Dagu's DAG-level `retry_policy` (spec/dag.go buildDAGRetryPolicy): a run that ends
    failed runs again, at most `limit` more times, `delay(n)` after attempt n ended; each
    attempt re-runs the failed steps and everything below them (runtime/plan.go setupRetry)."""

    limit: int
    interval: float = 60.0  # seconds; Dagu's default
    backoff: float = 0.0  # multiplier per retry; 0 = a fixed interval
    max_interval: float = 3600.0  # caps the exponential growth only (Dagu's default: 1 h)

    def delay(self, retry: int) -> float:
        """Seconds to wait before the next attempt, after `retry` retries so far (Dagu
        ir.CalculateBackoffInterval): interval·backoff^retry capped at max_interval; a fixed
        interval is never capped."""
        if self.backoff <= 0:
            return self.interval
        try:
            delay = self.interval * self.backoff ** max(retry, 0)
        except OverflowError:  # a large limit: the cap holds long before
            delay = float("inf")
        return min(delay, self.max_interval)


@dataclass(frozen=True)
class SecretRef:
    """A Dagu `secrets:` entry: the environment variable `name` gets what `provider` finds
    under `key` (`key` and `options` are taken literally, never expanded)."""

    name: str
    provider: str  # env | file | prefect (a Prefect Secret block)
    key: str
    options: tuple[tuple[str, str], ...] = ()


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


