"""Argo artifacts end to end on a real Docker Engine (local stand-in images, nothing pulled),
under Prefect: step→step in steps and dag, archive none/tgz/zip, raw and http inputs (a real
HTTP server on 127.0.0.1), optional outputs, a failed step's outputs, globalName read by
the exit handler, and an artifact through a real S3-compatible server process (moto_server)."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap

import pytest
from testkit.reports import by_display, log_text
from testkit.servers import HttpReceiver, S3Server
from testkit.workflows import argo_workflow

pytestmark = pytest.mark.usefixtures("docker_engine")


def argo(spec: str) -> str:
    return argo_workflow(spec, "{generateName: art-}")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A flowport home of the test's own: the embedded local repository lives there."""
    monkeypatch.setenv("FLOWPORT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLOWPORT_CONFIG", raising=False)
    return tmp_path / "home"


def test_steps_pass_a_file_as_tgz_keyed_as_argo(run_dag, home):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: gen, template: gen}
          - - name: use
              template: use
              arguments: {artifacts: [{name: msg, from: "{{steps.gen.outputs.artifacts.out}}"}]}
        - name: gen
          container: {image: busybox, command: [sh, -c], args: ["echo -n hello > /tmp/out.txt"]}
          outputs: {artifacts: [{name: out, path: /tmp/out.txt}]}
        - name: use
          inputs: {artifacts: [{name: msg, path: /deep/new/dir/msg.txt, mode: 0700}]}
          container:
            image: busybox
            command: [sh, -c]
            args: ["cat {{inputs.artifacts.msg.path}}; echo; stat -c 'mode=%a' /deep/new/dir/msg.txt"]
        """))
    assert r.status == "Succeeded", r.message
    n = by_display(r)
    (saved,) = n["gen"].outputs["artifacts"]
    assert saved["key"] == f"{r.workflow}/{r.workflow}-gen-{saved['key'].split('-gen-')[1].split('/')[0]}/out.tgz"
    stored = home / "artifacts" / saved["key"]
    with tarfile.open(stored) as t:  # Argo's layout: one top entry, the basename
        assert t.getnames() == ["out.txt"] and t.extractfile("out.txt").read() == b"hello"
    assert saved["size"] == stored.stat().st_size
    assert "hello\nmode=700" in log_text(r)
    shown = prefect_artifacts(r.run_id)  # Prefect shows them: a table on the task run, the run's markdown
    table = next(a for a in shown if a.type == "table")
    assert table.task_run_id is not None and saved["key"] in json.dumps(table.data)
    markdown = next(a for a in shown if a.type == "markdown").data
    assert "## Artifacts" in markdown and saved["url"] in markdown


def prefect_artifacts(flow_run_id: str) -> list:
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])))


def test_dag_passes_a_folder_unarchived_and_as_zip(run_dag, home):
    r = run_dag(argo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: gen, template: gen}
            - name: use
              depends: gen
              template: use
              arguments:
                artifacts:
                - {name: tree, from: "{{tasks.gen.outputs.artifacts.tree}}"}
                - {name: zipped, from: "{{tasks.gen.outputs.artifacts.zipped}}"}
                - {name: one, from: "{{tasks.gen.outputs.artifacts.tree}}", subPath: sub/b.txt}
        - name: gen
          container: {image: busybox, command: [sh, -c], args: ["mkdir -p /d/sub && echo A > /d/a.txt && echo B > /d/sub/b.txt"]}
          outputs:
            artifacts:
            - {name: tree, path: /d, archive: {none: {}}}
            - {name: zipped, path: /d, archive: {zip: {}}}
        - name: use
          inputs:
            artifacts:
            - {name: tree, path: /in/tree}
            - {name: zipped, path: /in/zipped}
            - {name: one, path: /in/one.txt}
          container: {image: busybox, command: [sh, -c], args: ["cat /in/tree/a.txt /in/tree/sub/b.txt /in/zipped/sub/b.txt /in/one.txt"]}
        """))
    assert r.status == "Succeeded", r.message
    tree, zipped = by_display(r)["gen"].outputs["artifacts"]
    assert (home / "artifacts" / tree["key"] / "sub" / "b.txt").read_text() == "B\n"  # a tree of objects
    assert tree["key"].endswith("/d") and zipped["key"].endswith("/zipped.zip")
    assert "A\nB\nB\nB\n" in log_text(r)


