"""The intermediate representation (IR) every translator produces and the adapter runs.

Plain frozen dataclasses: no YAML, no Prefect. Values that a run resolves later (variables,
expressions) stay text here; the adapter evaluates them with `flowport.lang`.
Anything that differs between source engines is an explicit field (see `Semantics`),
so the engine never asks "is this Dagu?".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .argo import ArgoSpec
from .common import Container, Pairs, Param, Semantics
from .dagu import DagRetry, Handlers, MailSettings, Precondition, SecretRef, Step
from .plain import plain


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
    max_active_runs: int = 0  # Dagu maxActiveRuns (a Prefect global concurrency limit); 0 = none
    delay: float = 0.0  # seconds between starting steps (Dagu delaySec)
    shell: tuple[str, ...] = ()
    container: Container | None = None  # Dagu DAG-level container: steps are exec'd into it
    container_shell: tuple[str, ...] = ()
    schedule: tuple[str, ...] = ()
    schedule_paused: bool = False  # Argo CronWorkflow `suspend`: deployed with inactive schedules
    mail: MailSettings = MailSettings()
    secrets: tuple[SecretRef, ...] = ()  # Dagu `secrets:`, resolved when a run starts
    retry: DagRetry | None = None  # Dagu DAG-level `retry_policy` (a limit of 0 is None)
    artifacts_dir: str | None = None  # Dagu `artifacts:`; None = off, "" = flowport's data folder
    description: str | None = None
    tags: tuple[str, ...] = ()
    semantics: Semantics = Semantics()
    ignored: tuple[str, ...] = field(default=(), compare=False)  # accepted, no effect here
    argo: ArgoSpec | None = None  # the template tree of an Argo workflow (Dagu: None)
    # Dagu: the child DAGs the steps call, by the name a `SubDag` gives (found when translated)
    subdags: tuple[tuple[str, "Workflow"], ...] = field(default=(), compare=False)

    def subdag(self, name: str) -> "Workflow":
        for key, child in self.subdags:
            if key == name:
                return child
        raise KeyError(name)

    def uses_containers(self) -> bool:
        if self.argo is not None:
            return any(t.kind in ("container", "script") for t in self.argo.templates.values())
        nodes = [*self.steps, *(h for _, h in self.handlers.items())]
        return self.container is not None or any(isinstance(n.action, Container) for n in nodes)

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self, *, steps: bool = True) -> dict[str, Any]:
        """JSON-ready form (for `plan --json`); `steps=False` leaves the steps out (the CLI
        writes them one at a time: a 50,000-step DAG's dict at once doubled the memory)."""
        data = plain(replace(self, steps=(), subdags=()))  # both are filled in below, once
        if steps:
            data["steps"] = [step_dict(step) for step in self.steps]
        # each child as its own to_dict: tagged actions, a redacted password
        data["subdags"] = [{"name": key, "workflow": child.to_dict()} for key, child in self.subdags]
        if self.mail.smtp is not None and self.mail.smtp.password:
            data["mail"]["smtp"]["password"] = "***"
        for key, step in self.handlers.items():
            data["handlers"][key] = step_dict(step)
        return data


def step_dict(step: Step) -> dict[str, Any]:
    """A step's JSON-ready form, its action tagged with its kind."""
    data = plain(step)
    data["action"] = {"kind": type(step.action).__name__.lower(), **data["action"]}
    return data
