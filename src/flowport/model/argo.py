"""The Argo part of the IR: a template tree, kept close to Argo's own structure.

Argo runs a *tree* of templates (steps groups, DAG tasks, nested templates, loops, exit
handlers and hooks), not a flat step graph, so `Workflow.argo` carries an `ArgoSpec` and the
Argo engine (`adapter/argo/`) walks it. Frozen dataclasses, no YAML, no Prefect. Texts keep
their `{{…}}` tags: they are resolved at run time, when the values exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .common import Container, Http, Where


@dataclass(frozen=True)
class Parameter:
    """`inputs.parameters[]`, `arguments.parameters[]`, `spec.arguments.parameters[]`."""

    name: str
    value: str | None = None
    default: str | None = None
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputParameter:
    """`outputs.parameters[]`: where the value comes from once the node has run."""

    name: str
    path: str | None = None  # valueFrom.path (a file in the container)
    default: str | None = None  # valueFrom.default
    expression: str | None = None  # valueFrom.expression (expr-lang, steps/dag templates)
    parameter: str | None = None  # valueFrom.parameter (a `{{…}}` reference)
    value: str | None = None  # a literal value (may hold tags)
    supplied: bool = False  # valueFrom.supplied (suspend templates)
    global_name: str | None = None  # exported as workflow.outputs.parameters.<globalName>


@dataclass(frozen=True)
class Hook:
    """A lifecycle hook: `onExit`/`hooks.exit` (name "exit") or a named hook with an
    expr-lang `expression` that fires it at most once."""

    name: str
    template: str  # a key of ArgoSpec.templates
    arguments: tuple[Parameter, ...] = ()
    expression: str | None = None
    where: Where | None = None


@dataclass(frozen=True)
class Sequence:
    """`withSequence`; every field may hold tags, so they stay text."""

    count: str | None = None
    start: str | None = None
    end: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Loop:
    items: tuple[Any, ...] | None = None  # withItems (JSON-like values)
    param: str | None = None  # withParam (a JSON list once resolved)
    sequence: Sequence | None = None  # withSequence


@dataclass(frozen=True)
class Call:
    """A step of a `steps` group or a task of a `dag`: which template it runs, how."""

    name: str
    template: str  # a key of ArgoSpec.templates
    arguments: tuple[Parameter, ...] = ()
    when: str | None = None
    loop: Loop | None = None
    continue_failed: bool = False
    continue_error: bool = False
    exit_hook: Hook | None = None
    hooks: tuple[Hook, ...] = ()  # named hooks, in the order written
    depends: str | None = None  # DAG: `depends` text (legacy `dependencies` rewritten to it)
    where: Where | None = None


@dataclass(frozen=True)
class RetryStrategy:
    limit: str | None = None  # None: unlimited (`retryStrategy: {}`); may hold tags
    policy: str = "OnFailure"  # Always | OnFailure | OnError | OnTransientError
    expression: str | None = None
    backoff_duration: str | None = None
    backoff_factor: str | None = None
    backoff_cap: str | None = None
    backoff_max_duration: str | None = None


@dataclass(frozen=True)
class Synchronization:
    """`synchronization`: Argo's locks, held as Prefect global concurrency limits."""

    mutexes: tuple[tuple[str | None, str], ...] = ()  # (namespace or None: the workflow's, name)
    semaphores: tuple[tuple[str | None, str, str], ...] = ()  # (namespace, ConfigMap name, key)


@dataclass(frozen=True)
class Template:
    name: str
    kind: str  # container | script | steps | dag | suspend | http
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[OutputParameter, ...] = ()
    container: Container | None = None  # container and script templates
    steps: tuple[tuple[Call, ...], ...] = ()
    tasks: tuple[Call, ...] = ()
    target: str | None = None  # dag.target
    fail_fast: bool = True  # dag.failFast / template failFast (with parallelism)
    parallelism: int | None = None
    retry: RetryStrategy | None = None
    timeout: str | None = None  # `timeout` (duration text)
    active_deadline: str | None = None  # activeDeadlineSeconds
    suspend_duration: str | None = None
    http: Http | None = None
    sync: "Synchronization | None" = None  # template-level synchronization (held for the node)
    where: Where | None = None


@dataclass(frozen=True)
class ArgoSpec:
    entrypoint: str
    templates: dict[str, Template] = field(hash=False)
    kind: str = "Workflow"  # or WorkflowTemplate (run as `argo submit --from`)
    generate_name: str | None = None
    name: str | None = None
    namespace: str = "default"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    service_account: str = ""
    arguments: tuple[Parameter, ...] = ()
    exit_hook: Hook | None = None  # spec.onExit / spec.hooks.exit
    hooks: tuple[Hook, ...] = ()  # spec.hooks.<name> with expressions
    active_deadline: float | None = None
    parallelism: int | None = None
    priority: int | None = None
    sync: Synchronization | None = None  # spec.synchronization (held for the whole workflow)
