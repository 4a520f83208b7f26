"""IR → Prefect: the run core (core.py) and what it runs on. `run()` runs a workflow now,
in this process, on the server in PREFECT_API_URL or Prefect's embedded one."""

from __future__ import annotations

import os

from .core import build_flow, run
from .server import flush_logs, prefect_api

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

__all__ = ["build_flow", "flush_logs", "prefect_api", "run"]
