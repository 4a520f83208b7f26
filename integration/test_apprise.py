"""send_alert and dispatch through the real Apprise library to a real HTTP receiver and a real
SMTP server, all on 127.0.0.1."""

from __future__ import annotations

import base64
import textwrap
import time

import pytest
from testkit.servers import SilentServer, SmtpServer, free_port

from flowport.notifiers.apprise import AlertResult, send_alert
from flowport.notifiers.policy import NotifyRule, dispatch, load_notify_config


@pytest.fixture
def apprise_config(receiver, tmp_path):
    path = tmp_path / "apprise.yml"
    path.write_text(textwrap.dedent(f"""\
        version: 1
        urls:
          - {receiver.url(path="/devops")}:
              tag: devops
          - {receiver.url(path="/oncall")}:
              tag: oncall, pager
          - {receiver.url(path="/untagged")}
        """))
    return path


def paths(receiver) -> list[str]:
    return sorted(r.path for r in receiver.requests)


def test_json_url_gets_title_body_and_type(receiver):
    result = send_alert([receiver.url()], "etl: failed", "Workflow: etl\nStatus: failed",
                        notify_type="failure")
    assert result == AlertResult(True, None, receiver.url())
    [request] = receiver.wait_for(1)
    payload = request.json()
    assert request.method == "POST" and request.path == "/hook"
    assert payload["title"] == "etl: failed"
    assert payload["message"] == "Workflow: etl\nStatus: failed"
    assert payload["type"] == "failure"


def test_url_extras_become_headers_and_payload_fields(receiver):
    assert send_alert([receiver.url() + "?+X-Run=r-42&:run_id=r-42"], "t", "b").ok
    [request] = receiver.wait_for(1)
    assert request.headers["X-Run"] == "r-42"
    assert request.json()["run_id"] == "r-42"


def test_several_urls_in_one_call(receiver):
    urls = [receiver.url(path="/a"), receiver.url(scheme="form", path="/b")]
    assert send_alert(urls, "t", "b").ok
    receiver.wait_for(2)
    assert paths(receiver) == ["/a", "/b"]


def test_config_file_tags_select_urls(receiver, apprise_config):
    assert send_alert([], "t", "b", config_files=[apprise_config], tags=["devops"]).ok
    receiver.wait_for(1)
    time.sleep(0.2)  # nothing else may arrive
    assert paths(receiver) == ["/devops"]


def test_config_file_tags_are_or_and_direct_urls_always_go(receiver, apprise_config):
    result = send_alert([receiver.url(path="/direct")], "t", "b",
                        config_files=[str(apprise_config)], tags=["pager", "devops"])
    assert result.ok, result.error
    receiver.wait_for(3)
    assert paths(receiver) == ["/devops", "/direct", "/oncall"]


def test_config_file_without_tags_sends_to_every_url(receiver, apprise_config):
    assert send_alert([], "t", "b", config_files=[apprise_config]).ok
    receiver.wait_for(3)
    assert paths(receiver) == ["/devops", "/oncall", "/untagged"]


def test_tag_all_reaches_every_config_url(receiver, apprise_config):
    assert send_alert([], "t", "b", config_files=[apprise_config], tags=["all"]).ok
    receiver.wait_for(3)
    assert paths(receiver) == ["/devops", "/oncall", "/untagged"]


def test_tags_that_match_nothing(receiver, apprise_config):
    result = send_alert([], "t", "b", config_files=[apprise_config], tags=["nobody"])
    assert not result.ok and "nobody" in result.error
    assert receiver.requests == []


def test_attachment_arrives_base64_in_the_json_payload(receiver, tmp_path):
    data = b"line 1\nline 2\n\x00\xff binary tail"
    log = tmp_path / "extract.log"
    log.write_bytes(data)
    assert send_alert([receiver.url()], "t", "b", attachments=[log]).ok
    [attachment] = receiver.wait_for(1)[0].json()["attachments"]
    assert attachment["filename"] == "extract.log"
    assert base64.b64decode(attachment["base64"]) == data
    assert attachment["mimetype"]


def test_receiver_down_is_a_result_not_an_exception():
    url = f"json://alice:hunter2-secret@127.0.0.1:{free_port()}/hook"
    result = send_alert([url], "t", "b")
    assert not result.ok
    assert "hunter2-secret" not in result.error + result.target
    assert "Connection" in result.error


