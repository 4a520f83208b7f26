"""An estate of Dagu and Argo workflows on one Prefect server: deploy, serve, run.

    python bench/estate.py [--workflows 1000] [--runs 200] [--workers 4] [--reps 3]
                           [--deploy-reps 3] [--no-sqlite] [--skip-deploy|serve|runs]

Generates --workflows files (half Dagu DAGs of three `echo` steps with a failure handler
and parameters, half Argo Workflows of a two-task DAG of `busybox` containers; one in ten of
each scheduled: a Dagu `schedule:` or an Argo CronWorkflow) and measures, against a real
`prefect server start` (PREFECT_HOME and, on PostgreSQL, a throwaway cluster of its own):

1. deploy: `flowport deploy <all files> --pool estate` as a user runs it (CLI start
   included), on PostgreSQL and on SQLite; --deploy-reps fresh estates (new names, so every
   flow, block and deployment is new; the server keeps the earlier ones, as a real one
   would), then as many re-deploys of the last, unchanged estate. Goal: under 60 s.
2. serve: `flowport serve <folder>` of a fresh estate: seconds until it serves every
   deployment, and its memory (VmRSS, VmHWM) then; a second start (already registered).
3. runs: --runs short runs (half a Dagu DAG of three `echo` steps, half an Argo DAG of two
   `busybox` containers) submitted at once through --workers `process` workers on the
   PostgreSQL server; flowport's deployments vs the same flows written as plain Prefect
   `@flow`/`@task` (bench/estate_plain/plain_flows.py: same task runs, same work). Runs per
   minute from the first run's scheduled time to the last one's end, --reps times,
   alternating which goes first. Without a Docker Engine both halves are Dagu.

Every figure is printed with the 1-minute load average at the time. Last line:
`ratio: <flowport runs/min ÷ plain Prefect runs/min>` (medians; goal ≥ 0.95). Not a test.
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
from typing import Any

HERE = Path(__file__).resolve().parent
PLAIN = HERE / "estate_plain"  # a folder of its own: bench/docker.py would shadow the docker SDK there
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # here too
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent))  # testkit/, which prefect_services uses

from prefect_services import Postgres, PrefectServer, postgres_bin, stop_group  # noqa: E402

DAGU = """\
name: {prefix}-dagu-{i:04d}
description: Estate workflow {i} (Dagu)
tags: [estate, team-{team}]
params: DATE=2026-01-01 REGION=eu-{team}
{schedule}steps:
  - name: extract
    command: echo "extract ${{DATE}} ${{REGION}}"
  - name: transform
    command: echo transform
    depends: [extract]
  - name: load
    command: echo load
    depends: [transform]
handlerOn:
  failure:
    command: echo "failed ${{DAG_NAME}}"
"""

ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: {kind}
metadata:
  name: {prefix}-argo-{i:04d}
  labels: {{team: team-{team}}}
spec:
{cron}  {spec_key}entrypoint: main
  {indent}arguments:
  {indent}  parameters: [{{name: msg, value: "hello {i}"}}]
  {indent}templates:
  {indent}  - name: main
  {indent}    dag:
  {indent}      tasks:
  {indent}        - {{name: a, template: say, arguments: {{parameters: [{{name: msg, value: "a {{{{workflow.parameters.msg}}}}"}}]}}}}
  {indent}        - {{name: b, template: say, depends: a, arguments: {{parameters: [{{name: msg, value: b}}]}}}}
  {indent}  - name: say
  {indent}    inputs: {{parameters: [{{name: msg}}]}}
  {indent}    container: {{image: busybox, command: [echo], args: ["{{{{inputs.parameters.msg}}}}"]}}
"""


