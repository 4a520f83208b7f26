"""Argo `valueFrom.secretKeyRef` / `configMapKeyRef` and `envFrom` on the Docker Engine, read
from the Prefect Secret blocks and Variables that `flowport secrets import` makes of the
Kubernetes manifests; the secret's value reaches the container and no log or report."""

from __future__ import annotations

import json
import textwrap

import pytest
from testkit.reports import all_log_files_text

pytestmark = pytest.mark.usefixtures("docker_engine")

MANIFEST = """\
apiVersion: v1
kind: Secret
metadata: {name: argo-db}
data: {password: czNjcjN0LWFyZ28tNzc=}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argo.settings}
data: {region: eu-north-1, tier: gold}
"""

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sec-}
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c]
        args: ['echo "pw=$DB_PASSWORD region=$CFG_region tier=$CFG_tier opt=[$NOPE]"; test "$DB_PASSWORD" = s3cr3t-argo-77']
        env:
          - name: DB_PASSWORD
            valueFrom: {secretKeyRef: {name: argo-db, key: password}}
          - name: NOPE
            valueFrom: {secretKeyRef: {name: absent, key: x, optional: true}}
        envFrom:
          - configMapRef: {name: argo.settings}
            prefix: CFG_
"""


def test_secret_and_configmap_env_reach_the_container_and_no_log(prefect_server, run_dag, tmp_path):
    from flowport.cli.k8s_import import import_objects, read_objects

    (tmp_path / "k8s.yaml").write_text(MANIFEST)
    import_objects(read_objects(tmp_path / "k8s.yaml"))
    report = run_dag(WORKFLOW, name="sec.yaml")
    assert report.status == "Succeeded", report.message
    logs = all_log_files_text(report.log_dir)
    assert "pw=******* region=eu-north-1 tier=gold opt=[]" in logs
    assert "s3cr3t-argo-77" not in logs + json.dumps(report.to_dict())


def test_a_missing_secret_errors_the_node_before_it_starts(prefect_server, run_dag):
    missing = WORKFLOW.replace("name: argo-db, key: password", "name: argo-db, key: nokey")
    report = run_dag(missing, name="missing.yaml")
    assert report.status == "Error"
    node = next(n for n in report.nodes if n.template == "main")
    assert node.phase == "Error" and node.message == "couldn't find key nokey in Secret argo-db"
    gone = run_dag(textwrap.dedent(WORKFLOW).replace("name: argo-db, key: password", "name: never-made, key: p"),
                   name="gone.yaml")
    node = next(n for n in gone.nodes if n.template == "main")
    assert node.message.startswith('secret "never-made" not found (the Prefect Secret block never-made')


VOLUMES = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: vol-}
spec:
  entrypoint: main
  volumes:
    - name: creds
      secret: {secretName: argo-db, defaultMode: 0400}
    - name: conf
      configMap:
        name: argo.settings
        items: [{key: region, path: nested/region.txt, mode: 0444}]
    - name: maybe
      secret: {secretName: not-there, optional: true}
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c]
        args:
          - >-
            stat -c '%a %n' /etc/creds/password /etc/conf/nested/region.txt;
            ls /etc/maybe | wc -l;
            echo "pw=$(cat /etc/creds/password) region=$(cat /etc/conf/nested/region.txt)";
            test "$(cat /etc/creds/password)" = s3cr3t-argo-77 && ! test -e /etc/conf/tier
        volumeMounts:
          - {name: creds, mountPath: /etc/creds}
          - {name: conf, mountPath: /etc/conf}
          - {name: maybe, mountPath: /etc/maybe}
"""


