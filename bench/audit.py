"""`flowport audit` on an estate of generated workflows, against validating each file.

    python bench/audit.py [--files 1000] [--reps 3]

Generates `--files` workflows (half Dagu DAGs of 5-20 steps in V1/V2/V3 forms, half Argo
Workflows with steps or DAG templates; one in ten needs an unsupported feature, one in
twenty is invalid) and times, over `--reps` runs (min/median/max wall seconds), both
`flowport audit DIR --json` and the baseline a team would run without it: `flowport validate`
of every file, one process per file, on a sample of 50 files scaled to the estate. The last
line is `ratio: <audit seconds / validate-each-file seconds>` (goal ≤ 0.5).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

CLI = [sys.executable, "-m", "flowport.cli"]


def dagu(i: int, rng: random.Random) -> str:
    steps = rng.randint(5, 20)
    form = i % 3
    lines = [f"name: dag-{i}", "steps:"]
    for s in range(steps):
        if form == 2:  # V3: `run:` steps
            lines += [f"  - id: s{s}", f"    run: echo {s}"] + ([f"    depends: [s{s - 1}]"] if s else [])
        else:
            key = "retryPolicy" if form == 0 else "retry_policy"
            lines += [f"  - name: s{s}", f"    command: echo {s}"] + ([f"    depends: [s{s - 1}]"] if s else [])
            if s % 4 == 0:
                lines += [f"    {key}: {{limit: 2}}"]
    if i % 10 == 5:
        lines += ["  - name: remote", "    executor: {type: ssh, config: {user: me, ip: 10.0.0.1}}", "    command: ls"]
    if i % 20 == 7:
        lines += ["  - name: broken", "    command: echo x", "    depends: [missing]"]
    return "\n".join(lines) + "\n"


def argo(i: int, rng: random.Random) -> str:
    n = rng.randint(3, 12)
    head = ["apiVersion: argoproj.io/v1alpha1", "kind: Workflow", f"metadata: {{generateName: wf-{i}-}}", "spec:",
            "  entrypoint: main", "  templates:"]
    if i % 2:
        body = ["    - name: main", "      dag:", "        tasks:"]
        for t in range(n):
            body += [f"          - name: t{t}", "            template: echo"] + (
                [f"            depends: t{t - 1}"] if t else [])
    else:
        body = ["    - name: main", "      steps:"] + [f"        - - {{name: s{t}, template: echo}}" for t in range(n)]
    body += ["    - name: echo", "      container: {image: alpine, command: [echo, hi]}"]
    if i % 10 == 3:
        body += ["      daemon: true"]
    if i % 20 == 11:
        body += ["    - name: echo"]  # a second template of one name
    return "\n".join(head + body) + "\n"


def estate(root: Path, files: int) -> list[Path]:
    rng = random.Random(7)
    paths = []
    for i in range(files):
        path = root / ("dagu" if i % 2 else "argo") / f"w{i}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dagu(i, rng) if i % 2 else argo(i, rng))
        paths.append(path)
    return paths


def wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def spread(name: str, walls: list[float]) -> float:
    med = statistics.median(walls)
    print(f"{name:28} min {min(walls):7.2f} s  median {med:7.2f} s  max {max(walls):7.2f} s  "
          f"spread {max(walls) / min(walls):.2f}")
    return med


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sample", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = estate(Path(tmp), args.files)
        audit = spread(f"audit of {args.files} files", [wall([*CLI, "audit", tmp, "--json"]) for _ in range(args.reps)])
        sample = paths[:: max(1, len(paths) // args.sample)][: args.sample]
        per_file = [sum(wall([*CLI, "validate", str(p)]) for p in sample) / len(sample) for _ in range(args.reps)]
        each = spread(f"validate each file ({len(sample)} sampled, ×{args.files / len(sample):g})",
                      [p * args.files for p in per_file])
        one_process = spread(f"validate all in one process", [wall([*CLI, "validate", *map(str, paths)])
                                                              for _ in range(args.reps)])
        print(f"audit / validate-in-one-process: {audit / one_process:.2f}")
    print(f"ratio: {audit / each:.3f}")


if __name__ == "__main__":
    main()
