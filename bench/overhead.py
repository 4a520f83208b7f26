"""flowport's per-step overhead against a hand-written Prefect flow doing the same work.

    python bench/overhead.py [--reps 7] [--chain 200] [--short 20] [--fanout 100]

Every variant runs in this process against the same Prefect server (PREFECT_API_URL, or the
server flowport starts for a run, with its settings): one Prefect task run per step, each
running `sh -c 'echo step N'` and logging its output line to the task log. Repetitions are
interleaved, so drift on a shared machine hits every variant alike.

Reported, each with min/median/max and the spread (max ÷ min, the figure a user feels):
  * the 200-step chain for flowport and for the hand-written flow;
  * the per-step cost, the slope between the short and the long chain, which leaves out
    what a run costs once (flow run, report); broken down into fork/exec (a bare
    `subprocess.run` loop), logging the line, the Prefect task run, and what flowport adds;
  * the 100-wide fan-out; `flowport validate` of a 5,000-step DAG; peak Python memory.
The second-to-last line is `per-step ratio: <flowport per step / bare subprocess.run per
step>`; the last is `ratio: <flowport / hand-written>`, medians of the chain.
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
os.environ.setdefault("DO_NOT_TRACK", "1")
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


@task(cache_policy=NO_CACHE, persist_result=False)
def silent_step(command: str) -> int:
    """The same step without logging its line: the difference is what logging costs."""
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"exit {done.returncode}")
    return done.returncode


@flow(task_runner=ThreadPoolTaskRunner(), persist_result=False)
def hand_chain(n: int) -> None:
    for i in range(n):
        shell_step.with_options(name=f"s{i}")(f"echo step {i}")


@flow(task_runner=ThreadPoolTaskRunner(), persist_result=False)
def hand_chain_silent(n: int) -> None:
    for i in range(n):
        silent_step.with_options(name=f"s{i}")(f"echo step {i}")


def bare_chain(n: int) -> None:
    """fork/exec alone: the floor every variant stands on."""
    for i in range(n):
        subprocess.run(["sh", "-c", f"echo step {i}"], capture_output=True, text=True)


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


def spread_line(label: str, times: list[float]) -> str:
    return (f"{label:<22} min {min(times):6.2f}s  median {statistics.median(times):6.2f}s  "
            f"max {max(times):6.2f}s  spread {max(times) / min(times):5.2f}   runs {' '.join(f'{t:.2f}' for t in times)}")


def measure(variants: dict[str, object], reps: int) -> dict[str, list[float]]:
    """Each variant `reps` times, interleaved, after one warm-up of each (imports, caches)."""
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            times[name].append(timed(fn))
    return times


def per_step_ms(long: list[float], short: list[float], steps: int) -> float:
    """The slope between the two chain lengths: the cost of one more step, in ms."""
    return (statistics.median(long) - statistics.median(short)) / steps * 1000


def bench_chain(flowport_long, flowport_short, n: int, short: int, reps: int) -> tuple[float, float]:
    """Prints the chain's spreads and the per-step breakdown; returns (chain ratio, per-step ratio)."""
    times = measure({
        "flowport": flowport_long, "hand-written": lambda: hand_chain(n),
        "flowport short": flowport_short, "hand-written short": lambda: hand_chain(short),
        "silent": lambda: hand_chain_silent(n), "silent short": lambda: hand_chain_silent(short),
        "bare": lambda: bare_chain(n), "bare short": lambda: bare_chain(short),
    }, reps)
    print(f"{n}-step chain, {reps} runs each:")
    for name in ("flowport", "hand-written"):
        print("  " + spread_line(name, times[name]))
    step = {name: per_step_ms(times[name], times[f"{name} short"], n - short)
            for name in ("flowport", "hand-written", "silent", "bare")}
    print(f"one shell step ({n} vs {short} steps, medians):")
    print(f"  fork/exec of sh (bare subprocess.run)   {step['bare']:6.2f} ms")
    print(f"  Prefect task run around it              {step['silent'] - step['bare']:6.2f} ms")
    print(f"  logging its line to the task log        {step['hand-written'] - step['silent']:6.2f} ms")
    print(f"  = hand-written Prefect step             {step['hand-written']:6.2f} ms")
    print(f"  flowport on top of that                 {step['flowport'] - step['hand-written']:6.2f} ms")
    print(f"  = flowport step                         {step['flowport']:6.2f} ms")
    mem_f, mem_h = peak_memory(flowport_long), peak_memory(lambda: hand_chain(n))
    print(f"  peak Python memory of one run: flowport {mem_f:.1f} MB, hand-written {mem_h:.1f} MB")
    chain_ratio = statistics.median(times["flowport"]) / statistics.median(times["hand-written"])
    return chain_ratio, step["flowport"] / step["bare"]


def bench_fanout(flowport_fn, n: int, reps: int) -> float:
    times = measure({"flowport": flowport_fn, "hand-written": lambda: hand_fanout(n)}, reps)
    print(f"{n}-wide fan-out, {reps} runs each:")
    for name in ("flowport", "hand-written"):
        print("  " + spread_line(name, times[name]))
    return statistics.median(times["flowport"]) / statistics.median(times["hand-written"])


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
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--chain", type=int, default=200)
    ap.add_argument("--short", type=int, default=20)
    ap.add_argument("--fanout", type=int, default=100)
    args = ap.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("FLOWPORT_LOG_DIR", str(tmp / "logs"))
        files = {"chain": (args.chain, True), "short": (args.short, True), "fanout": (args.fanout, False)}
        workflows = {}
        for key, (n, chain) in files.items():
            (tmp / f"{key}.yaml").write_text(dag_text(n, chain=chain))
            workflows[key] = load(tmp / f"{key}.yaml")
        bench_validate(tmp)
        with prefect_api():
            fan_ratio = bench_fanout(lambda: run(workflows["fanout"]), args.fanout, args.reps)
            chain_ratio, step_ratio = bench_chain(lambda: run(workflows["chain"]), lambda: run(workflows["short"]),
                                                  args.chain, args.short, args.reps)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"fan-out ratio: {fan_ratio:.3f}")
    print(f"per-step ratio: {step_ratio:.3f}")
    print(f"ratio: {chain_ratio:.3f}")


if __name__ == "__main__":
    main()
