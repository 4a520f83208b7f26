"""flowport deployments against a real `prefect server start` (SQLite; PostgreSQL at the end)
with `process` work-pool workers, all subprocesses on 127.0.0.1.

One server and one worker for the module (starting them is most of the cost); the scale test
adds a second worker. Handlers write files beside the workflow file: deployments run the
workflow in its file's folder, like `flowport run`."""

from __future__ import annotations

import json
import re
import os
import signal
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from testkit.procs import alive, stat_fields, wait_for, wait_until

from prefect_services import Postgres, PrefectServer, postgres_bin, run_id_from_cli

from flowport.cli.entry import entrypoint_for

POOL = "flowport-test"

OK = """
name: greet
params:
  - WHO: world
schedule: "30 6 * * 1-5"
steps:
  - name: greet
    command: sh -c 'echo "hello $WHO {{kept}}" > greet.txt'
  - name: after
    command: echo after
    depends: [greet]
handlerOn:
  success:
    command: sh -c 'echo "success:$DAG_RUN_STATUS" >> handlers.txt'
  failure:
    command: sh -c 'echo "failure:$DAG_RUN_STATUS" >> handlers.txt'
  exit:
    command: sh -c 'echo "exit:$DAG_RUN_STATUS" >> handlers.txt'
"""

FAILING = """
name: breaks
steps:
  - name: boom
    command: sh -c 'exit 3'
handlerOn:
  success:
    command: sh -c 'echo "success:$DAG_RUN_STATUS" >> handlers.txt'
  failure:
    command: sh -c 'echo "failure:$DAG_RUN_STATUS" >> handlers.txt'
  exit:
    command: sh -c 'echo "exit:$DAG_RUN_STATUS" >> handlers.txt'
"""

LONG = """
name: {name}
steps:
  - name: long
    command: sh -c 'echo $$ > long.pid; sleep 120'
  - name: after
    command: touch after-ran
    depends: [long]
handlerOn:
  success:
    command: sh -c 'echo "success:$DAG_RUN_STATUS" >> handlers.txt'
  cancel:
    command: sh -c 'echo "cancel:$DAG_RUN_STATUS" >> handlers.txt'
  exit:
    command: sh -c 'echo "exit:$DAG_RUN_STATUS" >> handlers.txt'
"""

ARGO_LONG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: {name}
spec:
  entrypoint: main
  onExit: bye
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c, "echo started; sleep 120"]
    - name: bye
      container:
        image: busybox
        command: [sh, -c, "echo bye {{{{workflow.status}}}}"]
"""

QUICK = """
name: quick
steps:
  - name: one
    command: echo one
"""

ARGO = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: argo-exit-
spec:
  entrypoint: main
  onExit: bye
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c, "echo main"]
    - name: bye
      container:
        image: busybox
        command: [sh, -c, "echo bye {{workflow.status}}"]
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def wait_for_step(server: PrefectServer, path: Path, timeout: float = 90) -> str:
    """wait_for(path), given up at once when the worker that runs the flows has died."""
    worker = server.workers[0]
    return wait_for(path, timeout, proc=worker.proc, log=worker.log)


def flow_process_of(pid: int) -> int:
    """The Prefect flow-run process above a step's process."""
    while pid > 1:
        ppid = int(stat_fields(pid)[1])
        cmd = Path(f"/proc/{ppid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        if "python" in cmd and ("prefect.engine" in cmd or "flow-run" in cmd or "prefect" in cmd):
            return ppid
        pid = ppid
    raise AssertionError("no flow process above the step")


def settled_cancel(server: PrefectServer, run_id: str, message: str, timeout: float = 20) -> object:
    """The cancelled run once the runner has finalized it (it rewrites the state after its
    hooks; the on_cancellation hook puts the source status back): waits for `message`."""
    server.wait_final(run_id, timeout=90)
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while True:
            run = client.read_flow_run(uuid.UUID(run_id))
            states = client.read_flow_run_states(uuid.UUID(run_id))
            finalized = any((s.message or "").startswith("Flow run was cancelled") for s in states)
            if (finalized and run.state.message == message) or time.monotonic() > deadline:
                return run
            time.sleep(0.2)


def artifacts_of(server: PrefectServer, flow_run_id: str) -> list:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with server.client() as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(flow_run_id)])))


def deploy(server: PrefectServer, *files: Path, pool: str = POOL, extra: tuple[str, ...] = ()) -> str:
    done = server.flowport("deploy", *map(str, files), "--pool", pool, *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def run_deployment_cli(server: PrefectServer, name: str, *params: str) -> str:
    args = ["deployment", "run", name]
    for p in params:
        args += ["--param", p]
    return run_id_from_cli(server.cli(*args).stdout)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    server = PrefectServer(tmp_path_factory.mktemp("prefect-home"), ui=True)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"cannot start `prefect server start`: {exc}")
    try:
        server.create_pool(POOL)
        server.workers = [server.start_worker(POOL, "w1", limit=10)]
        yield server
    finally:
        server.stop()


