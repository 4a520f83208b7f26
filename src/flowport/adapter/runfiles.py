"""Where a run keeps its files, and the exactly-once claims that live there.

`<log root>/<workflow>/<flow run id>/` holds the run log, step logs and `claims/`. Every
lifecycle node is *claimed* before it runs, by creating a file with O_EXCL: the flow body
and the Prefect hooks (another process, after the body was killed) both claim, so each
handler runs exactly once on this host.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Iterable

log = logging.getLogger("flowport")


def data_root() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data) / "flowport"


def log_root() -> Path:
    base = os.environ.get("FLOWPORT_LOG_DIR")
    return Path(base) if base else data_root() / "logs"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: longest stem kept as written; longer names keep this much and gain a hash
MAX_STEM = 100


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def safe_name(name: str, *, tail: bool = False) -> str:
    """A file or folder name for `name` that stays inside its folder: characters other than
    letters, digits, `.`, `_` and `-` become `_`, leading dots go (no `.`, `..` or hidden
    files). A name that leaves nothing, or is longer than MAX_STEM (`tail`: keep its end),
    gets a short hash of itself so that it still names only itself."""
    cleaned = _UNSAFE.sub("_", name).lstrip("._").rstrip("_")
    if not cleaned:
        return f"step-{_digest(name)}"
    if len(cleaned) > MAX_STEM:
        kept = cleaned[-MAX_STEM:].lstrip("._") if tail else cleaned[:MAX_STEM]
        return f"{kept}-{_digest(name)}"
    return cleaned


class FileNames:
    """File stems for the nodes of one run: `safe_name`, and never shared. A name whose stem
    another name already has (`a b` next to `a_b`, `Build` next to `build` on a case-insensitive
    disk) gets a short hash of itself appended. `names` known up front are placed first, those
    that sanitizing leaves as written before the others, so the result does not depend on the
    order in which steps run."""

    def __init__(self, names: Iterable[str] = (), *, tail: bool = False):
        self._lock = threading.Lock()
        self._stems: dict[str, str] = {}
        self._taken: set[str] = set()
        self._tail = tail
        for name in sorted(dict.fromkeys(names), key=lambda n: safe_name(n, tail=tail) != n):
            self.stem(name)

    def stem(self, name: str) -> str:
        with self._lock:
            found = self._stems.get(name)
            if found is None:
                found = base = safe_name(name, tail=self._tail)
                if found.lower() in self._taken:
                    found = base = f"{base}-{_digest(name)}"
                n = 1
                while found.lower() in self._taken:  # a hash collision: practically never
                    n += 1
                    found = f"{base}-{n}"
                self._taken.add(found.lower())
                self._stems[name] = found
            return found

    def paths(self, folder: Path, name: str, *suffixes: str) -> tuple[Path, ...]:
        """`folder/<stem><suffix>` for each suffix (never `with_suffix`: names hold dots)."""
        base = str(folder / self.stem(name))
        return tuple(Path(base + suffix) for suffix in suffixes)


def run_dir(workflow_name: str, run_id: str) -> Path:
    return log_root() / safe_name(workflow_name) / run_id


def fallback_log_root() -> Path:
    """Where runs' files go when the log root cannot be written (full, read-only, not a
    folder): the temp folder, at a place the Prefect hooks and the orphan sweep find again."""
    return Path(tempfile.gettempdir()) / f"flowport-{os.getuid()}" / "logs"


def fallback_run_dir(workflow_name: str, run_id: str) -> Path:
    return fallback_log_root() / safe_name(workflow_name) / run_id


def usable_run_dir(workflow_name: str, run_id: str) -> tuple[Path, str | None]:
    """The run's folder, created and writable; else the fallback. Returns (folder, why the
    log root was not used, or None)."""
    why = None
    for folder in (run_dir(workflow_name, run_id), fallback_run_dir(workflow_name, run_id)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-test"
            probe.write_text("")
            probe.unlink()
            return folder, why
        except OSError as exc:
            why = why or f"cannot write the run's log folder {folder}: {exc.strerror or exc}"
    raise OSError(why)


def existing_run_dir(workflow_name: str, run_id: str) -> Path:
    """The folder a run used (the log root's, or the fallback)."""
    fallback = fallback_run_dir(workflow_name, run_id)
    primary = run_dir(workflow_name, run_id)
    return fallback if not primary.exists() and fallback.exists() else primary


# claims that could not be written to disk: exactly once within this process at least
_MEMORY_CLAIMS: set[tuple[str, str]] = set()
_MEMORY_LOCK = threading.Lock()


def claim(folder: Path, what: str) -> bool:
    """True for the first caller only (across processes on this host; within this process
    only, with a warning, when the folder cannot be written)."""
    claims = folder / "claims"
    try:
        claims.mkdir(parents=True, exist_ok=True)
        fd = os.open(claims / safe_name(what), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        log.warning("flowport: cannot record the claim %s in %s (%s): exactly once within this process only",
                    what, claims, exc.strerror or exc)
        with _MEMORY_LOCK:
            key = (str(folder), what)
            if key in _MEMORY_CLAIMS:
                return False
            _MEMORY_CLAIMS.add(key)
            return True
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")
    return True


def claimed(folder: Path, what: str) -> bool:
    return (folder / "claims" / safe_name(what)).exists() or (str(folder), what) in _MEMORY_CLAIMS
