"""Argo import benchmarks, measured in this run on this machine.

    python bench/argo.py [--tasks 5000] [--width 48] [--reps 3] [--image busybox]

1. Translation: a generated DAG of 1,250 / 2,500 / 5,000 tasks (each task `depends` on two
   earlier ones) through `flowport validate`'s code path (YAML with positions, all checks);
   goal < 1 s for 5,000 tasks and linear in size.
2. Running: a diamond of container tasks (1 → `width` in parallel → 1; 50 tasks by default)
   run by flowport from Argo YAML, against the same containers (same image and arguments,
   started and removed through docker-py) run by a hand-written Prefect flow with the
   same shape. Both against one Prefect server (PREFECT_API_URL, or the embedded one started
   here; its start-up is not timed); medians of `--reps` alternating runs.

The last line is `ratio: <flowport/hand-written>` (goal ≤ 1.1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/docker.py would shadow the docker package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

from flowport.translators import check  # noqa: E402

HEAD = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: bench-
spec:
  entrypoint: main
  templates:
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: IMAGE, command: [echo], args: ["{{inputs.parameters.m}}"]}
  - name: main
    dag:
      tasks:
"""


def big_dag(n: int) -> str:
    lines = [HEAD.replace("IMAGE", "busybox")]
    for i in range(n):
        dep = ""
        if i:
            a, b = i - 1, i // 2
            dep = f', depends: "t{a} && t{b}"' if a != b else f', depends: "t{a}"'
        lines.append(f"      - {{name: t{i}, template: echo, arguments: {{parameters: [{{name: m, value: '{i}'}}]}}{dep}}}\n")
    return "".join(lines)


def diamond(width: int, image: str) -> str:
    lines = [HEAD.replace("IMAGE", image)]
    lines.append("      - {name: top, template: echo, arguments: {parameters: [{name: m, value: top}]}}\n")
    for i in range(width):
        lines.append(f"      - {{name: m{i}, template: echo, depends: top, arguments: {{parameters: [{{name: m, value: '{i}'}}]}}}}\n")
    deps = " && ".join(f"m{i}" for i in range(width))
    lines.append(f"      - {{name: bottom, template: echo, depends: \"{deps}\", arguments: {{parameters: [{{name: m, value: bottom}}]}}}}\n")
    return "".join(lines)


def bench_translate(sizes: list[int], folder: Path) -> dict[int, float]:
    times = {}
    for n in sizes:
        path = folder / f"dag{n}.yaml"
        path.write_text(big_dag(n))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            r = check(path)
            best = min(best, time.perf_counter() - start)
            assert r.ok, r.error().render()[:2000]
        times[n] = best
        print(f"translate {n:>5} tasks: {best * 1000:7.0f} ms  ({best / n * 1e6:5.0f} µs/task)")
    return times


def handwritten_flow(width: int, image: str):
    """What a Prefect user would write by hand for the same diamond."""
    import docker
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    api = docker.from_env(max_pool_size=128).api

    @task(persist_result=False)
    def container(message: str) -> str:
        cid = api.create_container(image, command=["echo", message])["Id"]
        try:
            api.start(cid)
            code = api.wait(cid)["StatusCode"]
            out = api.logs(cid, stdout=True, stderr=False).decode()
        finally:
            api.remove_container(cid, force=True)
        if code != 0:
            raise RuntimeError(f"exit {code}")
        return out

    @flow(name="bench-handwritten", task_runner=ThreadPoolTaskRunner(max_workers=width + 2), persist_result=False)
    def diamond_flow() -> None:
        top = container.submit("top")
        middle = [container.submit(str(i), wait_for=[top]) for i in range(width)]
        container.submit("bottom", wait_for=middle).result()

    return diamond_flow


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--width", type=int, default=48, help="parallel middle of the diamond (total = width + 2)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--image", default="busybox")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="flowport-bench-argo-") as tmp:
        folder = Path(tmp)
        sizes = [args.tasks // 4, args.tasks // 2, args.tasks]
        times = bench_translate(sizes, folder)
        print(f"translation growth 2x tasks: ×{times[sizes[2]] / times[sizes[1]]:.2f} (linear = ×2)")

        from flowport.adapter import prefect_api, run

        path = folder / "diamond.yaml"
        path.write_text(diamond(args.width, args.image))
        r = check(path)
        assert r.ok, r.error().render()
        wf = r.workflow
        hand = handwritten_flow(args.width, args.image)
        ours, theirs = [], []
        with prefect_api():
            run(wf, [])  # warm-up: images, Prefect client, docker connections
            hand()
            for _ in range(args.reps):
                start = time.perf_counter()
                report = run(wf, [])
                ours.append(time.perf_counter() - start)
                assert report.status == "Succeeded", report.message
                start = time.perf_counter()
                hand()
                theirs.append(time.perf_counter() - start)
        a, b = statistics.median(ours), statistics.median(theirs)
        n = args.width + 2
        print(f"diamond of {n} container tasks: flowport {a:.2f} s, hand-written Prefect flow {b:.2f} s "
              f"(medians of {args.reps}; per task: {(a - b) / n * 1000:+.0f} ms)")
        print(f"ratio: {a / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