def test_dagu_deployments_run_with_handlers_schedules_and_artifacts(stack, tmp_path):
    ok = write(tmp_path / "ok", "greet.yaml", OK)
    bad = write(tmp_path / "bad", "breaks.yaml", FAILING)
    out = deploy(stack, ok, bad, extra=("--tag", "team-a"))
    assert "greet/greet" in out and "breaks/breaks" in out

    with stack.client() as client:
        dep = client.read_deployment_by_name("greet/greet")
    assert dep.entrypoint == entrypoint_for("greet")  # the static flow, named after the workflow
    # the YAML is kept in a block; the parameter names it in one line
    assert dep.parameters["source"] == "flowport-workflow:flowport-greet"
    from flowport.cli.workflow_blocks import read_source

    with stack.settings():
        assert read_source(dep.parameters["source"]) == ok.read_text()
    assert {"flowport", "dagu", "team-a"} <= set(dep.tags)
    assert [(s.schedule.cron, s.active) for s in dep.schedules] == [("30 6 * * 1-5", True)]
    params_schema = dep.parameter_openapi_schema["properties"]["params"]
    assert params_schema["properties"]["WHO"]["default"] == "world"  # the UI shows the DAG's params

    ok_id = run_deployment_cli(stack, "greet/greet", 'params={"WHO": "prefect"}')
    bad_id = run_deployment_cli(stack, "breaks/breaks")
    ok_run, bad_run = stack.wait_final(ok_id), stack.wait_final(bad_id)

    assert ok_run.state.is_completed() and ok_run.state.name == "Succeeded", ok_run.state
    assert ok_run.state.message == "greet: succeeded"
    assert ok_run.name.startswith("greet-")
    assert (ok.parent / "greet.txt").read_text() == "hello prefect {{kept}}\n"
    assert (ok.parent / "handlers.txt").read_text().split() == ["success:succeeded", "exit:succeeded"]

    assert bad_run.state.is_failed(), bad_run.state
    assert bad_run.state.message.startswith("breaks: failed")
    assert (bad.parent / "handlers.txt").read_text().split() == ["failure:failed", "exit:failed"]

    arts = artifacts_of(stack, ok_id)
    assert [a.key for a in arts] == ["flowport-greet"]
    md = arts[0].data
    assert "| greet | step | succeeded | 0 |" in md and "| onExit | handler | succeeded |" in md
    report = json.loads(md.split("```json", 1)[1].split("```", 1)[0])
    assert report["status"] == "succeeded" and report["params"] == {"WHO": "prefect"}
    assert [n["phase"] for n in report["nodes"]] == ["succeeded"] * 4

    # re-deploying the changed file updates the deployment: schedules replaced, not added
    ok.write_text(ok.read_text().replace('schedule: "30 6 * * 1-5"', 'schedule: ["0 1 * * *", "0 2 * * 0"]'))
    deploy(stack, ok)
    with stack.client() as client:
        dep = client.read_deployment_by_name("greet/greet")
    assert sorted(s.schedule.cron for s in dep.schedules) == ["0 1 * * *", "0 2 * * 0"]
    with stack.settings():
        assert "0 1 * * *" in read_source(dep.parameters["source"])

    # re-deploying it unchanged writes nothing: same deployment, not updated since
    out = deploy(stack, ok)
    assert "unchanged" in out and "1 of 1 deployment(s) were already up to date" in out, out
    with stack.client() as client:
        again = client.read_deployment_by_name("greet/greet")
    assert (again.id, again.updated) == (dep.id, dep.updated)
    assert sorted(s.schedule.cron for s in again.schedules) == ["0 1 * * *", "0 2 * * 0"]


def test_prefect_yaml_is_deployable_with_prefect_deploy(stack, tmp_path):
    flow_file = write(tmp_path / "y", "yamlflow.yaml", OK.replace("name: greet", "name: from-yaml", 1))
    out_file = tmp_path / "prefect.yaml"
    done = stack.flowport("deploy", str(flow_file), "--pool", POOL, "--prefect-yaml", "-o", str(out_file))
    assert done.returncode == 0, done.stderr
    stack.cli("--no-prompt", "deploy", "--all", "--prefect-file", str(out_file), cwd=tmp_path)
    run_id = run_deployment_cli(stack, "from-yaml/from-yaml")
    run = stack.wait_final(run_id)
    assert run.state.is_completed(), run.state
    # `prefect deploy` templates {{ }} in values: the text travelled base64-encoded, intact
    assert (flow_file.parent / "greet.txt").read_text() == "hello world {{kept}}\n"


