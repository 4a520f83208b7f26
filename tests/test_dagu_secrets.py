"""Dagu `secrets:` (env, file, prefect providers) and `flowport secrets import`: values reach
the steps' environment, never a log, the report or Prefect's logs; a secret that cannot be
found fails the run before any step and runs no handler (Dagu's initErr path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowport.translators import check

SECRET_DAG = """\
secrets:
  - name: API_TOKEN
    provider: env
    key: FLOWPORT_TEST_TOKEN
  - name: DB_PASS
    provider: file
    key: pass.txt
env:
  - API_TOKEN: from-env-block
steps:
  - name: use
    command: sh -c 'echo "token=$API_TOKEN pass=$DB_PASS"; test "$API_TOKEN" = tok-9f8e7d'
handlerOn:
  exit:
    command: echo "exit sees $API_TOKEN" > exit.txt
"""


@pytest.mark.parametrize("text, where, message", [
    ("secrets:\n  - name: A\n    provider: env\nsteps: [{name: a, command: 'true'}]\n", (2, 5), "a secret needs `key`"),
    ("secrets:\n  - {name: A, provider: env, key: X}\n  - {name: A, provider: env, key: Y}\n"
     "steps: [{name: a, command: 'true'}]\n", (3, 12), "secret 'A' repeats secrets[0]"),
    ("secrets:\n  - {name: DAGU_X, provider: env, key: X}\nsteps: [{name: a, command: 'true'}]\n", (2, 12),
     "reserved DAGU_"),
    ("secrets:\n  - {name: A, provider: vault, key: a/b}\nsteps: [{name: a, command: 'true'}]\n", (2, 25),
     "not supported yet"),
    ("secrets:\n  - {name: A, provider: nope, key: a}\nsteps: [{name: a, command: 'true'}]\n", (2, 25),
     "unknown secret provider 'nope'"),
])
def test_bad_secret_entries_are_located(tmp_path, text, where, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    checked = check(path)
    assert not checked.ok
    rendered = checked.error().render()
    assert f"s.yaml:{where[0]}:{where[1]}:" in rendered and message in rendered, rendered


def test_env_and_file_secrets_reach_the_step_and_no_log_or_report(run_dag, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_TEST_TOKEN", "tok-9f8e7d")
    (tmp_path / "pass.txt").write_text("pw-55aa\n")
    report = run_dag(SECRET_DAG, name="secret.yaml")
    assert report.status == "succeeded", report.message  # the step's `test` saw the secret, not env:
    assert (tmp_path / "exit.txt").read_text() == "exit sees tok-9f8e7d\n"  # handlers get it too
    everything = json.dumps(report.to_dict())
    folder = Path(report.log_dir)
    everything += "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    assert "tok-9f8e7d" not in everything and "pw-55aa" not in everything
    assert "token=******* pass=*******" in everything


def test_a_missing_secret_fails_the_run_before_any_step_and_no_handler(run_dag, tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWPORT_TEST_TOKEN", raising=False)
    (tmp_path / "pass.txt").write_text("pw")
    report = run_dag(SECRET_DAG, name="secret.yaml")
    assert report.status == "failed"
    assert report.message == "secret API_TOKEN: environment variable 'FLOWPORT_TEST_TOKEN' is not set"
    assert {n.name: n.phase for n in report.nodes} == {"use": "not_started"}
    assert not (tmp_path / "exit.txt").exists()


def test_kubernetes_secret_imported_then_read_by_the_prefect_provider(prefect_server, run_dag, tmp_path):
    manifest = tmp_path / "k8s.yaml"
    manifest.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Secret
        metadata: {name: db-creds}
        data: {password: aHVudGVyMi14eXo=}
        stringData: {user: admin}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: app.config}
        data: {region: eu-west-1}
        """))
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "secrets", "import", str(manifest)],
                          capture_output=True, text=True, env={**os.environ, "PREFECT_API_URL": prefect_server})
    assert done.returncode == 0, done.stderr
    assert "Secret db-creds → Prefect Secret block db-creds (2 key(s))" in done.stdout
    assert "ConfigMap app.config → Prefect Variable app-config (1 key(s))" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr
    from prefect.variables import Variable

    assert Variable.get("app-config") == {"region": "eu-west-1"}
    report = run_dag("""\
        secrets:
          - {name: DB_PASSWORD, provider: prefect, key: db-creds, options: {field: password}}
          - {name: DB_USER, provider: prefect, key: db-creds, options: {field: user}}
        steps:
          - name: a
            command: sh -c 'test "$DB_PASSWORD" = hunter2-xyz && echo "user=$DB_USER pw=$DB_PASSWORD"'
        """, name="p.yaml")
    assert report.status == "succeeded", report.message
    missing = run_dag("""\
        secrets:
          - {name: X, provider: prefect, key: db-creds, options: {field: nope}}
        steps: [{name: a, command: 'true'}]
        """, name="m.yaml")
    assert missing.message == "secret X: Prefect Secret block 'db-creds' has no key 'nope'"
