"""Argo volumes on the real Docker Engine (docs/argo.md, "Volumes"): claims shared by steps
and removed as volumeClaimGC says, emptyDir per pod, hostPath binds with readOnly and subPath,
an existing claimName that outlives the run, and a stopped run that leaves nothing behind."""

from __future__ import annotations

import uuid

import pytest

from test_argo_run import _stop_when_running
from testkit.reports import by_display, log_text
from testkit.workflows import argo_workflow

pytestmark = pytest.mark.usefixtures("docker_engine")


def argo(body: str) -> str:
    return argo_workflow(body, "{generateName: vol-}")


@pytest.fixture
def run_wf(prefect_server, tmp_path):
    """run_wf(yaml_text, **run options) -> RunReport."""
    from flowport.adapter import run
    from flowport.adapter.options import RunOptions
    from flowport.translators import load

    def _run(text: str, **options):
        path = tmp_path / f"wf-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(text)
        return run(load(path), None, RunOptions(**options))

    return _run


def volumes_of(run_id: str) -> list[str]:
    from flowport.adapter.runners.volumes import run_volume_names

    return run_volume_names(run_id)


def containers_of(run_id: str) -> list[dict]:
    from flowport.adapter.runners.docker import shared_client

    return shared_client().api.containers(all=True, filters={"label": [f"flowport.run-id={run_id}"]})


@pytest.fixture
def drop_volumes():
    """Names of volumes a test leaves on purpose; removed afterwards."""
    from flowport.adapter.runners.volumes import remove_volume

    names: list[str] = []
    yield names
    for name in names:
        remove_volume(name)


def test_claim_shared_by_three_steps_and_the_exit_handler_then_removed(run_wf):
    r = run_wf(argo("""
        entrypoint: main
        onExit: last
        volumeClaimTemplates:
        - metadata: {name: work}
          spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
        templateDefaults:
          container:
            volumeMounts: [{name: work, mountPath: /work}]
        templates:
        - name: main
          steps:
          - [{name: write, template: write}]
          - [{name: append, template: append}]
          - [{name: read, template: read}]
        - name: write
          container: {image: busybox, command: [sh, -c], args: ["echo one > /work/f"]}
        - name: append
          container: {image: busybox, command: [sh, -c], args: ["echo two >> /work/f"]}
        - name: read
          script:
            image: busybox
            command: [sh]
            source: "tr '\\\\n' + < /data/f"
            volumeMounts: [{name: work, mountPath: /data, readOnly: true}]
        - name: last
          container: {image: busybox, command: [sh, -c], args: ["echo exit sees $(cat /work/f | wc -l) lines"]}
        """))
    n = by_display(r)
    assert r.status == "Succeeded", r.message
    assert n["read"].outputs["result"] == "one+two+"
    assert "exit sees 2 lines" in log_text(r)
    assert volumes_of(r.run_id) == [] and containers_of(r.run_id) == []


def test_empty_dir_is_fresh_per_pod_shared_within_it_by_subpath_and_removed(run_wf):
    r = run_wf(argo("""
        entrypoint: main
        volumes: [{name: scratch, emptyDir: {}}]
        templates:
        - name: main
          steps:
          - [{name: first, template: use}]
          - [{name: second, template: use}]
        - name: use
          container:
            image: busybox
            command: [sh, -c]
            args: ["ls /whole; echo x > /part/f; cat /whole/sub/f"]
            volumeMounts:
            - {name: scratch, mountPath: /whole}
            - {name: scratch, mountPath: /part, subPath: sub}
        """))
    n = by_display(r)
    assert r.status == "Succeeded", r.message
    # the second pod starts with an empty volume: `ls` prints only the subPath folder
    assert n["first"].outputs["result"] == "sub\nx" and n["second"].outputs["result"] == "sub\nx"
    assert volumes_of(r.run_id) == [] and containers_of(r.run_id) == []