def test_cancel_through_the_api_runs_cancel_and_exit_handlers_once(stack, tmp_path):
    wf = write(tmp_path / "c", "stoppable.yaml", LONG.format(name="stoppable"))
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "stoppable/stoppable")
    pid = int(wait_for_step(stack, wf.parent / "long.pid"))
    stack.cli("flow-run", "cancel", run_id)
    run = settled_cancel(stack, run_id, "stoppable: canceled (stopped by Prefect)")
    assert run.state.is_cancelled(), run.state
    assert run.state.message == "stoppable: canceled (stopped by Prefect)"
    handlers = (wf.parent / "handlers.txt").read_text().split()
    assert handlers == ["cancel:canceled", "exit:canceled"], handlers  # each exactly once
    assert not (wf.parent / "after-ran").exists()
    assert not alive(pid), "the step's process survived the cancel"
    folder = Path(stack.home, "flowport-logs", "stoppable", run_id)
    assert sorted(p.name for p in (folder / "claims").iterdir()) == ["finished", "handler-cancel", "handler-exit", "started"]
    report = json.loads(artifacts_of(stack, run_id)[0].data.split("```json", 1)[1].split("```", 1)[0])
    assert {n["name"]: n["phase"] for n in report["nodes"]} == {
        "long": "canceled", "after": "not_started", "onCancel": "succeeded", "onExit": "succeeded"}
    worker_log = Path(stack.workers[0].log).read_text(errors="replace")
    assert "flowport: the flow run ended Cancelled: stoppable: canceled (stopped by Prefect)" in worker_log
    assert "CancelledRun" not in worker_log  # one INFO line, no engine traceback


def test_flow_process_killed_hard_ends_crashed_and_on_crashed_cleans_up(stack, tmp_path):
    wf = write(tmp_path / "k", "killed.yaml", LONG.format(name="killed"))
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "killed/killed")
    step_pid = int(wait_for_step(stack, wf.parent / "long.pid"))
    os.kill(flow_process_of(step_pid), signal.SIGKILL)
    run = stack.wait_final(run_id, timeout=90)
    assert run.state.is_crashed(), run.state
    folder = Path(stack.home, "flowport-logs", "killed", run_id)
    deadline = time.monotonic() + 30
    while not (folder / "claims" / "crashed").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (folder / "claims" / "crashed").exists(), "on_crashed did not run"
    deadline = time.monotonic() + 10
    while alive(step_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(step_pid), "the step outlived the crashed flow process"
    assert not (wf.parent / "handlers.txt").exists()  # Dagu runs no handler for a killed run


FANOUT = """
name: fanout
steps:
  - name: fan
    call: napper
    params: "N=${ITEM}"
    parallel: [a, b, c]
  - name: after
    command: touch after-ran
    depends: [fan]
handlerOn:
  cancel:
    command: sh -c 'echo "parent-cancel:$DAG_RUN_STATUS" >> handlers.txt'
  exit:
    command: sh -c 'echo "parent-exit" >> handlers.txt'
---
name: napper
params: "N=none"
steps:
  - name: nap
    command: sh -c 'echo $$ > "nap-$N.pid"; sleep 120'
handlerOn:
  cancel:
    command: sh -c 'echo "child-cancel:$N:$DAG_RUN_STATUS" >> handlers.txt'
  exit:
    command: sh -c 'echo "child-exit:$N" >> handlers.txt'
"""


def test_cancel_during_parallel_sub_dags_runs_child_then_parent_handlers_once(stack, tmp_path):
    """A parent DAG fanning out to three sub-DAG subflows, cancelled through the API while
    the children run: each child runs its cancel and exit handler once, then the parent its
    own; the child flow runs hang under the calling step's task run."""
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterParentFlowRunId, TaskRunFilter,
                                                TaskRunFilterFlowRunId)

    wf = write(tmp_path / "f", "fanout.yaml", FANOUT)
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "fanout/fanout")
    pids = [int(wait_for_step(stack, wf.parent / f"nap-{n}.pid")) for n in "abc"]
    from prefect.states import Cancelling

    with stack.client() as client:  # what `prefect flow-run cancel` does, without its start-up
        client.set_flow_run_state(uuid.UUID(run_id), Cancelling(), force=True)
    run = settled_cancel(stack, run_id, "fanout: canceled (stopped by Prefect)")
    assert run.state.is_cancelled(), run.state
    lines = (wf.parent / "handlers.txt").read_text().split()
    children = sorted([f"child-cancel:{n}:canceled" for n in "abc"] + [f"child-exit:{n}" for n in "abc"])
    assert sorted(lines[:6]) == children and lines[6:] == ["parent-cancel:canceled", "parent-exit"], lines
    assert not (wf.parent / "after-ran").exists()
    assert not any(alive(pid) for pid in pids), "a child's step survived the cancel"

    parent = uuid.UUID(run_id)
    with stack.client() as client:
        subflows = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])))
        steps = {t.name: t for t in client.read_task_runs(task_run_filter=TaskRunFilter(
            flow_run_id=TaskRunFilterFlowRunId(any_=[parent])))}
        assert len(subflows) == 3 and all(f.name.startswith("napper-") for f in subflows), subflows
        for child in subflows:
            tracking = client.read_task_run(child.parent_task_run_id)  # the subflow's node in the parent
            assert tracking.flow_run_id == parent
            assert [p.id for p in tracking.task_inputs["__parents__"]] == [steps["fan"].id]
            assert child.state.is_cancelled() or child.state.name == "Canceled", child.state
    report = json.loads(artifacts_of(stack, run_id)[0].data.split("```json", 1)[1].split("```", 1)[0])
    fan = next(n for n in report["nodes"] if n["name"] == "fan")
    assert fan["phase"] == "canceled"
    assert sorted(r["status"] for r in fan["sub_runs"]) == ["canceled"] * 3
    assert all({n["name"]: n["phase"] for n in r["nodes"]} == {
        "nap": "canceled", "onCancel": "succeeded", "onExit": "succeeded"} for r in fan["sub_runs"])


