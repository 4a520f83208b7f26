"""Dagu container steps end to end: flowport runs the DAG under Prefect on a real Docker
Engine (local stand-in images, nothing pulled) and nothing of the run is left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit.procs import wait_until
from testkit.reports import phases

pytestmark = pytest.mark.usefixtures("docker_engine")


def run_containers(run_id: str) -> list[dict]:
    from flowport.adapter.runners.docker import shared_client

    return shared_client().api.containers(all=True, filters={"label": [f"flowport.run-id={run_id}"]})


def node(report, name: str):
    return next(n for n in report.nodes if n.name == name)


def test_docker_executor_step_output_env_and_streams(run_dag, tmp_path):
    report = run_dag(
        """
        env:
          - GREETING: hello
        params: WHO=world
        steps:
          - name: greet
            executor:
              type: docker
              config:
                image: busybox
                autoRemove: true
            command: sh -c 'echo "$GREETING $WHO from $HOME"; echo to-stderr >&2'
            output: GREETED
          - name: use
            command: sh -c 'echo "$GREETED" > greeted.txt'
        """
    )
    assert report.status == "succeeded", report.message
    # stdout alone is the output; the host's HOME does not leak into the container
    assert (tmp_path / "greeted.txt").read_text() == "hello world from /root\n"
    logs = Path(report.log_dir)
    assert "to-stderr" in (logs / "greet.err").read_text()
    assert "to-stderr" not in (logs / "greet.out").read_text()
    assert run_containers(report.run_id) == []  # autoRemove


def test_exit_code_fails_the_step_and_runs_the_failure_handler(run_dag):
    report = run_dag(
        """
        type: graph
        steps:
          - name: bad
            container: {image: busybox}
            command: sh -c 'exit 3'
        handlerOn:
          failure:
            container: {image: alpine}
            command: echo failure-in-container
        """
    )
    assert report.status == "failed"
    assert node(report, "bad").exit_code == 3
    assert phases(report)["onFailure"] == "succeeded"
    assert run_containers(report.run_id) == []


def test_dag_level_container_runs_every_step_by_exec_and_is_removed(run_dag, tmp_path):
    (tmp_path / "data").mkdir()
    report = run_dag(
        """
        container:
          image: alpine
          volumes: ["./data:/data"]
          env:
            - BASE=api
            - HOST=${BASE}.internal
        steps:
          - name: write
            command: sh -c 'echo "$HOST" > /data/host.txt; hostname > /data/first'
          - name: again
            command: sh -c 'hostname > /data/second'
        handlerOn:
          exit:
            command: sh -c 'hostname > /data/handler'
        """
    )
    assert report.status == "succeeded", report.message
    data = tmp_path / "data"
    assert (data / "host.txt").read_text() == "api.internal\n"
    # one container for the whole run, handlers included
    assert (data / "first").read_text() == (data / "second").read_text() == (data / "handler").read_text()
    assert run_containers(report.run_id) == []


def test_step_timeout_stops_the_container(run_dag):
    started = time.monotonic()
    report = run_dag(
        """
        maxCleanUpTimeSec: 1
        steps:
          - name: slow
            timeoutSec: 1
            container: {image: busybox}
            command: sleep 30
        """
    )
    assert time.monotonic() - started < 20
    assert report.status == "failed"
    assert node(report, "slow").exit_code == 124
    assert run_containers(report.run_id) == []


def test_kept_container_stays_until_cleanup(run_dag, tmp_path):
    report = run_dag(
        """
        steps:
          - name: kept
            executor: {type: docker, config: {image: busybox}}
            command: echo kept
        """
    )
    assert report.status == "succeeded"
    assert len(run_containers(report.run_id)) == 1  # Dagu's executor keeps it (autoRemove: false)
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "cleanup", "--run-id", report.run_id],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 container(s) removed" in done.stdout
    assert run_containers(report.run_id) == []


def test_twenty_parallel_container_steps(run_dag):
    steps = "\n".join(
        f"  - name: s{i}\n    container: {{image: busybox}}\n    command: echo {i}" for i in range(20)
    )
    report = run_dag(f"type: graph\nsteps:\n{steps}\n")
    assert report.status == "succeeded", report.message
    assert set(phases(report).values()) == {"succeeded"}
    assert run_containers(report.run_id) == []


def _flowport_run(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    (tmp_path / "dag.yaml").write_text(text)
    return subprocess.Popen(
        [sys.executable, "-m", "flowport.cli", "run", "dag.yaml", "--report", "report.json", "--no-logs"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})},
    )


def test_daemon_down_is_a_step_failure_and_handlers_still_run(prefect_server, tmp_path):
    proc = _flowport_run(tmp_path, """
steps:
  - name: boxed
    container: {image: busybox}
    command: echo never
handlerOn:
  failure:
    command: echo failure > failure.txt
  exit:
    command: echo exit > exit.txt
