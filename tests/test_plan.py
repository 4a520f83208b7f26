"""`flowport plan`: what a run and a deployment would do, complete and linear in the steps."""

from __future__ import annotations

import io

from rich.console import Console

from flowport.cli import views
from flowport.translators import load_text

MAIL_DAG = """\
name: nightly
schedule: "5 4 * * *"
smtp: {host: 127.0.0.1, port: "2525"}
mailOn: {failure: true}
errorMail: {from: ops@example.org, to: oncall@example.org}
steps:
  - name: extract
    command: ./extract.sh
    mailOnError: true
    timeoutSec: 30
handlerOn:
  exit:
    command: echo done
"""


def _plan(wf, width: int = 200) -> str:
    buf = io.StringIO()
    views.render_plan(Console(file=buf, width=width), wf)
    return buf.getvalue()


def test_dagu_plan_shows_schedule_mails_and_timeouts():
    text = _plan(load_text(MAIL_DAG, "nightly.yaml"))
    assert "schedule: 5 4 * * *" in text
    assert "mail on failure: to oncall@example.org, after the handlers" in text
    assert "via SMTP 127.0.0.1:2525" in text
    assert "error mail" in text and "timeout 30s" in text
    assert text.index("onExit") < text.index("mail on failure")  # the run mail follows the handlers


def test_argo_plan_shows_the_cron_schedule_and_retry_limit():
    cron = """\
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: tick}
spec:
  schedule: "*/10 * * * *"
  workflowSpec:
    entrypoint: main
    templates:
      - name: main
        retryStrategy: {limit: 3}
        container: {image: alpine, command: [date]}
"""
    text = _plan(load_text(cron, "tick.yaml"))
    assert "schedule: */10 * * * *" in text
    assert "retry 3×" in text


def test_a_big_plan_prints_plain_columns_with_every_step(monkeypatch):
    monkeypatch.setattr(views, "PLAIN_PLAN_ROWS", 5)
    steps = "".join(f"  - name: s{i}\n    command: echo {i}\n" + (f"    depends: [s{i - 1}]\n" if i else "")
                    for i in range(8))
    text = _plan(load_text(f"name: chain\nsteps:\n{steps}", "chain.yaml"))
    assert "┃" not in text  # no rich table past the threshold
    rows = [line.split() for line in text.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert [(r[0], r[1]) for r in rows] == [(str(i + 1), f"s{i}") for i in range(8)]


def test_plan_json_written_step_by_step_is_the_whole_ir_as_indented_json():
    import json

    dagu = load_text('name: j\nsteps:\n  - name: a\n    command: |\n      echo "one"\n      echo two\n'
                     '  - name: b\n    command: echo b\n    depends: [a]\nhandlerOn:\n  exit:\n    command: echo bye\n')
    argo = load_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec:\n"
                     "  entrypoint: m\n  templates:\n  - name: m\n    container: {image: alpine, command: [echo, hi]}\n")
    for wf in (dagu, argo):
        out = io.StringIO()
        views.write_plan_json(wf, out)
        assert out.getvalue() == json.dumps(wf.to_dict(), indent=2, default=str) + "\n"
    assert [step["name"] for step in wf.to_dict()["steps"]] == [] and len(dagu.to_dict()["steps"]) == 2


def test_the_json_ready_form_is_asdicts_without_its_copies():
    """model.plain stands in for dataclasses.asdict in to_dict: same dicts, lists and tuples."""
    from dataclasses import asdict

    from flowport.model.plain import plain

    argo = load_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec:\n"
                     "  entrypoint: m\n  arguments: {parameters: [{name: p, value: '1'}]}\n  templates:\n"
                     "  - name: m\n    retryStrategy: {limit: 2}\n"
                     "    container: {image: alpine, command: [echo, hi], env: [{name: A, value: b}]}\n",
                     "w.yaml")
    for wf in (load_text(MAIL_DAG, "nightly.yaml"), argo):
        assert plain(wf) == asdict(wf)
        assert plain(wf).keys() == asdict(wf).keys()