def write_estate(folder: Path, count: int, prefix: str = "estate") -> list[Path]:
    """`count` workflow files in `folder`: even numbers Dagu, odd ones Argo."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        team = i % 7
        if i % 2 == 0:
            schedule = f'schedule: "{i % 60} 3 * * *"\n' if i % 10 == 0 else ""
            text = DAGU.format(prefix=prefix, i=i, team=team, schedule=schedule)
            path = folder / f"dagu-{i:04d}.yaml"
        else:
            cron = i % 10 == 1
            text = ARGO.format(
                prefix=prefix, i=i, team=team, kind="CronWorkflow" if cron else "Workflow",
                cron=f'  schedule: "{i % 60} 4 * * *"\n' if cron else "",
                spec_key="workflowSpec:\n    " if cron else "", indent="  " if cron else "")
            path = folder / f"argo-{i:04d}.yaml"
        path.write_text(text)
        files.append(path)
    return files


def database(pg: Postgres, name: str) -> str:
    """A new database of the cluster (each server starts on an empty one)."""
    env = {**os.environ, "PGPASSWORD": pg.password}
    subprocess.run([str(pg.bin / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", pg.user, name],
                   env=env, check=True, capture_output=True, timeout=60)
    return pg.url.rsplit("/", 1)[0] + "/" + name


def load() -> float:
    return os.getloadavg()[0]


def spread(label: str, values: list[float], unit: str, loads: list[float]) -> float:
    median = statistics.median(values)
    print(f"{label:<44} min {min(values):8.2f}  median {median:8.2f}  max {max(values):8.2f} {unit}"
          f"  (n={len(values)}; load {', '.join(f'{x:.1f}' for x in loads)})", flush=True)
    return median


# ------------------------------------------------------------------ deploy


def timed_deploy(server: PrefectServer, files: list[Path]) -> tuple[float, float]:
    start = time.perf_counter()
    done = server.flowport("deploy", *map(str, files), "--pool", "estate", timeout=1800)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"flowport deploy failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed, load()


def deploy_phase(tmp: Path, kind: str, database_url: str | None, count: int, reps: int) -> None:
    server = PrefectServer(tmp / f"deploy-{kind}", database_url=database_url)
    try:
        server.start()
        server.create_pool("estate")
        fresh, again = [], []
        for rep in range(reps):
            files = write_estate(tmp / f"estate-{kind}-{rep}", count, prefix=f"e{rep}")
            fresh.append(timed_deploy(server, files))
            print(f"  {kind}: deploy of {count} new workflows {fresh[-1][0]:.1f} s (load {fresh[-1][1]:.1f})", flush=True)
        for _ in range(reps):
            again.append(timed_deploy(server, files))
        spread(f"deploy {count} new ({kind})", [t for t, _ in fresh], "s", [x for _, x in fresh])
        spread(f"re-deploy {count} unchanged ({kind})", [t for t, _ in again], "s", [x for _, x in again])
    finally:
        server.stop()


# ------------------------------------------------------------------ serve


def memory_kib(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def timed_serve(server: PrefectServer, folder: Path, count: int, log: Path) -> tuple[float, dict[str, int], float]:
    """(seconds until `serve` serves every deployment, its memory then, load)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "serve", str(folder)], env=server.env(),
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while f"Serving {count} deployment(s)" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.perf_counter() - start > 1800:
                raise SystemExit(f"flowport serve did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        return elapsed, memory_kib(proc.pid), load()
    finally:
        stop_group(proc)


def serve_phase(tmp: Path, server: PrefectServer, count: int) -> None:
    folder = tmp / "served"
    write_estate(folder, count, prefix="served")
    for label in ("first start", "second start (registered)"):
        elapsed, mem, at = timed_serve(server, folder, count, tmp / f"serve-{label[:5]}.log")
        print(f"serve {count} workflows, {label:<26} {elapsed:7.1f} s; memory then: VmRSS "
              f"{mem['VmRSS'] / 1024:.0f} MiB, peak {mem['VmHWM'] / 1024:.0f} MiB (load {at:.1f})", flush=True)


# ------------------------------------------------------------------ runs

RUN_DAGU = """\
name: run-dagu
steps:
  - name: extract
    command: echo "extract 2026-01-01"
  - name: transform
    command: echo transform
    depends: [extract]
  - name: load
    command: echo load
    depends: [transform]
"""

RUN_ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: run-argo
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: a, template: say, arguments: {parameters: [{name: msg, value: a hello}]}}
          - {name: b, template: say, depends: a, arguments: {parameters: [{name: msg, value: b}]}}
    - name: say
      inputs: {parameters: [{name: msg}]}
      container: {image: busybox, command: [echo], args: ["{{inputs.parameters.msg}}"]}
