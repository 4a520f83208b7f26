"""Dagu mail and `--notify` alerts (Dagu and Argo) end to end: flowport runs the workflow
under Prefect, and a real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1 get
what Dagu / Apprise send."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from servers import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer, free_port

from flowport.adapter.options import RunOptions
from flowport.notifiers.policy import NotifyConfig, parse_notify_option


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(smtp):
    smtp.clear()
    return smtp


@pytest.fixture
def receiver():
    with HttpReceiver() as server:
        yield server


def smtp_block(server, auth: bool = False) -> str:
    creds = f"\n  username: {SMTP_USER}\n  password: {SMTP_PASSWORD}" if auth else ""
    return f'smtp:\n  host: "{server.host}"\n  port: "{server.port}"{creds}\n'


def test_mail_step_expands_variables_and_sends_html(run_dag, mailbox):
    report = run_dag(smtp_block(mailbox) + textwrap.dedent("""\
        steps:
          - name: status
            command: echo green
            output: STATUS
          - name: mail
            executor:
              type: mail
              config:
                from: reports@example.com
                to: [a@example.com, b@example.com]
                subject: "Report ${STATUS}"
                message: |
                  Status: ${STATUS}
                  Run: ${DAG_RUN_ID}
        """))
    assert report.status == "succeeded", report.message
    [mail] = mailbox.wait_for(1)
    assert sorted(mail.rcpt_tos) == ["a@example.com", "b@example.com"]
    assert mail.message["Subject"] == "Report green"
    body = mail.message.get_body(("html",)).get_content()
    assert f"Status: green<br />Run: {report.run_id}" in body


def test_failing_mail_step_fails_like_any_step(run_dag):
    dead = free_port()
    report = run_dag(f'smtp: {{host: "127.0.0.1", port: "{dead}"}}\n' + textwrap.dedent("""\
        steps:
          - name: mail
            executor: {type: mail, config: {from: a@x.org, to: b@x.org, subject: s, message: m}}
        handlerOn:
          failure:
            command: echo failure-handler
        """))
    assert report.status == "failed"
    assert report.node("mail").phase == "failed"
    assert "sending email failed" in report.node("mail").message
    assert report.node("onFailure").phase == "succeeded"


def test_mail_on_failure_sends_the_error_mail_after_the_handlers_with_logs(run_dag, mailbox):
    report = run_dag(smtp_block(mailbox) + textwrap.dedent("""\
        mailOn: {failure: true, success: true}
        errorMail:
          from: flowport@example.com
          to: [oncall@example.com, lead@example.com]
          prefix: "[ALERT]"
          attachLogs: true
        infoMail: {from: flowport@example.com, to: team@example.com, prefix: "[OK]"}
        steps:
          - name: extract
            command: echo extracted-rows
          - name: load
            command: sh -c 'echo loading; exit 4'
        handlerOn:
          exit:
            command: echo exit-handler
        """), name="nightly.yaml")
    assert report.status == "failed"
    [mail] = mailbox.wait_for(1)
    assert sorted(mail.rcpt_tos) == ["lead@example.com", "oncall@example.com"]
    assert mail.message["Subject"] == "[ALERT] nightly (failed)"
    attachments = {a.get_filename(): a.get_content() for a in mail.message.iter_attachments()}
    assert attachments == {"extract.out": "extracted-rows\n", "load.out": "loading\n"}
    body = mail.message.get_body(("html",)).get_content()
    assert "load" in body and "failed" in body


def test_success_sends_the_info_mail_only_with_smtp_auth(run_dag):
    with SmtpServer(auth=("LOGIN", "PLAIN")) as mailbox:
        report = run_dag(smtp_block(mailbox, auth=True) + textwrap.dedent("""\
        mailOn: {failure: true, success: true}
        errorMail: {from: f@example.com, to: err@example.com, prefix: "[ERR]"}
        infoMail: {from: f@example.com, to: info@example.com, prefix: "[INFO]"}
        steps:
          - command: "true"
        """), name="daily.yaml")
        [mail] = mailbox.wait_for(1)
    assert report.status == "succeeded"
    assert mail.rcpt_tos == ["info@example.com"]
    assert mail.message["Subject"] == "[INFO] daily (succeeded)"
    assert mail.user == SMTP_USER


def test_mail_on_error_mails_as_soon_as_the_step_fails(run_dag, mailbox):
    report = run_dag(smtp_block(mailbox) + textwrap.dedent("""\
        type: graph
        errorMail: {from: f@example.com, to: err@example.com, prefix: "[STEP]"}
        steps:
          - name: fragile
            command: "false"
            mailOnError: true
            continueOn: {failure: true}
          - name: later
            command: "true"
            depends: fragile
        """), name="watch.yaml")
    assert report.status == "partially_succeeded"
    [mail] = mailbox.wait_for(1)
    assert mail.message["Subject"] == "[STEP] watch (running)"


def test_smtp_down_never_changes_the_run_status(run_dag):
    dead = free_port()
    report = run_dag(f'smtp: {{host: "127.0.0.1", port: "{dead}"}}\n' + textwrap.dedent("""\
        mailOn: {success: true}
        infoMail: {from: f@example.com, to: info@example.com, prefix: "[INFO]"}
        steps:
          - command: "true"
        """))
    assert report.status == "succeeded"
    assert "info mail could not be sent" in (open(report.log_dir + "/run.log").read())


def test_smtp_credentials_from_env_are_never_printed(tmp_path, mailbox):
    dag = tmp_path / "dag.yaml"
    dag.write_text(textwrap.dedent(f"""\
        smtp: {{host: "{mailbox.host}", port: "{mailbox.port}", username: me, password: "${{SMTP_SECRET}}"}}
        steps:
          - command: "true"
        """))
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "plan", str(dag), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mail"]["smtp"]["password"] == "***"


# ------------------------------------------------------------------ --notify (Apprise hooks)


def test_notify_alert_carries_status_failed_nodes_and_run_url(prefect_server, tmp_path, receiver):
    from flowport.adapter import run
    from flowport.translators import load

    dag = tmp_path / "alerting.yaml"
    dag.write_text("steps:\n  - name: boom\n    command: 'false'\n")
    rule = parse_notify_option(receiver.url())
    report = run(load(dag), options=RunOptions(notify=NotifyConfig(rules=(rule,))))
    assert report.status == "failed"
    [request] = receiver.wait_for(1, timeout=15)
    payload = request.json()
    assert payload["title"] == "alerting: failed"
    assert "Failed nodes: boom" in payload["message"]
    assert f"/runs/flow-run/{report.run_id}" in payload["message"]


def test_notify_follows_the_events_asked_for(prefect_server, tmp_path, receiver):
    from flowport.adapter import run
    from flowport.translators import load

    dag = tmp_path / "fine.yaml"
    dag.write_text("steps:\n  - command: 'true'\n")
    failure_only = parse_notify_option(receiver.url(path="/failure"))
    on_success = parse_notify_option(receiver.url(path="/success") + " on=success")
    report = run(load(dag), options=RunOptions(notify=NotifyConfig(rules=(failure_only, on_success))))
    assert report.status == "succeeded"
    [request] = receiver.wait_for(1, timeout=15)
    assert request.path == "/success"
    assert request.json()["title"] == "fine: succeeded"


def test_notify_from_the_cli(prefect_server, tmp_path, receiver):
    (tmp_path / "dag.yaml").write_text("steps:\n  - command: 'false'\n")
    done = subprocess.run(
        [sys.executable, "-m", "flowport.cli", "run", "dag.yaml", "--no-logs", "--notify", receiver.url()],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    [request] = receiver.wait_for(1, timeout=15)
    assert request.json()["title"] == "dag: failed"


ARGO_FAILING = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: argo-alert-
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c, "exit 2"]
"""


