"""Issue 10 item 6: a run of a DAG with a literal SMTP password and Apprise URLs (one that
works, one whose receiver fails) leaves neither in its output, report, log files, Prefect
logs or artifact; mail and alerts still go out (real aiosmtpd and HTTP receivers)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from testkit.servers import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer

SLACK = "slack://T0SECRETX/B0SECRETX/sl4ckTokenValue"
HOOK_PW, HOOK_TOKEN = "Hook-pw-77", "Qtok-88"


def test_run_output_report_logs_and_artifact_hold_no_secret(prefect_server, tmp_path):
    with SmtpServer(auth=("LOGIN", "PLAIN")) as mailbox, HttpReceiver() as ok, HttpReceiver(status=500) as bad:
        good_url = f"json://bot:{HOOK_PW}@{ok.host}:{ok.port}/hook?token={HOOK_TOKEN}"
        bad_url = f"json://bot:{HOOK_PW}@{bad.host}:{bad.port}/hook?token={HOOK_TOKEN}"
        (tmp_path / "dag.yaml").write_text(textwrap.dedent(f"""\
            name: secretive
            env:
              - ALERT_URL: {SLACK}
            smtp:
              host: "{mailbox.host}"
              port: "{mailbox.port}"
              username: {SMTP_USER}
              password: "{SMTP_PASSWORD}"
            mailOn: {{failure: true}}
            errorMail: {{from: f@example.com, to: ops@example.com, prefix: "[ERR]"}}
            steps:
              - name: boom
                command: sh -c 'exit 3'
            """))
        done = subprocess.run(
            [sys.executable, "-m", "flowport.cli", "run", "dag.yaml", "--logs", "--report", "report.json",
             "--notify", good_url, "--notify", bad_url],
            cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert done.returncode == 1, done.stdout + done.stderr
        [mail] = mailbox.wait_for(1, timeout=15)
        [alert] = ok.wait_for(1, timeout=15)
        bad.wait_for(1, timeout=15)
    assert mail.user == SMTP_USER and mail.message["Subject"] == "[ERR] secretive (failed)"
    assert alert.json()["title"] == "secretive: failed"
    assert "alert to json://bot:****@" in done.stderr + done.stdout  # the failed alert is reported

    report = json.loads((tmp_path / "report.json").read_text())
    seen = [done.stdout, done.stderr, json.dumps(report)]
    seen += [p.read_text(errors="replace") for p in Path(report["log_dir"]).rglob("*") if p.is_file()]
    seen += _prefect_logs_and_artifacts(report["run_id"])
    secrets = [SMTP_PASSWORD, HOOK_PW, HOOK_TOKEN, "sl4ckTokenValue", "T0SECRETX"]
    for text in seen:
        for secret in secrets:
            assert secret not in text, (secret, text[:2000])


def _prefect_logs_and_artifacts(run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (ArtifactFilter, ArtifactFilterFlowRunId, LogFilter,
                                                LogFilterFlowRunId)

    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[uuid.UUID(run_id)])))
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(run_id)])))
    assert arts, "the run published its artifact"
    return ["\n".join(log.message for log in logs), *(str(a.data) for a in arts)]
