"""IR → Prefect: the run core (core.py) and what it runs on. `run()` runs a workflow now,
in this process, on the server in PREFECT_API_URL or Prefect's embedded one.

The names load on first use: the CLI reaches adapter.server (is a server up? start it, with
a spinner) before it needs the run core, whose import takes a while."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

_PUBLIC = {"build_flow": ".core", "run": ".core", "flush_logs": ".server", "prefect_api": ".server"}

__all__ = ["build_flow", "flush_logs", "prefect_api", "run"]

if TYPE_CHECKING:
    from .core import build_flow, run
    from .server import flush_logs, prefect_api


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'flowport.adapter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
