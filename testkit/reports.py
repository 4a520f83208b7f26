"""Reading run results in tests."""

from __future__ import annotations

from pathlib import Path


def phases(report) -> dict[str, str]:
    """{node name: phase} of a RunReport."""
    return {n.name: n.phase for n in report.nodes}


def read(path: Path) -> str:
    """The text of `path`, "" when it does not exist."""
    return path.read_text() if path.exists() else ""
