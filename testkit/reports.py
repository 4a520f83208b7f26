"""Reading run results in tests."""

from __future__ import annotations

from pathlib import Path


def phases(report) -> dict[str, str]:
    """{node name: phase} of a RunReport."""
    return {n.name: n.phase for n in report.nodes}


def by_display(report) -> dict:
    """{display name: node} of a RunReport; where several nodes show one name (loop items,
    retries), the first."""
    out: dict = {}
    for n in report.nodes:
        out.setdefault(n.display_name, n)
    return out


def log_text(report) -> str:
    """The steps' stdout logs (`*.out` in the run's log folder), in file-name order."""
    return "".join(p.read_text() for p in sorted(Path(report.log_dir).glob("*.out")))


def all_log_files_text(log_dir: str | Path) -> str:
    """Every file under a run's log folder, as text (undecodable bytes replaced): where a
    secret must not appear."""
    return "".join(p.read_text(errors="replace") for p in Path(log_dir).rglob("*") if p.is_file())


def read(path: Path) -> str:
    """The text of `path`, "" when it does not exist."""
    return path.read_text() if path.exists() else ""
