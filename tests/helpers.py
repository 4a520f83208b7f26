"""Small helpers for reading run results in tests."""

from __future__ import annotations

from pathlib import Path


def phases(report) -> dict[str, str]:
    return {n.name: n.phase for n in report.nodes}


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
