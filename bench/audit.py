"""`flowport audit` on an estate of generated workflows, against validating each file.

    python bench/audit.py [--files 1000] [--reps 3] [--templates 0]

Generates `--files` workflows (half Dagu DAGs of 5-20 steps in V1/V2/V3 forms, half Argo
Workflows with steps or DAG templates; one in ten needs an unsupported feature, one in
twenty is invalid; with `--templates N`, N of the Argo files are WorkflowTemplates and one
Argo workflow in five runs one of them) and times, over `--reps` runs (min/median/max wall seconds), both
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


def template(i: int) -> str:
    return "\n".join(["apiVersion: argoproj.io/v1alpha1", "kind: WorkflowTemplate", f"metadata: {{name: shared-{i}}}",
                      "spec:", "  entrypoint: main", "  templates:", "    - name: main",
                      "      container: {image: alpine, command: [echo, hi]}"]) + "\n"


def uses_template(i: int, templates: int) -> str:
    return "\n".join(["apiVersion: argoproj.io/v1alpha1", "kind: Workflow", f"metadata: {{generateName: ref-{i}-}}",
                      "spec:", f"  workflowTemplateRef: {{name: shared-{i % templates}}}"]) + "\n"


def estate(root: Path, files: int, templates: int = 0) -> list[Path]:
    """`templates` of the files are WorkflowTemplates, and one Argo workflow in five runs one
    of them by workflowTemplateRef: each Argo file is checked against all of them."""
    rng = random.Random(7)
    paths = []
    for i in range(files):
        path = root / ("dagu" if i % 2 else "argo") / f"w{i}.yaml"
        if i < templates * 2 and not i % 2:
            text = template(i // 2)
        elif templates and not i % 2 and i % 10 == 4:
            text = uses_template(i, templates)
        else:
            text = dagu(i, rng) if i % 2 else argo(i, rng)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
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
    ap.add_argument("--templates", type=int, default=0, help="WorkflowTemplates among the files (≤ files/2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = estate(Path(tmp), args.files, args.templates)
        audit = spread(f"audit of {args.files} files", [wall([*CLI, "audit", tmp, "--json"]) for _ in range(args.reps)])
        sample = paths[:: max(1, len(paths) // args.sample)][: args.sample]
        # the baselines are told where the WorkflowTemplates are, as the audit finds them itself
        validate = [*CLI, *(["--templates", str(Path(tmp, "argo"))] if args.templates else []), "validate"]
        per_file = [sum(wall([*validate, str(p)]) for p in sample) / len(sample) for _ in range(args.reps)]
        each = spread(f"validate each file ({len(sample)} sampled, ×{args.files / len(sample):g})",
                      [p * args.files for p in per_file])
        one_process = spread(f"validate all in one process", [wall([*validate, *map(str, paths)])
                                                              for _ in range(args.reps)])
        print(f"audit / validate-in-one-process: {audit / one_process:.2f}")
    print(f"ratio: {audit / each:.3f}")


if __name__ == "__main__":
    main()
