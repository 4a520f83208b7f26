"""Small helpers for reading run results in tests."""

from __future__ import annotations

import os
from pathlib import Path


def phases(report) -> dict[str, str]:
    return {n.name: n.phase for n in report.nodes}


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def alive(pid: int) -> bool:
    """Whether `pid` still runs. A zombie counts as gone: it has exited, and where PID 1 does
    not reap orphans (containers without an init) it stays in the table forever."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # the state letter follows the parenthesised command name
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