def test_raw_and_http_inputs_and_an_optional_absent_one(run_dag):
    tarball = io.BytesIO()
    with tarfile.open(fileobj=tarball, mode="w:gz") as t:
        info = tarfile.TarInfo("pkg/readme")
        body = b"from a tarball"
        info.size = len(body)
        t.addfile(info, io.BytesIO(body))
    bodies = {"/plain": b"plain text", "/pkg.tgz": tarball.getvalue()}
    with HttpReceiver(respond=lambda req: (200, {}, bodies[req.path]) if req.path in bodies else (404, {}, b"")) as web:
        base = f"http://{web.host}:{web.port}"
        r = run_dag(argo(f"""
            entrypoint: use
            templates:
            - name: use
              inputs:
                artifacts:
                - {{name: raw, path: /in/raw.txt, raw: {{data: "raw {{{{workflow.name}}}}"}}}}
                - {{name: plain, path: /in/plain.txt, http: {{url: "{base}/plain"}}}}
                - {{name: pkg, path: /in/pkg, http: {{url: "{base}/pkg.tgz"}}}}
                - {{name: gone, path: /in/gone, optional: true, http: {{url: "{base}/missing"}}}}
              container: {{image: busybox, command: [sh, -c], args: ["cat /in/raw.txt; echo; cat /in/plain.txt; echo; cat /in/pkg/readme; ls /in"]}}
            """))
        missing = run_dag(argo(f"""
            entrypoint: use
            templates:
            - name: use
              inputs: {{artifacts: [{{name: gone, path: /in/gone, http: {{url: "{base}/missing"}}}}]}}
              container: {{image: busybox}}
            """))
    assert r.status == "Succeeded", r.message
    out = log_text(r)
    assert f"raw {r.workflow}\nplain text\nfrom a tarball" in out and "gone" not in out.split("from a tarball")[1]
    assert missing.status == "Error"
    assert missing.message.startswith("artifact gone failed to load: loading content from http://")
    assert "404" in missing.message


