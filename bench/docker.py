"""Container steps: flowport against `docker run --rm` in a shell loop and against the raw
docker-py create/start/wait/remove path, all measured in this run on this Docker Engine.

    python bench/docker.py [--steps 30] [--reps 3] [--image busybox]

"runner only" calls flowport's container runner directly (no Prefect), which splits
flowport's overhead into the runner's and the Prefect task run's.

Sequential: a 30-step chain of one-shot `echo` containers; parallel: the same 30 steps with
no dependencies (`type: graph`). flowport runs against PREFECT_API_URL or Prefect's embedded
server started here (its start-up is not timed). Reported: median wall times, the ratios,
and flowport's per-step overhead over raw docker-py. The last line is
`ratio: <flowport/CLI, sequential>`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# This file is named like the docker package it benchmarks: keep its folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

import docker  # noqa: E402

from flowport.adapter import prefect_api, run  # noqa: E402
from flowport.translators import load  # noqa: E402


def dag_text(n: int, image: str, parallel: bool) -> str:
    steps = "\n".join(f"  - name: s{i}\n    container: {{image: {image}}}\n    command: echo {i}" for i in range(n))
    return f"name: docker-bench\ntype: {'graph' if parallel else 'chain'}\nsteps:\n{steps}\n"


def cli_loop(n: int, image: str, parallel: bool) -> None:
    if parallel:
        script = f"seq {n} | xargs -P {n} -I{{}} docker run --rm {image} echo {{}} > /dev/null"
    else:
        script = f"for i in $(seq {n}); do docker run --rm {image} echo $i > /dev/null; done"
    subprocess.run(["sh", "-c", script], check=True)


def raw_docker_py(n: int, image: str, parallel: bool) -> None:
    api = docker.from_env(max_pool_size=max(10, n)).api  # as many connections as flowport may use

    def one(i: int) -> None:
        cid = api.create_container(image, command=["echo", str(i)])["Id"]
        api.start(cid)
        api.wait(cid)
        api.logs(cid)
        api.remove_container(cid)

    _call_each(one, n, parallel)


def runner_only(n: int, image: str, parallel: bool) -> None:
    """flowport's container runner without Prefect: what the runner itself costs."""
    import io

    from flowport.adapter.runners.docker import run_container
    from flowport.model import Container

    def one(i: int) -> None:
        result = run_container(Container(image=image, cmd=("echo", str(i))), env={}, sink=lambda s, l: None,
                               stop=None, labels={"bench": "flowport"}, host_dir=".",
                               stdout_file=io.StringIO(), stderr_file=io.StringIO())
        if not result.ok:
            raise SystemExit(f"runner failed: {result.error}")

    _call_each(one, n, parallel)


def _call_each(one, n: int, parallel: bool) -> None:
    """one(0) … one(n-1), one after the other or all at once."""
    if parallel:
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(one, range(n)))
    else:
        for i in range(n):
            one(i)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--image", default="busybox")
    args = ap.parse_args()
    n = args.steps
    tmp = Path(tempfile.mkdtemp(prefix="flowport-bench-"))
    os.environ.setdefault("FLOWPORT_LOG_DIR", str(tmp / "logs"))
    workflows = {}
    for parallel in (False, True):
        path = tmp / f"{'parallel' if parallel else 'sequential'}.yaml"
        path.write_text(dag_text(n, args.image, parallel))
        workflows[parallel] = load(path)

    def flowport_run(parallel: bool) -> None:
        report = run(workflows[parallel])
        if report.status != "succeeded":
            raise SystemExit(f"flowport run failed: {report.status} {report.message}")

    results: dict[tuple[str, bool], list[float]] = {}
    with prefect_api():
        flowport_run(False)  # warm-up: image presence cache, Prefect client, first flow run
        for _ in range(args.reps):  # interleaved, so drift hits every variant alike
            for parallel in (False, True):
                for label, fn in (("flowport", flowport_run), ("docker run CLI", lambda p: cli_loop(n, args.image, p)),
                                  ("raw docker-py", lambda p: raw_docker_py(n, args.image, p)),
                                  ("runner only", lambda p: runner_only(n, args.image, p))):
                    results.setdefault((label, parallel), []).append(timed(lambda: fn(parallel)))

    med = {key: statistics.median(times) for key, times in results.items()}
    for parallel in (False, True):
        mode = f"{n} {'parallel' if parallel else 'sequential'}"
        fp, cli, raw = med[("flowport", parallel)], med[("docker run CLI", parallel)], med[("raw docker-py", parallel)]
        print(f"{mode}: flowport {fp:.2f}s  docker run CLI {cli:.2f}s  raw docker-py {raw:.2f}s  "
              f"flowport/CLI {fp / cli:.3f}  flowport/raw {fp / raw:.3f}")
    fp, raw, runner = med[("flowport", False)], med[("raw docker-py", False)], med[("runner only", False)]
    print(f"per-step overhead over raw docker-py (sequential): {(fp - raw) / n * 1000:.1f} ms "
          f"({(fp - raw) / raw * 100:.1f}%), of which the container runner "
          f"{(runner - raw) / n * 1000:.1f} ms ({(runner - raw) / raw * 100:.1f}%) and the Prefect task run "
          f"{(fp - runner) / n * 1000:.1f} ms")
    print(f"ratio: {med[('flowport', False)] / med[('docker run CLI', False)]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
