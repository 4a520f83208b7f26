"""flowport: run Dagu DAGs and Argo Workflows as Prefect 3 flows, lifecycle handlers included.

Python API (mirrors the CLI):
    wf = flowport.load("dag.yaml")          # IR, or SourceError with every problem
    flow = flowport.build_flow(wf)          # a Prefect flow named after the workflow
    report = flowport.run(wf, [("NAME", "value")])  # run now; RunReport
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from prefect import Flow

    from .adapter.report import RunReport
    from .model import Workflow


def load(path):  # -> Workflow
    from .translators import load as _load

    return _load(path)


def build_flow(wf: "Workflow") -> "Flow":
    from .adapter.engine import build_flow as _build

    return _build(wf)


def run(wf: "Workflow", params: list[tuple[str, str]] | None = None) -> "RunReport":
    """Run now: against PREFECT_API_URL if set, else Prefect's embedded server."""
    from .adapter import prefect_api
    from .adapter import run as _run

    with prefect_api():
        return _run(wf, params)
