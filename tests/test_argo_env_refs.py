"""Argo container env from Secrets and ConfigMaps: `valueFrom.secretKeyRef|configMapKeyRef`
and `envFrom` translate to EnvRefs (read at run time: integration/test_argo_secrets.py)."""

from __future__ import annotations

import textwrap

from flowport.model import EnvRef
from testkit.workflows import check_argo

SPEC = """\
entrypoint: main
templates:
  - name: main
    container:
      image: busybox
"""


def _check(tmp_path, body: str):
    """`body`: more keys of the container, at its indentation (8 spaces in the file)."""
    return check_argo(tmp_path, SPEC + textwrap.indent(textwrap.dedent(body), "      "), "{generateName: e-}")


def test_value_from_and_env_from_become_env_refs(tmp_path):
    checked = _check(tmp_path, """\
        env:
          - {name: A, value: plain}
          - name: PW
            valueFrom: {secretKeyRef: {name: db, key: password}}
          - name: REGION
            valueFrom: {configMapKeyRef: {name: settings, key: region, optional: true}}
        envFrom:
          - secretRef: {name: api}
          - configMapRef: {name: settings, optional: true}
            prefix: CFG_
""")
    assert checked.ok, checked.error().render()
    container = checked.workflow.argo.templates["main"].container
    assert container.env == (("A", "plain"),)
    assert container.env_refs == (
        EnvRef("secret", "api"), EnvRef("configMap", "settings", prefix="CFG_", optional=True),
        EnvRef("secret", "db", key="password", name="PW"),
        EnvRef("configMap", "settings", key="region", name="REGION", optional=True))


def test_bad_references_are_located(tmp_path):
    checked = _check(tmp_path, """\
        env:
          - name: PW
            valueFrom: {secretKeyRef: {name: db}}
          - name: POD
            valueFrom: {fieldRef: {fieldPath: metadata.name}}
        envFrom:
          - prefix: X_
""")
    found = {(p.mark.line, p.message, p.kind) for p in checked.problems}
    assert (12, "secretKeyRef needs `key`", "error") in found
    assert any(line == 14 and kind == "unsupported" and "fieldRef" in message for line, message, kind in found)
    assert (16, "an envFrom entry needs one of secretRef, configMapRef", "error") in found


def test_registry_credentials_are_chosen_by_the_image_registry():
    import base64

    from flowport.adapter.runners.images import auth_for, registry_of

    assert registry_of("busybox") == registry_of("library/busybox:1") == "docker.io"
    assert registry_of("ghcr.io/org/app:1") == "ghcr.io" and registry_of("localhost/x") == "localhost"
    assert registry_of("127.0.0.1:5000/team/app") == "127.0.0.1:5000"
    auths = {"https://index.docker.io/v1/": {"username": "hub", "password": "p1"},
             "ghcr.io": {"auth": base64.b64encode(b"gh:p2").decode()}}
    assert auth_for("busybox", auths) == {"username": "hub", "password": "p1",
                                          "serveraddress": "https://index.docker.io/v1/"}
    assert auth_for("ghcr.io/org/app:1", auths) == {"username": "gh", "password": "p2", "serveraddress": "ghcr.io"}
    assert auth_for("quay.io/x/y", auths) is None and auth_for("busybox", None) is None


def test_image_pull_secrets_are_read(tmp_path):
    checked = _check(tmp_path, "").workflow  # HEAD alone: no pull secrets
    assert checked.argo.image_pull_secrets == ()
    bad = check_argo(tmp_path, SPEC.replace("entrypoint: main\n", "entrypoint: main\nimagePullSecrets: [{name: regcred}, {}]\n"),
                     "{generateName: e-}", "p.yaml")
    assert [(p.mark.line, p.message) for p in bad.problems] == [(6, "an imagePullSecrets entry needs `name`")]
