"""The audit's HTML page as a browser shows it: headless Chromium renders the page (its
script builds the totals, the feature bars and the file table from the embedded data) and
the rendered text is checked; the screenshot is kept in test-artifacts/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testkit.browser import artifacts_dir, chromium, page_text, screenshot

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.mark.skipif(chromium() is None, reason="no chromium: install Debian's chromium package")
def test_audit_page_renders_totals_features_and_files(tmp_path):
    if CORPUS.is_dir():
        root = CORPUS
    else:  # a clone without ../shared: a small estate of our own
        from tests.test_audit import estate

        root = estate(tmp_path / "estate")
    page = tmp_path / "audit.html"
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "audit", str(root), "--html", str(page), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import json

    data = json.loads(done.stdout)
    text = page_text(page.as_uri(), budget_ms=5000)
    totals = data["totals"]
    for number, label in ((totals["workflows"], "workflows"), (totals["runs as is"], "run as is"),
                          (totals["needs unsupported feature"], "need an unsupported feature")):
        assert f"{number} {label}" in text, text[:1500]
    for feature in data["features"][:3]:
        assert feature["feature"] in text
    first_needs = next(f for f in data["files"] if f["verdict"] == "needs unsupported feature")
    assert first_needs["file"] in text
    shot = screenshot(page.as_uri(), artifacts_dir() / "audit-page.png", budget_ms=5000)
    assert shot.stat().st_size > 10_000
