"""Where a run keeps its files, and the exactly-once claims that live there.

`<log root>/<workflow>/<flow run id>/` holds the run log, step logs and `claims/`. Every
lifecycle node is *claimed* before it runs, by creating a file with O_EXCL: the flow body
and the Prefect hooks (another process, after the body was killed) both claim, so each
handler runs exactly once on this host.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def data_root() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data) / "flowport"


def log_root() -> Path:
    base = os.environ.get("FLOWPORT_LOG_DIR")
    return Path(base) if base else data_root() / "logs"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "step"


def run_dir(workflow_name: str, run_id: str) -> Path:
    return log_root() / safe_name(workflow_name) / run_id


def claim(folder: Path, what: str) -> bool:
    """True for the first caller only (across processes on this host)."""
    claims = folder / "claims"
    claims.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(claims / safe_name(what), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")
    return True


def claimed(folder: Path, what: str) -> bool:
    return (folder / "claims" / safe_name(what)).exists()