def test_notify_works_for_an_argo_workflow_in_argo_words(prefect_server, tmp_path, receiver, docker_engine):
    (tmp_path / "wf.yaml").write_text(ARGO_FAILING)
    done = subprocess.run(
        [sys.executable, "-m", "flowport.cli", "run", "wf.yaml", "--no-logs", "--notify", receiver.url()],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    [request] = receiver.wait_for(1, timeout=15)
    payload = request.json()
    assert payload["title"].startswith("argo-alert-") and payload["title"].endswith(": Failed")
    assert "Status: Failed" in payload["message"]


def test_deployed_flow_alerts_from_the_hosts_config_file(prefect_server, tmp_path, receiver, monkeypatch):
    # what a worker runs: the static flow, the YAML as a parameter, alerts from the
    # flowport config file of the host that runs it
    from flowport.cli.entry import run_workflow

    config = tmp_path / "config.yaml"
    config.write_text(f"notify:\n  rules:\n    - url: {receiver.url()}\n      on: [failure]\n")
    monkeypatch.setenv("FLOWPORT_CONFIG", str(config))
    state = run_workflow(source="name: deployed\nsteps:\n  - name: bad\n    command: 'false'\n",
                         path=str(tmp_path / "deployed.yaml"), return_state=True)
    assert state.is_failed()
    [request] = receiver.wait_for(1, timeout=15)
    assert request.json()["title"] == "deployed: failed"
    assert "Failed nodes: bad" in request.json()["message"]
