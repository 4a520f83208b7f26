"""The one node record both dialects keep: a step, handler, hook or Argo template node.

Phases are the source engine's own words (Dagu `not_started … canceled`, Argo `Pending …
Omitted`); `done` knows both vocabularies so the core never asks which dialect it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# Phases after which a node does not change any more, in both vocabularies.
DONE_PHASES = frozenset({
    "succeeded", "partially_succeeded", "failed", "skipped", "canceled",  # Dagu
    "Succeeded", "Failed", "Error", "Skipped", "Omitted",  # Argo
})


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class NodeRecord:
    name: str  # unique in the run (Argo: the node name, `wf[0].step`)
    display_name: str | None = None  # what people see (Argo: the display name)
    kind: str = "step"  # step | handler | hook
    node_type: str | None = None  # Argo: Pod, Steps, StepGroup, DAG, TaskGroup, Retry, Skipped…
    template: str | None = None  # Argo: the template the node ran
    parent: str | None = None  # Argo: the node this one hangs under
    phase: str = "not_started"
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    attempts: int = 0
    continued: bool = False  # Dagu: failed, but its continueOn lets dependants run
    after: tuple[str, ...] = ()  # the nodes this one follows (edges of Prefect's run graph)
    log: list[str] = field(default_factory=list, repr=False)  # Dagu: output, for continueOn.output
    sub_runs: list[Any] = field(default_factory=list)  # Dagu call steps: the child runs' RunReports

    @property
    def label(self) -> str:
        return self.display_name or self.name

    @property
    def done(self) -> bool:
        return self.phase in DONE_PHASES

    def finish(self, phase: str, message: str | None = None) -> "NodeRecord":
        self.phase = phase
        if message is not None:
            self.message = message
        self.finished_at = now()
        if self.started_at is None:
            self.started_at = self.finished_at
        return self