""", env={"DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"})
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    report = json.loads((tmp_path / "report.json").read_text())
    boxed = next(n for n in report["nodes"] if n["name"] == "boxed")
    assert boxed["phase"] == "failed"
    assert "unreachable" in boxed["message"]
    assert (tmp_path / "failure.txt").read_text() == "failure\n"
    assert (tmp_path / "exit.txt").read_text() == "exit\n"


@pytest.mark.parametrize("dag_level", [False, True], ids=["step-container", "dag-container"])
def test_sigterm_stops_and_removes_every_container_before_the_handlers(prefect_server, tmp_path, dag_level):
    # handlers run in the DAG container too: it sees tmp_path at the same path
    container = f"container: {{image: busybox, volumes: ['{tmp_path}:{tmp_path}']}}\n" if dag_level else ""
    step_container = "" if dag_level else "    container: {image: busybox}\n"
    proc = _flowport_run(tmp_path, f"""
maxCleanUpTimeSec: 2
type: graph
{container}steps:
  - name: a
{step_container}    command: sh -c 'echo "$DAG_RUN_ID"; sleep 60'
    output: A
  - name: b
{step_container}    command: sleep 60
handlerOn:
  cancel:
    command: sh -c 'echo "cancel:$DAG_RUN_STATUS" >> {tmp_path}/handlers.txt'
  exit:
    command: sh -c 'echo "exit:$DAG_RUN_STATUS" >> {tmp_path}/handlers.txt'
""")
    from flowport.adapter.runners.docker import shared_client

    api = shared_client().api

    def started() -> list[dict]:
        running = api.containers(filters={"label": ["flowport.managed=true", "flowport.workflow=dag"]})
        return running if len(running) >= (1 if dag_level else 2) else []

    try:
        running = wait_until(started, 60, "the containers never started", proc=proc, interval=0.2)
    except AssertionError:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
        raise
    run_id = running[0]["Labels"]["flowport.run-id"]
    time.sleep(0.5)  # let both exec / containers be inside `sleep`
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 1, output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "canceled"
    assert (tmp_path / "handlers.txt").read_text() == "cancel:canceled\nexit:canceled\n"
    assert run_containers(run_id) == []


def test_v3_docker_run_action_with_structured_output(run_dag, tmp_path):
    report = run_dag(
        """
        type: graph
        steps:
          - id: probe
            action: docker.run
            with:
              image: alpine
              auto_remove: true
              command: ["sh", "-c", "echo os: alpine-$(cat /etc/alpine-release)"]
            output:
              os: {from: stdout, decode: yaml, select: .os}
          - id: use
            depends: [probe]
            run: echo "${probe.output.os}" > os.txt
        """
    )
    assert report.status == "succeeded", report.message
    assert (tmp_path / "os.txt").read_text().startswith("alpine-")
    assert run_containers(report.run_id) == []


def test_docker_executor_volumes_and_host_config_reach_the_engine(run_dag, tmp_path):
    """Issue 10 item 7: the executor's `volumes` shortcut (relative host paths from the DAG's
    folder, a bare name is a named volume) and HostConfig keys as Docker names them."""
    from flowport.adapter.runners.docker import remove_container, shared_client

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("from-host\n")
    volume = f"flowport-test-{os.getpid()}"
    report = run_dag(
        f"""
        steps:
          - name: boxed
            executor:
              type: docker
              config:
                image: busybox
                volumes: ["./data:/data:ro", "{volume}:/cache"]
                host:
                  CapDrop: [ALL]
                  CapAdd: [CHOWN]
                  ShmSize: 64m
                  Memory: 268435456
                  NanoCpus: 500000000
                  SecurityOpt: [no-new-privileges]
                  ReadonlyRootfs: true
                  Tmpfs: {{/scratch: "rw,size=1m"}}
                  Ulimits: [{{name: nofile, soft: 1024, hard: 2048}}]
                  ExtraHosts: ["db.test:10.1.2.3"]
                  Resources: {{PidsLimit: 64}}
            command: sh -c 'cat /data/in.txt; df -k /dev/shm | tail -1; ulimit -n; grep db.test /etc/hosts; echo x > /cache/x && echo cached; touch /ro 2>/dev/null || echo read-only'
          - name: step_container
            container: {{image: busybox, volumes: ["./data:/in"]}}
            command: cat /in/in.txt
            output: VIA_CONTAINER
        """
    )
    try:
        assert report.status == "succeeded", report.message
        out = (Path(report.log_dir) / "boxed.out").read_text().splitlines()
        assert out[0] == "from-host"
        assert out[1].split()[1] == "65536"  # 64 MiB of /dev/shm
        assert out[2:] == ["1024", "10.1.2.3\tdb.test", "cached", "read-only"]
        assert node(report, "step_container").outputs["VIA_CONTAINER"] == "from-host"
        [kept] = run_containers(report.run_id)  # the executor keeps its container (autoRemove: false)
        host = shared_client().api.inspect_container(kept["Id"])["HostConfig"]
        assert host["CapDrop"] == ["ALL"] and host["CapAdd"] == ["CHOWN"]
        assert host["ShmSize"] == 64 * 1024 * 1024
        assert host["Memory"] == 268435456 and host["NanoCpus"] == 500000000
        assert host["SecurityOpt"] == ["no-new-privileges"] and host["ReadonlyRootfs"] is True
        assert host["Tmpfs"] == {"/scratch": "rw,size=1m"} and host["PidsLimit"] == 64
        assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
        assert host["Binds"] == [f"{tmp_path / 'data'}:/data:ro", f"{volume}:/cache"]
    finally:
        for c in run_containers(report.run_id):
            remove_container(c["Id"])
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)
