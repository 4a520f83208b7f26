"""Argo `valueFrom.secretKeyRef` / `configMapKeyRef` and `envFrom` on the Docker Engine, read
from the Prefect Secret blocks and Variables that `flowport secrets import` makes of the
Kubernetes manifests; the secret's value reaches the container and no log or report."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

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
    folder = Path(report.log_dir)
    logs = "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
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