def flow_process_of_run(run_id: str) -> int:
    """The `prefect` flow-run process a worker started for `run_id` (its environment names it)."""
    needle = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                return int(entry.name)
        except (OSError, ValueError):
            continue
    raise AssertionError(f"no flow process for {run_id}")


def wait_for_main_container(run_id: str, timeout: float = 90) -> None:
    from flowport.adapter.runners.docker import shared_client

    wait_until(lambda: shared_client().containers.list(
        filters={"label": f"flowport.run-id={run_id}", "status": "running"}), timeout, "the workflow's container")


def exit_handler_outputs(folder: Path) -> list[str]:
    """What the run's exit handler printed, one entry per time it ran."""
    return [p.read_text().strip() for p in sorted(folder.glob("*onExit*.out"))]


def test_argo_flow_process_killed_runs_on_exit_once_from_the_hook(stack, tmp_path, request):
    """Argo's controller runs onExit whatever happened to the pods: a SIGKILLed flow process
    gets its exit handler from Prefect's on_crashed hook, exactly once."""
    request.getfixturevalue("docker_engine")
    wf = write(tmp_path / "ak", "argo-killed.yaml", ARGO_LONG.format(name="argo-killed"))
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "argo-killed/argo-killed")
    wait_for_main_container(run_id)
    os.kill(flow_process_of_run(run_id), signal.SIGKILL)
    run = stack.wait_final(run_id, timeout=90)
    assert run.state.is_crashed(), run.state
    folder = Path(stack.home, "flowport-logs", "argo-killed", run_id)
    wait_until(lambda: exit_handler_outputs(folder), 60, "the exit handler's output")
    time.sleep(2)  # a second runner of the hook would have written by now
    assert exit_handler_outputs(folder) == ["bye Error"], sorted(p.name for p in folder.iterdir())
    assert sorted(p.name for p in (folder / "claims").iterdir()) == ["crashed", "onExit", "started"]
    from flowport.adapter.runners.docker import shared_client

    assert not shared_client().containers.list(all=True, filters={"label": f"flowport.run-id={run_id}"})


def test_argo_cancel_through_the_api_runs_on_exit_once(stack, tmp_path, request):
    """`argo stop` from the Prefect UI/API: the step is stopped, onExit runs once (in the
    flow body; the on_cancellation hook finds it claimed), the run ends Cancelled with
    Argo's message."""
    request.getfixturevalue("docker_engine")
    wf = write(tmp_path / "ac", "argo-stop.yaml", ARGO_LONG.format(name="argo-stop"))
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "argo-stop/argo-stop")
    wait_for_main_container(run_id)
    stack.cli("flow-run", "cancel", run_id)
    stack.wait_final(run_id, timeout=90)
    folder = Path(stack.home, "flowport-logs", "argo-stop", run_id)
    time.sleep(3)  # the runner's on_cancellation hook has run by now
    assert exit_handler_outputs(folder) == ["bye Failed"], sorted(p.name for p in folder.iterdir())
    assert sorted(p.name for p in (folder / "claims").iterdir()) == ["finished", "onExit", "started"]


def test_argo_workflow_deployment(stack, tmp_path, request):
    from flowport.translators import check

    checked = check(str(tmp_path / "argo.yaml"), text=textwrap.dedent(ARGO))
    if not checked.ok:
        pytest.skip("the Argo translator has not landed: " + "; ".join(p.message for p in checked.problems)[:200])
    request.getfixturevalue("docker_engine")  # Argo steps are containers: skips without Docker
    wf = write(tmp_path / "a", "argo.yaml", ARGO)
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, f"{checked.workflow.name}/{checked.workflow.name}")
    run = stack.wait_final(run_id, timeout=180)
    assert run.state.is_completed(), run.state
    report = json.loads(artifacts_of(stack, run_id)[0].data.split("```json", 1)[1].split("```", 1)[0])
    assert report["status"] == "Succeeded"


LOADED_HOST_RETRIES = 7  # 503s retried after 2 s, 4 s … 128 s (Prefect's backoff)