def test_receiver_error_status_is_a_failure(receiver):
    receiver.status = 500
    result = send_alert([receiver.url()], "t", "b")
    assert not result.ok and result.error
    assert len(receiver.wait_for(1)) == 1


def test_hung_receiver_times_out():
    with SilentServer() as silent:
        started = time.perf_counter()
        result = send_alert([f"json://{silent.host}:{silent.port}/x?rto=0.5&cto=0.5"], "t", "b")
        assert not result.ok
        assert time.perf_counter() - started < 3.0


@pytest.mark.parametrize("url", ["nope://user:pw-secret-123@host/x", "not a url"])
def test_unusable_urls_are_reported_redacted(url):
    result = send_alert([url], "t", "b")
    assert not result.ok and "pw-secret-123" not in result.error


def test_missing_config_file_and_attachment_are_reported(receiver, tmp_path):
    result = send_alert([receiver.url()], "t", "b", config_files=[tmp_path / "none.yml"],
                        attachments=[tmp_path / "none.log"])
    assert not result.ok
    assert "none.yml" in result.error and "none.log" in result.error
    assert len(receiver.wait_for(1)) == 1  # the valid URL still got its alert


def test_mailto_through_apprise_reaches_smtp():
    with SmtpServer("plain") as smtp:
        url = (f"mailto://{smtp.host}:{smtp.port}?from=flowport@example.com"
               "&to=ops@example.com,dev@example.com")
        result = send_alert([url], "etl (failed)", "Status: failed")
        assert result.ok, result.error
        mails = smtp.wait_for(2)  # Apprise sends one mail per recipient
        assert sorted(r for m in mails for r in m.rcpt_tos) == ["dev@example.com",
                                                                 "ops@example.com"]
        assert {m.message["Subject"] for m in mails} == {"etl (failed)"}


# ---------------------------------------------------------------- dispatch


SUMMARY = {"workflow": "etl", "duration_seconds": 75.0, "failed_nodes": ["extract", "load"],
           "flow_run_url": "http://127.0.0.1:4200/runs/flow-run/1", "message": "exit code 2"}


@pytest.mark.parametrize(("status", "expected", "kind"), [
    ("failed", ["/all", "/fail"], "failure"),
    ("Error", ["/all", "/fail"], "failure"),
    ("CRASHED", ["/all", "/fail"], "failure"),
    ("partially_succeeded", ["/all", "/ok"], "success"),
    ("canceled", ["/all"], "warning"),
])
def test_dispatch_routes_by_event(receiver, status, expected, kind):
    rules = [NotifyRule(receiver.url(path="/fail")),  # default: failure only
             NotifyRule(receiver.url(path="/ok"), frozenset({"success"})),
             NotifyRule(receiver.url(path="/all"), frozenset({"failure", "success", "cancel"}))]
    results = dispatch(rules, {**SUMMARY, "status": status})
    assert [r.ok for r in results] == [True] * len(expected)
    receiver.wait_for(len(expected))
    time.sleep(0.2)
    assert paths(receiver) == expected
    payload = receiver.requests[0].json()
    assert payload["type"] == kind
    assert payload["title"] == f"etl: {status}"
    for text in ("etl", status, "1m 15s", "extract, load", SUMMARY["flow_run_url"], "exit code 2"):
        assert text in payload["message"]


def test_dispatch_sends_nothing_while_running(receiver):
    assert dispatch([NotifyRule(receiver.url(), frozenset({"failure"}))],
                    {"workflow": "etl", "status": "running"}) == []


def test_dispatch_reports_a_broken_summary_instead_of_raising(receiver):
    [result] = dispatch([NotifyRule(receiver.url())], {"workflow": "etl", "status": "faild"})
    assert not result.ok and "faild" in result.error


def test_dispatch_from_a_flowport_config_file(receiver, apprise_config, tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_PATH", "direct")
    config = tmp_path / "flowport.yaml"
    config.write_text(textwrap.dedent(f"""\
        notify:
          config: apprise.yml
          rules:
            - url: {receiver.url(path="/${HOOK_PATH}")}
              on: [failure, success]
            - tags: pager
              on: failure
            - {receiver.url(path="/cancel")} on=cancel
        """))
    loaded = load_notify_config(config)
    results = dispatch(loaded, {"workflow": "etl", "status": "failed"})
    assert [r.ok for r in results] == [True, True]
    receiver.wait_for(2)
    time.sleep(0.2)
    assert paths(receiver) == ["/direct", "/oncall"]
