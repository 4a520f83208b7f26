"""How `validate`, `plan`, `plan --json` and translation scale with the number of steps.

    python bench/scaling.py [--sizes 1000,5000,50000] [--reps 3]

Each command runs in its own process on a generated Dagu chain (step N depends on N-1) and
is timed over `--reps` runs (min/median/max wall seconds, peak RSS from the child's rusage).
`translate` is `flowport.translators.load` alone (no CLI), the baseline the others build on.
Linear means the per-step time stays flat from the smallest to the largest size. The last
line is `ratio: <plan seconds / validate seconds at the largest size>` (both linear: the
ratio stays the same at every size).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

COMMANDS = {
    "translate": [sys.executable, "-c", "import sys; from flowport.translators import load; load(sys.argv[1])"],
    "validate": [sys.executable, "-m", "flowport.cli", "validate"],
    "plan": [sys.executable, "-m", "flowport.cli", "plan"],
    "plan --json": [sys.executable, "-m", "flowport.cli", "plan", "--json"],
}


def chain(path: Path, steps: int) -> Path:
    with path.open("w") as f:
        f.write(f"name: chain-{steps}\nsteps:\n")
        for i in range(steps):
            f.write(f"  - name: s{i}\n    command: echo {i}\n")
            if i:
                f.write(f"    depends: [s{i - 1}]\n")
    return path


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr[-500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024  # ru_maxrss: the largest child so far, in KB


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,50000")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    medians: dict[tuple[str, int], float] = {}
    print(f"{'command':12} {'steps':>7} {'min s':>7} {'median s':>9} {'max s':>7} {'spread':>7} "
          f"{'µs/step':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for steps in sizes:
            path = chain(Path(tmp) / f"chain{steps}.yaml", steps)
            for name, argv in COMMANDS.items():
                # a fresh process per size and command: ru_maxrss is the max over children,
                # so memory is measured in its own child first
                peak = float(subprocess.run(
                    [sys.executable, "-c", "import resource, subprocess, sys;"
                     "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
                     "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)",
                     *argv, str(path)], capture_output=True, text=True).stdout.strip() or 0)
                walls = [timed([*argv, str(path)])[0] for _ in range(args.reps)]
                med = statistics.median(walls)
                medians[(name, steps)] = med
                print(f"{name:12} {steps:7d} {min(walls):7.2f} {med:9.2f} {max(walls):7.2f} "
                      f"{max(walls) / min(walls):7.2f} {med / steps * 1e6:8.0f} {peak:8.0f}", flush=True)
    top = sizes[-1]
    print(f"ratio: {medians[('plan', top)] / medians[('validate', top)]:.2f}")


if __name__ == "__main__":
    main()