def test_secret_and_configmap_volumes_are_files_with_their_modes(prefect_server, run_dag, tmp_path):
    from flowport.cli.k8s_import import import_objects, read_objects

    (tmp_path / "k8s.yaml").write_text(MANIFEST)
    import_objects(read_objects(tmp_path / "k8s.yaml"))
    report = run_dag(VOLUMES, name="vol.yaml")
    assert report.status == "Succeeded", report.message
    logs = all_log_files_text(report.log_dir)
    assert "400 /etc/creds/password" in logs and "444 /etc/conf/nested/region.txt" in logs
    assert "pw=******* region=eu-north-1" in logs and "s3cr3t-argo-77" not in logs
    missing = run_dag(VOLUMES.replace("optional: true", "optional: false"), name="missing-vol.yaml")
    node = next(n for n in missing.nodes if n.template == "main")
    assert node.phase == "Error" and node.message.startswith('secret "not-there" not found')


def test_image_pull_secrets_give_the_pull_its_registry_credentials(prefect_server, run_dag, tmp_path):
    """A registry on 127.0.0.1 (the Engine trusts loopback registries over HTTP) that asks
    for Basic credentials: the pull of the workflow's image carries those of the
    `imagePullSecrets` Secret (a kubernetes.io/dockerconfigjson one, imported)."""
    import base64

    from testkit.servers import HttpReceiver

    from flowport.cli.k8s_import import import_objects, read_objects

    def registry(request):
        headers = {"Docker-Distribution-API-Version": "registry/2.0"}
        if "Authorization" not in request.headers:
            return 401, {**headers, "WWW-Authenticate": 'Basic realm="flowport-test"'}, b""
        return 404, {**headers, "Content-Type": "application/json"}, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'

    with HttpReceiver(respond=registry) as receiver:
        server = f"127.0.0.1:{receiver.port}"
        config = json.dumps({"auths": {server: {"auth": base64.b64encode(b"robot:pull-t0ken-42").decode()}}})
        (tmp_path / "regcred.yaml").write_text(textwrap.dedent(f"""\
            apiVersion: v1
            kind: Secret
            type: kubernetes.io/dockerconfigjson
            metadata: {{name: regcred}}
            data: {{.dockerconfigjson: {base64.b64encode(config.encode()).decode()}}}
            """))
        import_objects(read_objects(tmp_path / "regcred.yaml"))
        report = run_dag(textwrap.dedent(f"""\
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata: {{generateName: pull-}}
            spec:
              entrypoint: main
              imagePullSecrets: [{{name: regcred}}]
              templates:
                - name: main
                  container: {{image: "{server}/team/private:1.0", command: [true]}}
            """), name="pull.yaml")
        sent = {r.headers.get("Authorization") for r in receiver.requests}
    assert "Basic " + base64.b64encode(b"robot:pull-t0ken-42").decode() in sent
    node = next(n for n in report.nodes if n.template == "main")
    assert node.phase == "Error" and "could not be pulled" in node.message
    assert "pull-t0ken-42" not in json.dumps(report.to_dict())


def test_parameters_from_a_configmap_key(prefect_server, run_dag, tmp_path):
    from flowport.cli.k8s_import import import_objects, read_objects

    (tmp_path / "k8s.yaml").write_text(MANIFEST)
    import_objects(read_objects(tmp_path / "k8s.yaml"))
    workflow = textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: cm-}
        spec:
          entrypoint: main
          arguments:
            parameters:
              - name: region
                valueFrom: {configMapKeyRef: {name: argo.settings, key: region}}
          templates:
            - name: main
              inputs:
                parameters:
                  - {name: tier, valueFrom: {configMapKeyRef: {name: argo.settings, key: tier}}}
                  - {name: zone, valueFrom: {configMapKeyRef: {name: argo.settings, key: zone}, default: z1}}
              container:
                image: busybox
                command: [echo, "region={{workflow.parameters.region}} tier={{inputs.parameters.tier}} zone={{inputs.parameters.zone}}"]
        """)
    report = run_dag(workflow, name="cm.yaml")
    assert report.status == "Succeeded", report.message
    logs = all_log_files_text(report.log_dir)
    assert "region=eu-north-1 tier=gold zone=z1" in logs
    missing = run_dag(workflow.replace("key: tier}", "key: nope}"), name="cm-missing.yaml")
    node = next(n for n in missing.nodes if n.template == "main")
    assert node.phase == "Error" and "ConfigMap 'argo.settings' does not have the key 'nope'" in node.message