def test_host_path_bind_read_only_sub_path_and_type_check(run_wf, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("hello\n")
    r = run_wf(argo(f"""
        entrypoint: main
        volumes:
        - {{name: data, hostPath: {{path: "{data}", type: Directory}}}}
        - {{name: made, hostPath: {{path: "{tmp_path / 'made'}", type: DirectoryOrCreate}}}}
        templates:
        - name: main
          container:
            image: busybox
            command: [sh, -c]
            args: ["cat /ro/in.txt; touch /ro/new && echo writable || echo read-only; echo out > /out/r; echo m > /m/f"]
            volumeMounts:
            - {{name: data, mountPath: /ro, readOnly: true}}
            - {{name: data, mountPath: /out, subPath: results/today}}
            - {{name: made, mountPath: /m}}
        """))
    assert r.status == "Succeeded", r.message
    assert r.nodes[0].outputs["result"] == "hello\nread-only"
    assert not (data / "new").exists()
    assert (data / "results" / "today" / "r").read_text() == "out\n"
    assert (tmp_path / "made" / "f").read_text() == "m\n"
    bad = run_wf(argo(f"""
        entrypoint: main
        volumes: [{{name: f, hostPath: {{path: "{data}", type: File}}}}]
        templates:
        - name: main
          container: {{image: busybox, command: [true], volumeMounts: [{{name: f, mountPath: /f}}]}}
        """))
    assert bad.status == "Error" and bad.nodes[0].phase == "Error"
    assert bad.nodes[0].message == f"hostPath type check failed: {data} is not a file"


def test_claim_name_volume_outlives_runs_and_cleanup_leaves_it(run_wf, drop_volumes):
    from flowport.adapter.runners.volumes import cleanup_volumes

    claim = f"fp-test-{uuid.uuid4().hex[:10]}"
    drop_volumes.append(claim)
    spec = """
        entrypoint: main
        arguments: {parameters: [{name: claim, value: %s}]}
        volumes: [{name: shared, persistentVolumeClaim: {claimName: "{{workflow.parameters.claim}}"}}]
        templates:
        - name: main
          container:
            image: busybox
            command: [sh, -c]
            args: ["%s"]
            volumeMounts: [{name: shared, mountPath: /s}]
        """
    first = run_wf(argo(spec % (claim, "echo kept > /s/f")))
    assert first.status == "Succeeded", first.message
    second = run_wf(argo(spec % (claim, "cat /s/f")))
    assert second.status == "Succeeded" and second.nodes[0].outputs["result"] == "kept"
    cleanup_volumes(first.run_id)
    cleanup_volumes(second.run_id)
    from flowport.adapter.runners.docker import shared_client

    assert shared_client().api.inspect_volume(claim)["Name"] == claim


def test_claims_kept_after_a_failure_by_default_and_with_keep_volumes(run_wf, drop_volumes):
    from flowport.adapter.runners.volumes import cleanup_volumes

    spec = """
        entrypoint: main
        volumeClaimGC: {strategy: %s}
        volumeClaimTemplates: [{metadata: {name: work}}]
        templates:
        - name: main
          container:
            image: busybox
            command: [sh, -c]
            args: ["echo data > /w/f; exit %d"]
            volumeMounts: [{name: work, mountPath: /w}]
        """
    failed = run_wf(argo(spec % ("OnWorkflowSuccess", 1)))  # Argo's default: kept after a failure
    kept = run_wf(argo(spec % ("OnWorkflowCompletion", 0)), keep_volumes=True)
    assert failed.status == "Failed" and kept.status == "Succeeded"
    for r in (failed, kept):
        names = volumes_of(r.run_id)
        drop_volumes.extend(names)
        assert len(names) == 1 and names[0].startswith("vol-work-")
    # a stop removes them whatever the strategy: test_stop_leaves_no_volume_and_no_container
    names = volumes_of(failed.run_id)
    assert cleanup_volumes(failed.run_id) == names and volumes_of(failed.run_id) == []


def test_stop_leaves_no_volume_and_no_container(run_wf):
    _stop_when_running("A", "Stop")
    r = run_wf(argo("""
        entrypoint: main
        onExit: exit
        volumeClaimTemplates: [{metadata: {name: work}}]
        volumes: [{name: scratch, emptyDir: {}}]
        templates:
        - name: main
          steps: [[{name: A, template: sleep}]]
        - name: sleep
          container:
            image: busybox
            command: [sh, -c, "trap 'exit 143' TERM; sleep 30 & wait"]
            volumeMounts: [{name: work, mountPath: /w}, {name: scratch, mountPath: /s}]
        - name: exit
          container:
            image: busybox
            command: [sh, -c, "echo exit > /w/f"]
            volumeMounts: [{name: work, mountPath: /w}]
        """))
    n = by_display(r)
    assert r.status == "Failed" and r.message == "Stopped with strategy 'Stop'"
    assert n["onExit"].phase == "Succeeded"
    assert volumes_of(r.run_id) == [] and containers_of(r.run_id) == []


def test_killed_flowport_run_leaves_no_volume_after_the_orphan_sweep(prefect_server, tmp_path):
    """SIGKILL of `flowport run`: nothing in the process removes its volumes; the sweep of the
    next run / `flowport cleanup` (orphans.end_orphans) does, by label."""
    import os
    import subprocess
    import sys

    from testkit.procs import wait_until

    from flowport.adapter.orphans import end_orphans
    from flowport.adapter.runners.docker import shared_client

    name = f"vol-killed-{uuid.uuid4().hex[:6]}"
    wf = tmp_path / "wf.yaml"
    wf.write_text(argo("""
        entrypoint: main
        volumeClaimTemplates: [{metadata: {name: work}}]
        volumes: [{name: scratch, emptyDir: {}}]
        templates:
        - name: main
          container:
            image: busybox
            command: [sleep, "30"]
            volumeMounts: [{name: work, mountPath: /w}, {name: scratch, mountPath: /s}]
        """).replace("generateName: vol-", f"name: {name}"))
    api = shared_client().api
    label = {"label": [f"flowport.workflow={name}"]}
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    proc = subprocess.Popen([sys.executable, "-m", "flowport.cli", "run", str(wf), "--no-logs"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: api.containers(filters=label), 60, "the step's container", proc=proc)
        assert len(api.volumes(filters=label)["Volumes"]) == 2  # the claim and the pod's emptyDir
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    end_orphans()
    assert api.containers(all=True, filters=label) == []
    assert (api.volumes(filters=label)["Volumes"] or []) == []
