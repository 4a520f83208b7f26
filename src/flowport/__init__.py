"""flowport: run Dagu DAGs and Argo Workflows as Prefect 3 flows, lifecycle handlers included.

Python API (mirrors the CLI):
    wf = flowport.load("dag.yaml")          # IR, or SourceError with every problem
    flow = flowport.build_flow(wf)          # a Prefect flow named after the workflow
    report = flowport.run(wf, [("NAME", "value")])  # run now; RunReport

The names are the implementations themselves, loaded on first use (importing flowport
stays cheap): nothing here wraps them, so nothing can drift from them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC = {
    "load": "flowport.translators",
    "load_text": "flowport.translators",
    "build_flow": "flowport.adapter.core",
    "run": "flowport.adapter.core",
    "RunReport": "flowport.adapter.report",
    "Workflow": "flowport.model",
    "FlowportError": "flowport.errors",
}

__all__ = [*_PUBLIC, "__version__"]

if TYPE_CHECKING:
    from .adapter.core import build_flow, run
    from .adapter.report import RunReport
    from .errors import FlowportError
    from .model import Workflow
    from .translators import load, load_text


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'flowport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