def test_scale_two_workers_twenty_runs(stack, tmp_path):
    wf = write(tmp_path / "s", "quick.yaml", QUICK)
    deploy(stack, wf)
    w1 = stack.workers[0]
    w2 = stack.start_worker(POOL, "w2", limit=10)  # w1 alone cannot hold the 20 runs at once
    stack.workers.append(w2)
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    # A loaded host makes the SQLite server answer 503 ("retry later") now and then: Prefect's
    # client retries those; more often here, for this process and (prefect_services.base_env)
    # for the workers and flow processes, whose server also waits longer for SQLite's lock.
    # What the test checks stays the same.
    with temporary_settings({PREFECT_API_URL: stack.url, PREFECT_CLIENT_MAX_RETRIES: LOADED_HOST_RETRIES}):
        ids = [str(run_deployment("quick/quick", timeout=0).id) for _ in range(20)]
        runs = [stack.wait_final(i, timeout=240) for i in ids]
    assert all(r.state.is_completed() for r in runs), [r.state for r in runs if not r.state.is_completed()]
    by_worker = {}
    for r in runs:  # each worker labels the runs it submits
        by_worker.setdefault(r.labels.get("prefect.worker.name"), []).append(str(r.id))
    assert set(by_worker) == {w1.name, w2.name}, {k: len(v) for k, v in by_worker.items()}
    assert sorted(sum(by_worker.values(), [])) == sorted(ids)  # nothing lost
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: LOADED_HOST_RETRIES}), stack.client() as client:
        for i in ids:  # nothing ran twice: one Running state per run
            states = client.read_flow_run_states(uuid.UUID(i))
            assert [s.type.value for s in states].count("RUNNING") == 1, states


def test_serve_a_folder_runs_and_cancels(stack, tmp_path):
    import subprocess
    import sys

    from prefect_services import stop_group

    folder = tmp_path / "served"
    write(folder, "greet.yaml", OK.replace("name: greet", "name: served-greet", 1))
    stoppable = write(folder, "stop.yml", LONG.format(name="served-stop"))
    (folder / "notes.txt").write_text("not a workflow")
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "serve", str(folder)], env=stack.env(),
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # "Serving N deployment(s)" comes once every deployment is registered (the per-file
        # "serving …" lines come before: the deployments are registered side by side)
        wait_until(lambda: "Serving 2 deployment(s)" in log.read_text(errors="replace"), 60,
                   "flowport serve never registered its deployments", proc=proc, log=log, interval=0.2)
        assert proc.poll() is None, log.read_text(errors="replace")
        with stack.client() as client:  # registered as served deployments (no work pool)
            deadline = time.monotonic() + 30
            while True:
                try:
                    dep = client.read_deployment_by_name("served-stop/served-stop")
                    break
                except Exception:
                    assert time.monotonic() < deadline
                    time.sleep(0.3)
        assert dep.work_pool_name is None
        ok_id = run_deployment_cli(stack, "served-greet/served-greet")
        stop_id = run_deployment_cli(stack, "served-stop/served-stop")
        assert stack.wait_final(ok_id).state.message == "served-greet: succeeded"
        pid = int(wait_for(folder / "long.pid", 90, proc=proc, log=log))
        stack.cli("flow-run", "cancel", stop_id)
        run = settled_cancel(stack, stop_id, "served-stop: canceled (stopped by Prefect)")
        assert run.state.is_cancelled() and run.state.message == "served-stop: canceled (stopped by Prefect)"
        assert (folder / "handlers.txt").read_text().split() == [
            "success:succeeded", "exit:succeeded", "cancel:canceled", "exit:canceled"]
        assert not alive(pid)
    finally:
        stop_group(proc)


SLACK_TOKENS = "T0FLOWPORT/B0FLOWPORT/xoxbSecretTokenValue42"
HOOK_PASSWORD = "hook-Pa55-word"

SECRET_MAIL = """
name: mail-secret
env:
  - ALERT_URL: slack://{slack}/#ops
  - HOOK: json://bot:{hook_pw}@127.0.0.1:9/hook
smtp:
  host: "{host}"
  port: "{port}"
  username: {user}
  password: "{password}"
mailOn:
  failure: true
errorMail:
  from: flowport@example.com
  to: ops@example.com
  prefix: "[ERR]"
steps:
  - name: boom
    command: sh -c 'exit 4'
"""


