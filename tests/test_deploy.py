"""Deployment building blocks without a server: the static flow's parameters, schedules,
parameter schema, prefect.yaml, exactly-once claims, the run artifact."""

from __future__ import annotations

import base64
import textwrap

import pytest
import yaml

from flowport.cli import deploy
from flowport.cli.entry import (
    ENTRYPOINT,
    entrypoint_for,
    decode_source,
    declared_params,
    params_pairs,
    run_workflow,
    source_name,
    workflow_name_of,
)
from flowport.adapter.runfiles import claim, claimed
from flowport.translators import load, load_text
from flowport.translators.source import SourceError

DAG = textwrap.dedent("""
    name: nightly
    params: DATE=`date +%F` REGION=eu
    schedule:
      - "0 2 * * *"
      - "CRON_TZ=Asia/Tokyo 30 9 * * 1-5"
    steps:
      - name: s
        command: echo "{{x}} $DATE"
""")


def test_static_flow_is_a_module_level_flow():
    import importlib

    module, _, attr = ENTRYPOINT.rpartition(".")
    assert getattr(importlib.import_module(module), attr) is run_workflow
    assert run_workflow.name == "flowport"
    assert run_workflow.on_cancellation_hooks and run_workflow.on_crashed_hooks


def test_each_workflow_has_an_entrypoint_whose_flow_bears_its_name():
    from prefect.utilities.importtools import import_object

    from flowport.cli.entry import entrypoint_for

    named = import_object(entrypoint_for("etl.daily/v2 ü"))  # dots, slashes, any letter
    assert named.name == "etl.daily-v2 ü"  # Prefect refuses `/` in names
    assert named.fn is run_workflow.fn
    assert named.on_cancellation_hooks == run_workflow.on_cancellation_hooks
    assert named.on_crashed_hooks == run_workflow.on_crashed_hooks


def test_load_text_is_load_of_the_same_file(tmp_path):
    path = tmp_path / "nightly.yaml"
    path.write_text(DAG)
    assert load_text(DAG, str(path)) == load(path)
    with pytest.raises(SourceError) as err:
        load_text("steps: 3\n", str(path))
    assert "nightly.yaml:1" in str(err.value)


def test_params_defaults_are_no_override_and_values_become_strings():
    wf = load_text(DAG, "/nowhere/nightly.yaml")
    assert declared_params(wf) == [("DATE", "`date +%F`", None), ("REGION", "eu", None)]
    assert params_pairs(wf, {"DATE": "`date +%F`", "REGION": "us", "N": 3, "F": True}) == [
        ("REGION", "us"), ("N", "3"), ("F", "true")]
    assert params_pairs(wf, None) == []


def test_positional_string_params_are_named_by_their_place_among_all_as_the_run_names_them():
    """`a K=v b`: Dagu's names are 1, K, 3 (`$3` is b); the deployment's field "3" reaches b."""
    wf = load_text("params: a K=v b\nsteps:\n  - name: s\n    command: echo $3\n", "/nowhere/pos.yaml")
    assert declared_params(wf) == [("1", "a", None), ("K", "v", None), ("3", "b", None)]
    assert params_pairs(wf, {"1": "a", "3": "c"}) == [("3", "c")]


def test_source_name_and_run_names(tmp_path):
    assert source_name(str(tmp_path / "a.yaml")) == str(tmp_path / "a.yaml")
    assert source_name("/no/such/folder/a.yaml") == "a.yaml"
    assert workflow_name_of(DAG) == "nightly"
    assert workflow_name_of("steps: []", "/x/my-dag.yaml") == "my-dag"
    assert workflow_name_of("metadata:\n  generateName: hello-\n") == "hello"
    assert decode_source("base64:" + base64.b64encode(b"a: {{b}}").decode()) == "a: {{b}}"


