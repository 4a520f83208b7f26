"""The run-to-run swing of one Prefect flow, on Prefect's server as it ships and on the server
flowport starts (adapter/server_app.py: batched event recording, lock-contention 503s
retried inside the server). See docs/performance.md, section 1.

    python bench/swing.py [--reps 7] [--chain 200]

The same hand-written flow (a chain of `--chain` task runs, each `sh -c 'echo …'` with its
line logged) runs `--reps` times against each server, one server at a time, each with a
PREFECT_HOME of its own and in a process of its own (Prefect's client keeps one events
worker per process, bound to the first server it met). Every run is split into the time before the flow's first line (flow
run creation: where the 503 back-offs land), the body, and the time after its last line.
Reported per server: min/median/max and spread (max ÷ min) of the whole run and of the part
before the body. The last line is `ratio: <median on flowport's server / median on
Prefect's>`; the spreads are the figure the change is about.
"""

from __future__ import annotations

import argparse
import json
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

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: E402

from flowport.adapter.server import embedded_server  # noqa: E402
from prefect_services import PrefectServer  # noqa: E402

marks: dict[str, float] = {}


@task(cache_policy=NO_CACHE, persist_result=False)
def shell_step(command: str) -> None:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    get_run_logger().info(done.stdout.strip())


@flow(persist_result=False)
def chain(n: int) -> None:
    marks["body"] = time.perf_counter()
    for i in range(n):
        shell_step.with_options(name=f"s{i}")(f"echo step {i}")
    marks["after"] = time.perf_counter()


def measure_here(url: str, n: int, reps: int) -> None:
    """In the child process: print (whole run, time before the body) of each repetition, after
    one warm-up run, as JSON; every log and event reaches the server before it returns."""
    from flowport.adapter.server import flush_logs

    totals, before = [], []
    with temporary_settings({PREFECT_API_URL: url}):
        chain(n)
        for _ in range(reps):
            start = time.perf_counter()
            chain(n)
            totals.append(time.perf_counter() - start)
            before.append(marks["body"] - start)
        flush_logs()
    print(json.dumps([totals, before]))


def runs_against(url: str, n: int, reps: int) -> tuple[list[float], list[float]]:
    done = subprocess.run([sys.executable, __file__, "--measure", url, "--chain", str(n), "--reps", str(reps)],
                          capture_output=True, text=True, check=True)
    totals, before = json.loads(done.stdout.strip().splitlines()[-1])
    return totals, before


def line(label: str, times: list[float]) -> str:
    return (f"  {label:<18} min {min(times):6.2f}s  median {statistics.median(times):6.2f}s  "
            f"max {max(times):6.2f}s  spread {max(times) / max(min(times), 1e-3):6.2f}   "
            f"runs {' '.join(f'{t:.2f}' for t in times)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--chain", type=int, default=200)
    ap.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)  # the child's part
    args = ap.parse_args()
    if args.measure:
        measure_here(args.measure, args.chain, args.reps)
        return
    medians = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["PREFECT_HOME"] = str(tmp / "client")  # never the user's ~/.prefect
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
        prefect_server = PrefectServer(tmp / "prefect-default").start()
        try:
            totals, before = runs_against(prefect_server.url, args.chain, args.reps)
        finally:
            prefect_server.stop()
        print(f"{args.chain}-step chain on `prefect server start` (Prefect's defaults):")
        print(line("whole run", totals))
        print(line("before the body", before))
        medians["prefect"] = statistics.median(totals)

        os.environ.update(PREFECT_HOME=str(tmp / "flowport" / "prefect"), FLOWPORT_HOME=str(tmp / "flowport"))
        with embedded_server() as url:
            totals, before = runs_against(url, args.chain, args.reps)
        print(f"{args.chain}-step chain on the server flowport starts:")
        print(line("whole run", totals))
        print(line("before the body", before))
        medians["flowport"] = statistics.median(totals)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"ratio: {medians['flowport'] / medians['prefect']:.3f}")


if __name__ == "__main__":
    main()