def test_literal_secrets_stay_off_the_server_and_still_reach_the_worker(stack, tmp_path):
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from testkit.servers import SMTP_PASSWORD, SMTP_USER, SmtpServer

    secrets = [SMTP_PASSWORD, HOOK_PASSWORD, "xoxbSecretTokenValue42", "T0FLOWPORT"]
    with SmtpServer(auth=("LOGIN", "PLAIN")) as mailbox:
        wf = write(tmp_path / "s", "mail-secret.yaml", SECRET_MAIL.format(
            slack=SLACK_TOKENS, hook_pw=HOOK_PASSWORD, host=mailbox.host, port=mailbox.port,
            user=SMTP_USER, password=SMTP_PASSWORD))
        deploy(stack, wf)
        with stack.client() as client:
            dep = client.read_deployment_by_name("mail-secret/mail-secret")
            stored = json.dumps(dep.model_dump(mode="json"))
            block = client.read_block_document_by_name("flowport-mail-secret-smtp-password", "secret",
                                                       include_secrets=False)
        for secret in secrets:
            assert secret not in stored, secret
        from flowport.cli.workflow_blocks import read_source

        with stack.settings():
            stored = read_source(dep.parameters["source"])
        assert "flowport-secret((flowport-mail-secret-smtp-password))" in stored
        assert SMTP_PASSWORD not in json.dumps(block.data)  # the API masks the block's value

        run_id = run_deployment_cli(stack, "mail-secret/mail-secret")
        run = stack.wait_final(run_id)
        assert run.state.is_failed() and run.state.message.startswith("mail-secret: failed"), run.state
        [mail] = mailbox.wait_for(1, timeout=30)  # the worker logged in with the real password
    assert mail.user == SMTP_USER and mail.rcpt_tos == ["ops@example.com"]
    assert mail.message["Subject"] == "[ERR] mail-secret (failed)"

    with stack.client() as client:
        run = client.read_flow_run(uuid.UUID(run_id))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    seen = json.dumps(run.model_dump(mode="json")) + "\n".join(l.message for l in logs)
    seen += "\n".join(str(a.data) for a in artifacts_of(stack, run_id))
    for secret in secrets:
        assert secret not in seen, secret

    # the state hooks (on_cancellation/on_crashed) load the workflow inside the runner's loop
    import asyncio

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flowport.cli.entry import workflow_of_flow_run

    async def in_a_loop():
        return workflow_of_flow_run(run)

    with temporary_settings({PREFECT_API_URL: stack.url}):
        hooked, _ = asyncio.run(in_a_loop())
    assert hooked.mail.smtp.password == SMTP_PASSWORD

    out_file = tmp_path / "prefect.yaml"
    done = stack.flowport("deploy", str(wf), "--pool", POOL, "--prefect-yaml", "-o", str(out_file))
    assert done.returncode == 0, done.stderr
    text = out_file.read_text()
    for secret in secrets:
        assert secret not in text, secret
    assert "flowport-secret((flowport-mail-secret-smtp-password))" in text


@pytest.fixture(scope="module")
def postgres():
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    pg = Postgres()
    try:
        pg.start()
    except (RuntimeError, OSError) as exc:
        pg.stop()
        pytest.skip(f"cannot start PostgreSQL: {exc}")
    yield pg
    pg.stop()


def test_server_on_postgresql_runs_a_deployment(postgres, tmp_path):
    with PrefectServer(tmp_path / "pg-home", database_url=postgres.url) as server:
        server.create_pool("pg-pool")
        server.start_worker("pg-pool", "pg-w1")
        wf = write(tmp_path / "pg", "greet.yaml", OK)
        deploy(server, wf, pool="pg-pool")
        run = server.wait_final(run_deployment_cli(server, "greet/greet"))
        assert run.state.is_completed() and run.state.message == "greet: succeeded", run.state
        assert (wf.parent / "handlers.txt").read_text().split() == ["success:succeeded", "exit:succeeded"]
        import subprocess

        rows = subprocess.run(
            [str(postgres.bin / "psql"), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", postgres.user, "-tA",
             "-c", "select count(*) from flow_run", postgres.database],
            env={**os.environ, "PGPASSWORD": postgres.password}, capture_output=True, text=True, timeout=30)
        assert rows.returncode == 0 and int(rows.stdout.strip()) >= 1, rows.stderr  # it is PostgreSQL's


UI_DAG = """
name: ui-check
steps:
  - name: extract
    command: echo extracting
  - name: transform
    command: exit 3
    depends: [extract]
  - name: load
    command: echo never
    depends: [transform]
  - name: audit
    command: echo skipped
    depends: [extract]
    preconditions:
      - condition: "no"
        expected: "yes"
handlerOn:
  failure:
    command: echo failed
  exit:
    command: echo bye
"""

UI_ARGO = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: ui-argo-
spec:
  entrypoint: main
  onExit: bye
  templates:
    - name: main
      steps:
        - - name: pause
            template: nap
          - name: never
            template: nap
            when: "1 == 2"
    - name: nap
      suspend: {duration: "0"}
    - name: bye
      suspend: {duration: "0"}