"""


def docker_ready() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


def run_deployments(tmp: Path, server: PrefectServer, with_docker: bool) -> dict[str, list[Any]]:
    """Deployment ids of each variant: [dagu-like, argo-like]."""
    folder = tmp / "run-flows"
    folder.mkdir()
    (folder / "run-dagu.yaml").write_text(RUN_DAGU)
    (folder / "run-argo.yaml").write_text(RUN_ARGO)
    done = server.flowport("deploy", str(folder / "run-dagu.yaml"), str(folder / "run-argo.yaml"), "--pool", "runs")
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    with server.client() as client:
        def plain(flow: str, entry: str) -> Any:
            return client.create_deployment(
                flow_id=client.create_flow_from_name(flow), name="baseline", work_pool_name="runs",
                entrypoint=f"plain_flows.py:{entry}",
                pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(PLAIN)}}])

        flowport = [client.read_deployment_by_name(n).id for n in ("run-dagu/run-dagu", "run-argo/run-argo")]
        baseline = [plain("plain-dagu", "plain_dagu"), plain("plain-argo", "plain_argo")]
    if not with_docker:
        flowport, baseline = [flowport[0]] * 2, [baseline[0]] * 2
    return {"flowport": flowport, "plain Prefect": baseline}


def wait_all(client: Any, ids: list[Any], timeout: float = 3600) -> list[Any]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    pending, final = set(ids), []
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(pending)} runs not final after {timeout:g}s")
        for part in [list(pending)[i:i + 200] for i in range(0, len(pending), 200)]:
            for run in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=part)), limit=200):
                if run.state is not None and run.state.is_final():
                    final.append(run)
                    pending.discard(run.id)
        time.sleep(1)
    return final


def throughput(server: PrefectServer, deployments: list[Any], runs: int) -> tuple[float, float, int]:
    """(runs per minute, seconds, runs not completed)."""
    with server.client() as client:
        ids = [client.create_flow_run_from_deployment(deployments[i % 2]).id for i in range(runs)]
        final = wait_all(client, ids)
    first = min(r.expected_start_time for r in final)
    last = max(r.end_time for r in final)
    seconds = (last - first).total_seconds()
    return runs / seconds * 60, seconds, sum(1 for r in final if not r.state.is_completed())


def runs_phase(tmp: Path, server: PrefectServer, runs: int, workers: int, reps: int) -> float:
    with_docker = docker_ready()
    server.create_pool("runs")
    for n in range(workers):
        server.start_worker("runs", f"w{n + 1}")
    variants = run_deployments(tmp, server, with_docker)
    print(f"{workers} process workers; runs: half Dagu (3 echo steps), half "
          + ("Argo (2 busybox containers)" if with_docker else "Dagu again (no Docker Engine)"), flush=True)
    for deployments in variants.values():  # warm-up: first imports, pycache, the image
        throughput(server, deployments, 2)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    names = list(variants)
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            per_min, seconds, bad = throughput(server, variants[name], runs)
            results[name].append((per_min, load()))
            print(f"  {name:<14} {runs} runs in {seconds:6.1f} s = {per_min:6.1f} runs/min (load {load():.1f})"
                  + (f"; {bad} NOT completed" if bad else ""), flush=True)
    medians = {name: spread(f"{name} runs/min ({runs} runs, {workers} workers)", [v for v, _ in vals],
                            "runs/min", [x for _, x in vals]) for name, vals in results.items()}
    return medians["flowport"] / medians["plain Prefect"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workflows", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the runs comparison")
    ap.add_argument("--deploy-reps", type=int, default=3)
    ap.add_argument("--no-sqlite", action="store_true", help="deploy on PostgreSQL only")
    ap.add_argument("--skip-deploy", action="store_true")
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--skip-runs", action="store_true")
    args = ap.parse_args()
    if not postgres_bin():
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql): the estate runs on it")
    print(f"estate of {args.workflows} workflows; start load {load():.1f}", flush=True)
    ratio = None
    with tempfile.TemporaryDirectory(prefix="flowport-bench-estate-") as tmp_name:
        tmp = Path(tmp_name)
        with Postgres() as pg:
            if not args.skip_deploy:
                deploy_phase(tmp, "PostgreSQL", database(pg, "deploy"), args.workflows, args.deploy_reps)
            if not (args.no_sqlite or args.skip_deploy):
                deploy_phase(tmp, "SQLite", None, args.workflows, args.deploy_reps)
            if not (args.skip_serve and args.skip_runs):
                with PrefectServer(tmp / "runs", database_url=database(pg, "runs")) as server:
                    if not args.skip_serve:
                        serve_phase(tmp, server, args.workflows)
                    if not args.skip_runs:
                        ratio = runs_phase(tmp, server, args.runs, args.workers, args.reps)
    if ratio is not None:
        print(f"ratio: {ratio:.3f}")


if __name__ == "__main__":
    main()
