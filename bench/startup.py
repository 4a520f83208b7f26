"""How soon `flowport run` starts its flow run: the first run (no server yet: flowport starts
the local server that stays), the second run (the local server is up), and a run against
an external server (`prefect server start` on 127.0.0.1, PREFECT_HOME of its own).

    python bench/startup.py [--reps 3]

Each timing is from the command's start to Prefect's "Beginning flow run" line on its output
(the command's whole wall time is printed beside it). Each first run uses a fresh
FLOWPORT_HOME (a new user's machine: the server creates its database). The second-run and
external-server timings alternate (and which goes first alternates), so both see the same load. Reported: min/median/max per
kind; the last line is `ratio: <second run / external server run>` (medians; goal ≤ 1.2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent))  # testkit/, which prefect_services uses

from prefect_services import PrefectServer  # noqa: E402

EXAMPLE = HERE.parent / "src" / "flowport" / "examples" / "etl.yaml"
BEGINNING = "Beginning flow run"


def clean_env(tmp: Path, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(FLOWPORT_HOME=str(home), PREFECT_HOME=str(tmp / "client"), FLOWPORT_LOG_DIR=str(tmp / "logs"),
               PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="INFO", DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env


def timed_run(env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the flow run's start, seconds of the whole command)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "run", str(EXAMPLE), "--logs"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    began = None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if began is None and BEGINNING in line:
            began = time.perf_counter() - start
    proc.wait()
    total = time.perf_counter() - start
    if proc.returncode != 0 or began is None:
        raise SystemExit(f"flowport run failed ({proc.returncode}):\n{''.join(lines[-30:])}")
    return began, total


def server(home: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flowport.cli", "server", *args], env=env, capture_output=True,
                   timeout=120)


def spread(label: str, runs: list[tuple[float, float]]) -> float:
    starts, totals = [r[0] for r in runs], [r[1] for r in runs]
    median = statistics.median(starts)
    print(f"{label:<22} flow run starts after min {min(starts):.2f}s  median {median:.2f}s  max {max(starts):.2f}s"
          f"   (whole command: median {statistics.median(totals):.2f}s)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowport-bench-startup-") as tmp_name:
        tmp = Path(tmp_name)
        first: list[tuple[float, float]] = []
        for rep in range(args.reps):  # a new user's machine each time
            home = tmp / f"first-{rep}"
            env = clean_env(tmp, home)
            try:
                first.append(timed_run(env))
            finally:
                server(home, env, "stop")
        home = tmp / "staying"
        local_env = clean_env(tmp, home)
        external = PrefectServer(tmp / "external")
        second: list[tuple[float, float]] = []
        against_external: list[tuple[float, float]] = []
        try:
            timed_run(local_env)  # starts the local server
            external.start()
            external_env = clean_env(tmp, tmp / "unused", PREFECT_API_URL=external.url)
            timed_run(external_env)  # warm-up: the external server's first flow run creates the flow
            for rep in range(args.reps):  # alternating, and which goes first alternates too
                pair = [(second, local_env), (against_external, external_env)]
                for results, env in pair if rep % 2 == 0 else reversed(pair):
                    results.append(timed_run(env))
        finally:
            server(home, local_env, "stop")
            external.stop()
    spread("first run", first)
    s = spread("second run", second)
    e = spread("external server run", against_external)
    print(f"ratio: {s / e:.3f}")


if __name__ == "__main__":
    main()