def test_failed_step_still_saves_and_optional_missing_output_is_skipped(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        onExit: report
        templates:
        - name: report
          container: {image: busybox, command: [sh, -c], args: ["echo '{{workflow.failures}}'"]}
        - name: main
          steps:
          - - {name: gen, template: gen, continueOn: {failed: true}}
          - - name: use
              template: use
              arguments: {artifacts: [{name: in, from: "{{steps.gen.outputs.artifacts.made}}"}]}
          - - {name: strict, template: strict}
        - name: gen
          container: {image: busybox, command: [sh, -c], args: ["echo partial > /tmp/made; exit 2"]}
          outputs:
            artifacts:
            - {name: made, path: /tmp/made}
            - {name: maybe, path: /tmp/never, optional: true}
            - {name: needed, path: /tmp/never-either}
        - name: use
          inputs: {artifacts: [{name: in, path: /in}]}
          container: {image: busybox, command: [cat, /in]}
        - name: strict
          container: {image: busybox}
          outputs: {artifacts: [{name: needed, path: /tmp/nope}]}
        """))
    n = by_display(r)
    assert n["gen"].phase == "Failed" and n["gen"].message == "Error (exit code 2)"  # main outranks wait
    assert [a["name"] for a in n["gen"].outputs["artifacts"]] == ["made"]
    assert n["use"].phase == "Succeeded" and "partial" in log_text(r)
    assert n["strict"].phase == "Error"
    assert n["strict"].message == "open /var/run/argo/outputs/artifacts/tmp/nope.tgz: no such file or directory; "
    assert r.status == "Failed"
    failures = json.loads(json.loads(next(line for line in log_text(r).splitlines() if line.startswith('"[{'))))
    assert {"gen", "strict"} <= {f["displayName"] for f in failures}  # workflow.failures as before
    assert not any("artifact" in f["message"] for f in failures if f["displayName"] == "gen")


def test_global_artifact_read_by_the_exit_handler_and_in_a_loop(run_dag):
    r = run_dag(argo("""
        entrypoint: main
        onExit: bye
        templates:
        - name: main
          steps:
          - - name: gen
              template: gen
              arguments: {parameters: [{name: v, value: "{{item}}"}]}
              withItems: [car, bike]
        - name: gen
          inputs: {parameters: [{name: v}]}
          container: {image: busybox, command: [sh, -c], args: ["echo have {{inputs.parameters.v}} > /r.txt"]}
          outputs:
            artifacts:
            - {name: "r-{{inputs.parameters.v}}", path: /r.txt, globalName: "g-{{inputs.parameters.v}}"}
        - name: bye
          steps:
          - - name: show
              template: show
              arguments:
                artifacts:
                - {name: a, from: "{{workflow.outputs.artifacts.g-car}}"}
                - {name: b, from: "{{workflow.outputs.artifacts.g-bike}}"}
        - name: show
          inputs: {artifacts: [{name: a, path: /a}, {name: b, path: /b}]}
          container: {image: busybox, command: [sh, -c], args: ["echo {{workflow.status}}; cat /a /b"]}
        """))
    assert r.status == "Succeeded", r.message
    assert "have car\nhave bike" in log_text(r)
    assert r.outputs["artifacts.g-car"]["name"] == "g-car" and "path" not in r.outputs["artifacts.g-car"]


def test_an_artifact_through_a_real_s3_server(run_dag, tmp_path, monkeypatch):
    with S3Server() as s3:
        s3.client().create_bucket(Bucket="flow")
        config = tmp_path / "config.yaml"
        config.write_text(textwrap.dedent(f"""
            artifactRepository:
              s3:
                endpoint: {s3.endpoint}
                bucket: flow
                insecure: true
                keyFormat: "runs/{{{{workflow.name}}}}/{{{{pod.name}}}}"
                accessKeySecret: {{name: s3-cred, key: accesskey}}
                secretKeySecret: {{name: s3-cred, key: secretkey}}
            """))
        monkeypatch.setenv("FLOWPORT_CONFIG", str(config))
        monkeypatch.setenv("S3_CRED_ACCESSKEY", S3Server.ACCESS_KEY)
        monkeypatch.setenv("S3_CRED_SECRETKEY", S3Server.SECRET_KEY)
        r = run_dag(argo("""
            entrypoint: main
            templates:
            - name: main
              steps:
              - - {name: gen, template: gen}
              - - name: use
                  template: use
                  arguments: {artifacts: [{name: in, from: "{{steps.gen.outputs.artifacts.out}}"}]}
            - name: gen
              container: {image: busybox, command: [sh, -c], args: ["echo via s3 > /o.txt"]}
              outputs:
                artifacts:
                - {name: out, path: /o.txt}
                - {name: keyed, path: /o.txt, archive: {none: {}}, s3: {key: "fixed/{{workflow.name}}.txt"}}
            - name: use
              inputs: {artifacts: [{name: in, path: /in.txt}]}
              container: {image: busybox, command: [cat, /in.txt]}
            """))
        assert r.status == "Succeeded", r.message
        keys = sorted(o["Key"] for o in s3.client().list_objects_v2(Bucket="flow")["Contents"])
        obj = s3.client().get_object(Bucket="flow", Key=f"fixed/{r.workflow}.txt")["Body"].read()
    assert "via s3" in log_text(r)
    assert keys[0] == f"fixed/{r.workflow}.txt" and obj == b"via s3\n"  # a given key is used verbatim
    assert keys[1].startswith(f"runs/{r.workflow}/{r.workflow}-gen-") and keys[1].endswith("/out.tgz")
    saved = by_display(r)["gen"].outputs["artifacts"][0]
    assert saved["repo"]["accessKeySecret"] == {"name": "s3-cred", "key": "accesskey"}
    assert S3Server.SECRET_KEY not in json.dumps(r.to_dict())