def test_dagu_schedules(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    wf = load_text(DAG, "/nowhere/nightly.yaml")
    assert deploy.workflow_schedules(wf) == [
        deploy.Cron("0 2 * * *", "Europe/Berlin"), deploy.Cron("30 9 * * 1-5", "Asia/Tokyo")]
    with pytest.raises(deploy.DeployError, match="interval"):
        deploy.dagu_schedules(["@every 5m"])
    with pytest.raises(deploy.DeployError, match="not a valid cron"):
        deploy.dagu_schedules(["61 * * * *"])


def test_argo_cron_schedules():
    assert deploy.argo_cron_schedules("*/5 * * * *") == [deploy.Cron("*/5 * * * *", "UTC", True)]
    assert deploy.argo_cron_schedules(["0 1 * * *", "0 2 * * *"], "America/New_York", suspend=True) == [
        deploy.Cron("0 1 * * *", "America/New_York", False), deploy.Cron("0 2 * * *", "America/New_York", False)]


def test_parameter_schema_lists_the_workflow_params():
    wf = load_text(DAG, "/nowhere/nightly.yaml")
    schema = deploy.parameter_schema(wf)
    assert schema["required"] == ["source"]
    props = schema["properties"]["params"]["properties"]
    assert list(props) == ["DATE", "REGION"]
    assert props["REGION"] == {"type": "string", "title": "REGION", "position": 1, "default": "eu",
                               "description": "workflow parameter REGION"}


def test_spec_and_prefect_yaml(tmp_path):
    path = tmp_path / "nightly.yaml"
    path.write_text(DAG)
    spec = deploy.spec_for(path, tags=["t"], params={"REGION": "us"})
    assert spec.full_name == "nightly/nightly"  # one Prefect flow per workflow
    assert spec.tags == ["flowport", "dagu", "t"]
    assert spec.parameters == {"source": DAG, "path": str(path), "params": {"DATE": "`date +%F`", "REGION": "us"}}
    doc = yaml.safe_load(deploy.prefect_yaml([spec], "pool"))
    (d,) = doc["deployments"]
    assert d["entrypoint"] == entrypoint_for("nightly") and d["pull"] == [] and d["work_pool"]["name"] == "pool"
    assert d["parameters"]["source"].startswith("base64:")  # `{{x}}` would be templated away
    assert decode_source(d["parameters"]["source"]) == DAG
    assert [s["cron"] for s in d["schedules"]] == ["0 2 * * *", "30 9 * * 1-5"]


def test_claims_are_exactly_once(tmp_path):
    assert claim(tmp_path, "handler-exit") is True
    assert claim(tmp_path, "handler-exit") is False
    assert claimed(tmp_path, "handler-exit") and not claimed(tmp_path, "handler-cancel")


def test_artifact_markdown():
    from flowport.adapter.artifacts import artifact_key, render_markdown
    from flowport.adapter.report import NodeReport, RunReport

    report = RunReport(
        workflow="My DAG", dialect="dagu-v1", status="failed", message="step(s) failed: a|b",
        started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:02+00:00", params={"X": "1"},
        nodes=[NodeReport("a", "a", "step", "failed", 3, "2026-01-01T00:00:00+00:00",
                          "2026-01-01T00:00:01.500000+00:00", message="exit 3")],
        outputs={},
    )
    md = render_markdown(report)
    assert artifact_key("My DAG") == "flowport-my-dag"
    assert "| a | step | failed | 3 | 2026-01-01T00:00:00+00:00 | 1.5 s | exit 3 |" in md
    assert "step(s) failed: a\\|b" in md and '"status": "failed"' in md


def test_hook_runs_only_the_handlers_nobody_ran(tmp_path, monkeypatch):
    """The on_cancellation path when the flow process died mid-way: the body had claimed
    (and run) onCancel; the hook runs onExit only, once."""
    import logging

    from flowport.adapter.core import replay_lifecycle as run_missing_handlers
    from flowport.adapter.runfiles import run_dir

    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))
    dag = tmp_path / "d.yaml"
    dag.write_text(textwrap.dedent("""
        name: halfway
        steps:
          - name: s
            command: "true"
        handlerOn:
          cancel:
            command: sh -c 'echo "cancel:$DAG_RUN_STATUS" >> handlers.txt'
          exit:
            command: sh -c 'echo "exit:$DAG_RUN_STATUS" >> handlers.txt'
    """))
    wf = load(dag)
    log = logging.getLogger("test")
    assert run_missing_handlers(wf, "run-1", [], "canceled", log) == []  # never started
    folder = run_dir(wf.name, "run-1")
    folder.mkdir(parents=True)
    assert claim(folder, "started")  # what the run core does when a run begins
    assert claim(folder, "handler-cancel")  # what the engine does before running onCancel
    assert run_missing_handlers(wf, "run-1", [], "canceled", log) == ["onExit"]
    assert run_missing_handlers(wf, "run-1", [], "canceled", log) == []  # a second hook: nothing
    assert (tmp_path / "handlers.txt").read_text().split() == ["exit:canceled"]


def test_paged_reads_stop_at_a_short_page_or_a_repeated_one():
    import asyncio
    from types import SimpleNamespace

    from flowport.cli import register

    items = [SimpleNamespace(id=i) for i in range(450)]

    async def honest(offset, limit):
        return items[offset:offset + limit]

    async def ignores_offset(offset, limit):  # an endpoint without paging: the same page again
        return items[:limit]

    assert [i.id for i in asyncio.run(register.paged(honest))] == list(range(450))
    assert [i.id for i in asyncio.run(register.paged(ignores_offset))] == list(range(200))


def test_a_deployment_already_on_the_server_is_unchanged_only_when_every_field_matches(tmp_path):
    from types import SimpleNamespace

    from flowport.cli import register

    path = tmp_path / "nightly.yaml"
    path.write_text(DAG)
    spec = deploy.spec_for(path)
    spec.source_ref = "flowport-workflow:flowport-nightly"
    schema = deploy.parameter_schema(spec.workflow)
    wanted = register.deployment_fields(spec, "pool", None, False, schema)
    crons = {(c.cron, c.timezone, c.active) for c in spec.schedules}
    on_server = SimpleNamespace(
        schedules=[SimpleNamespace(schedule=SimpleNamespace(cron=c.cron, timezone=c.timezone), active=c.active)
                   for c in spec.schedules],
        entrypoint=wanted["entrypoint"], work_pool_name="pool", work_queue_name="default", work_queue_id="q",
        parameters=spec.parameters, parameter_openapi_schema=schema, enforce_parameter_schema=True,
        description=wanted["description"], tags=list(spec.tags), pull_steps=[], paused=False)
    assert register.unchanged(on_server, wanted, crons, "q")
    assert not register.unchanged(on_server, wanted, crons, "another-default-queue")
    assert not register.unchanged(on_server, wanted, crons - {next(iter(crons))}, "q")  # a schedule fewer
    for field, value in [("paused", True), ("tags", ["flowport"]), ("parameters", {"source": "x"}),
                         ("entrypoint", "flowport.cli.entry.run_workflow"), ("description", "")]:
        assert not register.unchanged(SimpleNamespace(**{**vars(on_server), field: value}), wanted, crons, "q"), field
