"""The test suite keeps to its own Prefect and flowport state (root conftest.py): nothing a
test does lands in the user's ~/.prefect (database, profiles) or ~/.flowport."""

from __future__ import annotations

import os
from pathlib import Path


def test_prefect_home_and_database_are_the_suites_own():
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    home = Path(settings.home).resolve()
    assert home != (Path.home() / ".prefect").resolve()
    assert home == Path(os.environ["PREFECT_HOME"]).resolve()
    url = settings.server.database.connection_url
    url = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
    assert str(home) in url  # the embedded server's SQLite file


def test_flowport_home_is_the_suites_own():
    home = Path(os.environ["FLOWPORT_HOME"]).resolve()
    assert home != (Path.home() / ".flowport").resolve()
    from flowport.adapter.server import server_dir

    assert server_dir().resolve().is_relative_to(home)
