"""flowport's per-step overhead against a hand-written Prefect flow doing the same work.

    python bench/overhead.py [--reps 5] [--chain 200] [--fanout 100]

Both variants run in this process against the same Prefect server (PREFECT_API_URL, or
Prefect's embedded server started here): one Prefect task run per step, each running
`sh -c 'echo step N'` and logging its output line to the task log. Reported: median wall
time of each, the ratio, and peak Python memory (tracemalloc, measured in a separate pass
so it does not distort the timings). Also times `flowport validate` on a generated
5,000-step DAG. The last line is `ratio: <flowport / hand-written>` for the chain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from flowport.adapter import prefect_api, run  # noqa: E402
from flowport.translators import load  # noqa: E402


# ------------------------------------------------------------------ the hand-written baseline


@task(cache_policy=NO_CACHE, persist_result=False)
def shell_step(command: str) -> int:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    logger = get_run_logger()
    for line in done.stdout.splitlines():
        logger.info(line)
    if done.returncode:
        raise RuntimeError(f"exit {done.returncode}")
    return done.returncode


@flow(task_runner=ThreadPoolTaskRunner(), persist_result=False)
def hand_chain(n: int) -> None:
    for i in range(n):
        shell_step.with_options(name=f"s{i}")(f"echo step {i}")


@flow(task_runner=ThreadPoolTaskRunner(), persist_result=False)
def hand_fanout(n: int) -> None:
    futures = [shell_step.with_options(name=f"s{i}").submit(f"echo step {i}") for i in range(n)]
    for f in futures:
        f.wait()


# ------------------------------------------------------------------ flowport


def dag_text(n: int, *, chain: bool) -> str:
    lines = [f"name: bench-{'chain' if chain else 'fanout'}", f"type: {'chain' if chain else 'graph'}", "steps:"]
    for i in range(n):
        lines.append(f"  - name: s{i}\n    command: echo step {i}")
    return "\n".join(lines) + "\n"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_memory(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def compare(label: str, flowport_fn, hand_fn, reps: int) -> float:
    flowport_fn(), hand_fn()  # warm-up: imports, first task runs, server caches
    fp, hw = [], []
    for _ in range(reps):  # interleaved, so drift hits both alike
        fp.append(timed(flowport_fn))
        hw.append(timed(hand_fn))
    f, h = statistics.median(fp), statistics.median(hw)
    mem_f, mem_h = peak_memory(flowport_fn), peak_memory(hand_fn)
    print(f"{label}: runs flowport {' '.join(f'{x:.2f}' for x in fp)} | hand-written {' '.join(f'{x:.2f}' for x in hw)}")
    print(f"{label}: median flowport {f:.2f}s  hand-written {h:.2f}s  ratio {f / h:.3f}  "
          f"peak memory flowport {mem_f:.1f} MB, hand-written {mem_h:.1f} MB")
    # On a shared machine single runs swing widely; the fastest of each is the least disturbed.
    print(f"{label}: fastest flowport {min(fp):.2f}s  hand-written {min(hw):.2f}s  "
          f"ratio {min(fp) / min(hw):.3f}")
    return f / h


def bench_validate(tmp: Path) -> None:
    big = tmp / "big.yaml"
    lines = ["name: big", "type: graph", "steps:"]
    for i in range(5000):
        deps = f"s{i - 1}" if i else ""
        lines.append(f"  - name: s{i}\n    command: echo {i}\n    depends: [{deps}]")
    big.write_text("\n".join(lines) + "\n")
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "flowport.cli", "validate", str(big)], capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
    start = time.perf_counter()
    wf = load(big)
    in_process = time.perf_counter() - start
    print(f"validate 5,000 steps: CLI {statistics.median(runs):.2f}s (process start included), "
          f"load+translate in process {in_process:.2f}s ({len(wf.steps)} steps)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--chain", type=int, default=200)
    ap.add_argument("--fanout", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("FLOWPORT_LOG_DIR", str(tmp / "logs"))
        chain_file, fan_file = tmp / "chain.yaml", tmp / "fanout.yaml"
        chain_file.write_text(dag_text(args.chain, chain=True))
        fan_file.write_text(dag_text(args.fanout, chain=False))
        chain_wf, fan_wf = load(chain_file), load(fan_file)
        bench_validate(tmp)
        with prefect_api():
            fan_ratio = compare(f"{args.fanout}-wide fan-out", lambda: run(fan_wf), lambda: hand_fanout(args.fanout), args.reps)
            chain_ratio = compare(f"{args.chain}-step chain", lambda: run(chain_wf), lambda: hand_chain(args.chain), args.reps)
    print(f"fan-out ratio: {fan_ratio:.3f}")
    print(f"ratio: {chain_ratio:.3f}")


if __name__ == "__main__":
    main()
