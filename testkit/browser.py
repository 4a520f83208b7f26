"""Headless Chromium for tests of what a browser shows: a page's rendered text and a
screenshot, after its scripts ran (Chromium's virtual time budget lets a single-page app
fetch and render before the DOM is read). Only 127.0.0.1 pages; no network beyond."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")


def chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)


def artifacts_dir() -> Path:
    """Where tests keep screenshots: $FLOWPORT_TEST_ARTIFACTS, else test-artifacts/ in the clone."""
    folder = Path(os.environ.get("FLOWPORT_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chromium(url: str, *args: str, budget_ms: int) -> subprocess.CompletedProcess:
    exe = chromium()
    if exe is None:
        raise RuntimeError("no chromium on PATH")
    with tempfile.TemporaryDirectory(prefix="flowport-chromium-") as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
                               *args, url], capture_output=True, text=True, timeout=120)


def page_text(url: str, budget_ms: int = 20000) -> str:
    """The visible text of the rendered page, whitespace collapsed."""
    dom = _chromium(url, "--dump-dom", budget_ms=budget_ms).stdout
    dom = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()


def page_text_with(url: str, needles: list[str], budgets_ms: tuple[int, ...] = (20000, 40000, 80000)) -> str:
    """`page_text`, read again with a longer budget while a needle is missing: a loaded
    machine may not have rendered a single-page app yet (its first text is only the title)."""
    text = ""
    for budget in budgets_ms:
        text = page_text(url, budget_ms=budget)
        if all(n in text for n in needles):
            break
    return text


def screenshot(url: str, path: Path, budget_ms: int = 20000) -> Path:
    _chromium(url, f"--screenshot={path}", budget_ms=budget_ms)
    return path