"""


def _task_runs(server: PrefectServer, flow_run_id: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (state name, names of the task runs it follows) of a flow run's task runs."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with server.client() as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(flow_run_id)])))
    names = {r.id: r.name for r in runs}
    return {r.name: (r.state.name, sorted(names[i.id] for i in r.task_inputs.get("wait_for", []))) for r in runs}


def _flowport_run(server: PrefectServer, path: Path) -> tuple[str, object, object]:
    done = server.flowport("run", str(path))
    run_id = re.search(r"run id ([0-9a-f-]{36})", done.stdout).group(1)
    with server.client() as client:
        flow_run = client.read_flow_run(uuid.UUID(run_id))
        flow = client.read_flow(flow_run.flow_id)
    return run_id, flow_run, flow


def test_prefect_ui_shows_every_node_named_as_the_source_names_it(stack, tmp_path):
    """Run and flow names as Dagu/Argo name them; a task run for every node (not-started and
    skipped ones too) with the run graph's edges; and the page a person opens shows them."""
    from testkit.browser import artifacts_dir, chromium, page_text_with, screenshot

    dag_id, dag_run, dag_flow = _flowport_run(stack, write(tmp_path, "ui-check.yaml", UI_DAG))
    assert dag_flow.name == "ui-check"
    assert re.fullmatch(r"ui-check-\d{8}-\d{6}", dag_run.name)
    assert _task_runs(stack, dag_id) == {
        "extract": ("Succeeded", []),
        "transform": ("Failed", ["extract"]),
        "load": ("Cancelled", ["transform"]),  # Dagu: canceled after its upstream failed
        "audit": ("Skipped", ["extract"]),
        "onFailure": ("Succeeded", ["audit", "load"]),  # after the last steps
        "onExit": ("Succeeded", ["onFailure"]),
    }

    argo_id, argo_run, argo_flow = _flowport_run(stack, write(tmp_path, "ui-argo.yaml", UI_ARGO))
    assert argo_flow.name == "ui-argo"
    assert re.fullmatch(r"ui-argo-[a-z0-9]{5}", argo_run.name)  # generateName + 5, as Argo
    argo_nodes = _task_runs(stack, argo_id)
    assert {name: state for name, (state, _) in argo_nodes.items()} == {
        argo_run.name: "Succeeded", "[0]": "Succeeded", "pause": "Succeeded", "never": "Skipped",
        "onExit": "Succeeded"}
    assert argo_nodes["onExit"][1] == ["pause"]

    if chromium() is None:
        pytest.skip("no chromium: the browser half of this test needs Debian's chromium package")
    base = stack.url.removesuffix("/api")
    for run_id, run, expected in ((dag_id, dag_run, ("extract Succeeded", "transform Failed", "load Cancelled",
                                                     "audit Skipped", "onFailure Succeeded", "onExit Succeeded")),
                                  (argo_id, argo_run, ("pause Succeeded", "never Skipped", "onExit Succeeded"))):
        url = f"{base}/v2/runs/flow-run/{run_id}?tab=TaskRuns"
        text = page_text_with(url, [run.name, *expected])
        assert run.name in text, text[:2000]
        for node_and_state in expected:
            assert node_and_state in text, (node_and_state, text[:3000])
        screenshot(url, artifacts_dir() / f"prefect-ui-{run.name}.png")
# ------------------------------------------------------------------ people in the loop, locks

ARGO_APPROVE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: approve-
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: approve
            template: approve
        - - name: show
            template: show
            arguments:
              parameters: [{name: answer, value: "{{steps.approve.outputs.parameters.answer}}"}]
    - name: approve
      suspend: {}
      outputs:
        parameters:
          - name: answer
            valueFrom: {supplied: {}}
    - name: show
      inputs: {parameters: [{name: answer}]}
      container:
        image: busybox
        command: [sh, -c, "echo got {{inputs.parameters.answer}}"]
"""


def wait_paused(server: PrefectServer, run_id: str, timeout: float = 120) -> object:
    def paused():
        with server.client() as client:
            state = client.read_flow_run(uuid.UUID(run_id)).state
        return state if state is not None and state.is_paused() else None

    return wait_until(paused, timeout, "the flow run to pause")


def report_of(server: PrefectServer, run_id: str) -> dict:
    arts = [a for a in artifacts_of(server, run_id) if "```json" in (a.data or "")]
    return json.loads(arts[0].data.split("```json", 1)[1].split("```", 1)[0])


def test_argo_suspend_resumed_through_the_api_with_a_supplied_value(stack, tmp_path, request):
    request.getfixturevalue("docker_engine")  # the next step is a container
    wf = write(tmp_path / "approve", "approve.yaml", ARGO_APPROVE)
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "approve/approve")
    state = wait_paused(stack, run_id)
    assert state.state_details.run_input_keyset  # the UI's Resume form
    wrong = stack.flowport("resume", run_id, "-p", "nope=1")
    assert wrong.returncode == 1 and "it takes answer" in wrong.stderr
    done = stack.flowport("resume", run_id, "-p", "answer=yes-please")
    assert done.returncode == 0, done.stderr
    run = stack.wait_final(run_id, timeout=180)
    assert run.state.is_completed(), run.state
    nodes = {n["display_name"]: n for n in report_of(stack, run_id)["nodes"]}
    assert nodes["approve"]["outputs"]["parameters"] == {"answer": "yes-please"}
    assert nodes["show"]["outputs"]["result"] == "got yes-please"


DAGU_GATE = """
name: gate
steps:
  - name: build
    command: echo built
    approval: {prompt: "Ship it?", input: [VERSION], required: [VERSION]}
  - name: ship
    command: sh -c 'echo "ship $VERSION" >> out.txt'
    depends: [build]
