"""Deployment runs through Prefect workers: flowport vs the same hand-written flow deployed
directly with Prefect, in the same run.

    python bench/server.py [--latency-runs 5] [--runs 50] [--sqlite] [--worker-limit 8]

Starts `prefect server start` on 127.0.0.1 — on a throwaway PostgreSQL when Debian's
postgresql is installed (SQLite answers 503 under 50 simultaneous runs on a small machine),
else or with --sqlite on SQLite — with a `process` pool and 2 workers running at most
--worker-limit flow runs each (subprocesses, PREFECT_HOME in a temporary folder), deploys

* `flowport/bench-one`: a Dagu DAG with one step `echo one` (flowport's static flow, the YAML
  as a parameter), and
* `hand-written/baseline`: bench/server_baseline_flow.py, one task running `echo one`,

then measures, for each:

* latency: submit (flow run created) → first step's task run started, runs submitted one
  at a time, alternating the two deployments; median;
* throughput: N runs submitted at once, time until all are final → runs per minute.

Prints both and the ratios flowport / hand-written (goal: ≤ 1.1). Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent))  # testkit/, which prefect_services uses

from prefect_services import Postgres, PrefectServer, postgres_bin  # noqa: E402

DAG = """name: bench-one
steps:
  - name: one
    command: sh -c 'echo one'
"""


def first_task_start(client, run_id: uuid.UUID):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    starts = [t.start_time for t in runs if t.start_time]  # one task run each: the step
    return min(starts) if starts else None


def submit(client, deployment_id) -> tuple[uuid.UUID, object]:
    run = client.create_flow_run_from_deployment(deployment_id)
    return run.id, run.created


def wait_all(client, ids: list[uuid.UUID], timeout: float = 900) -> dict:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    pending = set(ids)
    final = {}
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} runs not final after {timeout:g}s")
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(pending))),
                                     limit=200)
        for r in runs:
            if r.state is not None and r.state.is_final():
                final[r.id] = r
                pending.discard(r.id)
        time.sleep(0.25)
    return final


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-runs", type=int, default=5)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--sqlite", action="store_true", help="server on SQLite even when PostgreSQL is installed")
    ap.add_argument("--worker-limit", type=int, default=8, help="flow runs at once per worker (0: no limit)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="flowport-bench-") as tmp:
        tmp = Path(tmp)
        pg = Postgres().start() if (postgres_bin() and not args.sqlite) else None
        server = PrefectServer(tmp / "home", database_url=pg.url if pg else None)
        try:
            t0 = time.monotonic()
            server.start()
            server.create_pool("bench")
            server.start_worker("bench", "w1", limit=args.worker_limit or None)
            server.start_worker("bench", "w2", limit=args.worker_limit or None)
            print(f"server + 2 workers up in {time.monotonic() - t0:.1f} s "
                  f"({'PostgreSQL' if pg else 'SQLite'}, worker limit {args.worker_limit or 'none'})")
            dag = tmp / "dags" / "bench-one.yaml"
            dag.parent.mkdir()
            dag.write_text(DAG)
            done = server.flowport("deploy", str(dag), "--pool", "bench")
            if done.returncode != 0:
                raise SystemExit(done.stdout + done.stderr)
            with server.client() as client:
                flow_id = client.create_flow_from_name("hand-written")
                baseline_id = client.create_deployment(
                    flow_id=flow_id, name="baseline", entrypoint="server_baseline_flow.py:hand_written",
                    work_pool_name="bench",
                    pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(HERE)}}],
                )
                flowport_id = client.read_deployment_by_name("bench-one/bench-one").id
                variants = {"flowport": flowport_id, "hand-written": baseline_id}

                # warm-up: one run each (first imports, pycache)
                wait_all(client, [submit(client, d)[0] for d in variants.values()])

                latency: dict[str, list[float]] = {k: [] for k in variants}
                to_running: dict[str, list[float]] = {k: [] for k in variants}
                for _ in range(args.latency_runs):
                    for name, dep in variants.items():
                        run_id, created = submit(client, dep)
                        run = wait_all(client, [run_id])[run_id]
                        if not run.state.is_completed():
                            raise SystemExit(f"{name} run ended {run.state}")
                        start = first_task_start(client, run_id)
                        latency[name].append((start - created).total_seconds())
                        running = [st.timestamp for st in client.read_flow_run_states(run_id) if st.type.value == "RUNNING"]
                        to_running[name].append((running[0] - created).total_seconds())

                throughput: dict[str, float] = {}
                for name, dep in variants.items():
                    t = time.monotonic()
                    ids = [submit(client, dep)[0] for _ in range(args.runs)]
                    final = wait_all(client, ids)
                    elapsed = time.monotonic() - t
                    bad = [r.state for r in final.values() if not r.state.is_completed()]
                    workers = {r.labels.get("prefect.worker.name") for r in final.values()}
                    throughput[name] = args.runs / elapsed * 60
                    print(f"{name:12s} {args.runs} runs in {elapsed:6.1f} s = {throughput[name]:6.1f} runs/min "
                          f"(workers: {', '.join(sorted(map(str, workers)))})"
                          + (f"; {len(bad)} NOT completed, e.g. {bad[0].message[:160]}" if bad else ""))
        finally:
            server.stop()
            if pg:
                pg.stop()

    for name in variants:
        vals = latency[name]
        print(f"{name:12s} latency submit → first step started: median {statistics.median(vals):.2f} s "
              f"(min {min(vals):.2f}, max {max(vals):.2f}, n={len(vals)}); of which submit → flow "
              f"run Running {statistics.median(to_running[name]):.2f} s")
    lat_ratio = statistics.median(latency["flowport"]) / statistics.median(latency["hand-written"])
    thr_ratio = throughput["hand-written"] / throughput["flowport"]
    print(f"latency ratio (flowport / hand-written): {lat_ratio:.2f}")
    print(f"throughput ratio (hand-written / flowport runs per min, i.e. time ratio): {thr_ratio:.2f}")
    print(f"goal <= 1.1: latency {'met' if lat_ratio <= 1.1 else 'NOT met'}, "
          f"throughput {'met' if thr_ratio <= 1.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
