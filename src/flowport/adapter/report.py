"""The run report: the outcome of a run in the source engine's own vocabulary."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .records import NodeRecord


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


@dataclass
class NodeReport:
    name: str
    display_name: str
    kind: str
    phase: str
    exit_code: int | None
    started_at: str | None
    finished_at: str | None
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    parent: str | None = None  # Argo: the node this one hangs under (tree of `argo get`)
    template: str | None = None  # Argo: the template the node ran
    node_type: str | None = None  # Argo: Pod, Steps, StepGroup, DAG, TaskGroup, Retry, Skipped…
    sub_runs: list["RunReport"] = field(default_factory=list)  # Dagu call steps: each child run, nested

    @classmethod
    def of(cls, rec: NodeRecord, outputs: dict[str, Any] | None = None) -> "NodeReport":
        return cls(
            name=rec.name,
            display_name=rec.label,
            kind=rec.kind,
            phase=rec.phase,
            exit_code=rec.exit_code,
            started_at=_iso(rec.started_at),
            finished_at=_iso(rec.finished_at),
            outputs=dict(rec.outputs) if outputs is None else outputs,
            message=rec.message,
            parent=rec.parent,
            template=rec.template,
            node_type=rec.node_type,
            sub_runs=list(rec.sub_runs),
        )


@dataclass
class RunReport:
    workflow: str
    dialect: str
    status: str
    message: str | None
    started_at: str | None
    finished_at: str | None
    params: dict[str, str]
    nodes: list[NodeReport]
    outputs: dict[str, Any]
    run_id: str | None = None
    log_dir: str | None = None
    attempts: int = 1  # runs of the whole workflow (Dagu retry_policy); nodes are the last one's

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def node(self, name: str) -> NodeReport:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "Succeeded")