handlerOn:
  wait:
    command: sh -c 'echo "wait:$DAG_WAITING_STEPS" >> out.txt'
  failure:
    command: sh -c 'echo "failure:$DAG_RUN_STATUS" >> out.txt'
  exit:
    command: sh -c 'echo "exit:$DAG_RUN_STATUS" >> out.txt'
"""


def test_dagu_approval_rejected_ends_the_run_rejected_with_the_failure_handler(stack, tmp_path):
    wf = write(tmp_path / "gate", "gate.yaml", DAGU_GATE)
    deploy(stack, wf)
    run_id = run_deployment_cli(stack, "gate/gate")
    wait_paused(stack, run_id)
    assert (tmp_path / "gate" / "out.txt").read_text() == "wait:build\n"
    assert stack.flowport("resume", run_id).returncode == 1  # VERSION is required to approve
    done = stack.flowport("reject", run_id, "--reason", "not today")
    assert done.returncode == 0, done.stderr
    run = stack.wait_final(run_id, timeout=120)
    assert run.state.is_failed() and run.state.name == "Rejected", run.state
    assert (tmp_path / "gate" / "out.txt").read_text() == "wait:build\nfailure:rejected\nexit:rejected\n"
    nodes = {n["name"]: n for n in report_of(stack, run_id)["nodes"]}
    assert (nodes["build"]["phase"], nodes["build"]["message"]) == ("rejected", "not today")
    assert nodes["ship"]["phase"] == "canceled"


ARGO_MUTEX = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: locked-
spec:
  entrypoint: main
  synchronization:
    mutexes: [{name: one-at-a-time}]
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c, "sleep 2"]
"""


def test_two_runs_of_a_workflow_with_a_mutex_never_overlap(stack, tmp_path, request):
    request.getfixturevalue("docker_engine")
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deploy(stack, write(tmp_path / "m", "locked.yaml", ARGO_MUTEX))
    with temporary_settings({PREFECT_API_URL: stack.url}):
        ids = [str(run_deployment("locked/locked", timeout=0).id) for _ in range(2)]
    runs = [stack.wait_final(i, timeout=180) for i in ids]
    assert all(r.state.is_completed() for r in runs), [r.state for r in runs]
    spans = sorted((n["started_at"], n["finished_at"]) for i in ids for n in report_of(stack, i)["nodes"]
                   if n["parent"] is None)
    assert len(spans) == 2 and spans[0][1] <= spans[1][0], spans  # the second began after the first ended
    with stack.client() as client:
        assert client.read_global_concurrency_limit_by_name("argo-default-mutex-one-at-a-time").limit == 1


SDK_FLOWS = '''
import sys

from prefect import get_run_logger, task

from flowport.sdk import pytask, run, sh, subflow, workflow


@task
def count(text: str) -> int:
    get_run_logger().info("counting %r", text)
    return len(text.split())


@workflow("sdk-child", engine="dagu-v3")
def child(WHO: str = "x"):
    sh("echo child $WHO", name="greet", output="OUT")


@workflow("sdk-parent", engine="dagu-v3", on_exit=pytask(count, "a b c"))
def parent(rows: str = "a b"):
    counted = pytask(count, rows, name="count", output="N")
    subflow(child, name="call", params={"WHO": "$N"}, after=[counted])


if __name__ == "__main__":
    report = run(parent, rows=sys.argv[1])
    print("run id", report.run_id, report.status, report.outputs["N"])
'''


def test_sdk_task_steps_and_subflows_run_as_prefect_task_runs_and_subflows(stack, tmp_path):
    """flowport.sdk under a real server: a @task function runs in its step's task run (its
    logger writes there), and subflow(…) is a flow run under the calling step's task run."""
    import subprocess
    import sys

    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId, LogFilter,
                                                LogFilterTaskRunId)

    module = write(tmp_path, "flows.py", SDK_FLOWS)
    done = subprocess.run([sys.executable, str(module), "1 2 3"], env=stack.env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id, status, rows = re.search(r"run id (\S+) (\S+) (\S+)", done.stdout).groups()
    assert (status, rows) == ("succeeded", "3")
    steps = _task_runs(stack, run_id)
    assert steps["count"][0] == "Succeeded" and steps["call"] == ("Succeeded", ["count"]) and "onExit" in steps
    with stack.client() as client:
        (sub,) = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[uuid.UUID(run_id)])))
        assert client.read_task_run(sub.parent_task_run_id).task_inputs["__parents__"], sub
        assert sub.name.startswith("sdk-child-") and sub.state.is_completed()
        count_run = next(r for r in client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[uuid.UUID(run_id)]))) if r.name == "count")
        logs = client.read_logs(log_filter=LogFilter(task_run_id=LogFilterTaskRunId(any_=[count_run.id])))
    assert any("counting '1 2 3'" in log.message for log in logs), [log.message for log in logs]
