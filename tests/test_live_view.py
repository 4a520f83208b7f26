"""The live view of `flowport run` in a terminal: redrawn in place, erased at the end, then the
summary; no old frame left on the screen. Checked on a pseudo-terminal whose output a
terminal emulator (pyte) replays into the final screen."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

pyte = pytest.importorskip("pyte")

COLUMNS, LINES = 110, 300  # tall: every line ever printed is still on the final screen

DAG = """\
name: live
steps:
  - name: first
    command: sleep 1
  - name: breaks
    command: exit 3
    depends: [first]
  - name: last
    command: sleep 1
    depends: [first]
handlerOn:
  exit:
    command: echo bye
"""


def _run_in_terminal(args: list[str], cwd, timeout: float = 120) -> str:
    controller, terminal = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)  # Prefect's own default, as a user has
    proc = subprocess.Popen(args, stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd, env=env,
                            close_fds=True)
    os.close(terminal)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process ended
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(controller)
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_live_view_leaves_no_stale_frame_above_the_summary(prefect_server, tmp_path):
    (tmp_path / "live.yaml").write_text(DAG)
    raw = _run_in_terminal([sys.executable, "-m", "flowport.cli", "run", "live.yaml"], cwd=tmp_path)
    screen = pyte.Screen(COLUMNS, LINES)
    pyte.Stream(screen).feed(raw)  # the terminal (ONLCR) already sent \r\n
    lines = [line.rstrip() for line in screen.display]
    text = "\n".join(lines)
    assert "live — " not in text, text  # the live table's title: erased with every frame
    assert "starting Prefect flow run" not in text, text
    summary = [i for i, line in enumerate(lines) if "live: failed" in line]
    assert len(summary) == 1, text  # the summary table, once
    assert any("breaks" in line and "failed" in line for line in lines[summary[0]:]), text
    assert "Task run failed" in text or "exit status 3" in text  # the logs printed above, not lost
