"""Notification routing without any service: option parser, config loader, status → event,
alert text, URL redaction, Dagu mailOn selection."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from flowport.notifiers.apprise import redact_url
from flowport.notifiers.policy import (
    DEFAULT_EVENTS,
    NotifyConfig,
    NotifyRule,
    compose_alert,
    dagu_mail_kind,
    event_for_status,
    load_notify_config,
    parse_notify_option,
)

ALL = frozenset({"failure", "success", "cancel"})


# ---------------------------------------------------------------- --notify parser


def test_url_alone_means_failure_only():
    rule = parse_notify_option("json://127.0.0.1:9/x")
    assert rule == NotifyRule("json://127.0.0.1:9/x", frozenset({"failure"}))
    assert frozenset({"failure"}) == DEFAULT_EVENTS


@pytest.mark.parametrize(("text", "events"), [
    ("json://h/x on=failure,success", {"failure", "success"}),
    ("json://h/x   on=Cancel", {"cancel"}),
    ("json://h/x on=all", ALL),
    ("json://h/x on=success,,failure", {"success", "failure"}),
])
def test_on_selects_events(text, events):
    assert parse_notify_option(text).on == events


@pytest.mark.parametrize(("text", "hint"), [
    ("", "expected URL"),
    ("   ", "expected URL"),
    ("127.0.0.1:9/x", "is not a URL"),
    ("nope://user:pw-123@h/x", "not a supported Apprise URL: nope://****:****@****/****"),
    ("json://h/x on=faliure", "did you mean 'failure'?"),
    ("json://h/x on=", "no event given"),
    ("json://h/x of=failure", "did you mean 'on'?"),
    ("json://h/x failure", "unknown --notify option 'failure'"),
    ("json://h/x on=failure on=success", "twice"),
])
def test_bad_options_explain_themselves(text, hint):
    with pytest.raises(ValueError) as info:
        parse_notify_option(text)
    assert hint in str(info.value)
    assert "pw-123" not in str(info.value)


def test_rule_needs_a_target_and_known_events():
    with pytest.raises(ValueError, match="url or tags"):
        NotifyRule()
    with pytest.raises(ValueError, match="unknown event"):
        NotifyRule("json://h/x", frozenset({"done"}))
    assert NotifyRule(tags=("ops",)).on == DEFAULT_EVENTS


def test_rule_redacts_for_plans():
    rule = NotifyRule("json://u:secret-1@h/x", ALL)
    assert rule.redacted() == {"url": "json://u:****@h/x",
                               "on": ["cancel", "failure", "success"], "tags": []}


# ---------------------------------------------------------------- config file


def write(tmp_path, text: str, name: str = "flowport.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_config_with_rules_and_apprise_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "tok-abc")
    path = write(tmp_path, """\
        project: demo          # other sections are not ours
        notify:
          config: [alerts/apprise.yml, https://config.example.com/apprise]
          rules:
            - url: json://hooks.example.com/${HOOK_TOKEN}
              on: [failure, success]
            - url: json://hooks.example.com/b
            - tags: devops, pager
              on: all
            - json://hooks.example.com/c on=cancel
        """)
    config = load_notify_config(path)
    assert config.config_files == (str(tmp_path / "alerts" / "apprise.yml"),
                                   "https://config.example.com/apprise")
    assert config.rules == (
        NotifyRule("json://hooks.example.com/tok-abc", frozenset({"failure", "success"})),
        NotifyRule("json://hooks.example.com/b", frozenset({"failure"})),
        NotifyRule(None, ALL, ("devops", "pager")),
        NotifyRule("json://hooks.example.com/c", frozenset({"cancel"})),
    )


def test_quoted_on_key_and_event_string(tmp_path):
    path = write(tmp_path, """\
        notify:
          - url: json://h/x
            "on": failure,cancel
        """)
    assert load_notify_config(path).rules[0].on == {"failure", "cancel"}


def test_file_without_notify_section(tmp_path):
    assert load_notify_config(write(tmp_path, "other: 1\n")) == NotifyConfig()
    assert load_notify_config(write(tmp_path, "")) == NotifyConfig()


@pytest.mark.parametrize(("text", "hint"), [
    ("notify: 3\n", "expected a mapping"),
    ("notify:\n  rule: []\n", "did you mean 'rules'?"),
    ("notify:\n  - url: json://h/x\n    onn: failure\n", "did you mean 'on'?"),
    ("notify:\n  - url: json://h/x\n    on: [failur]\n", "notify.rules[0]: unknown event"),
    ("notify:\n  - url: 42\n", "notify.rules[0].url: expected a string"),
    ("notify:\n  - url: bogus://h\n", "not a supported Apprise URL"),
    ("notify:\n  - tags: [ops]\n", "need Apprise files under notify.config"),
    ("notify:\n  - on: failure\n", "url or tags"),
    ("notify:\n  - json://h/${FLOWPORT_TEST_UNSET_VAR}\n", "FLOWPORT_TEST_UNSET_VAR is not set"),
    ("notify: [\n", "cannot read notify config"),
])
def test_config_errors_name_the_file_and_place(tmp_path, text, hint):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_notify_config(path)
    assert str(path) in str(info.value) and hint in str(info.value)


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize(("status", "event"), [
    # Dagu
    ("succeeded", "success"), ("partially_succeeded", "success"), ("failed", "failure"),
    ("canceled", "cancel"), ("aborted", "cancel"),
    # Argo
    ("Succeeded", "success"), ("Failed", "failure"), ("Error", "failure"),
    # Prefect state types and names
    ("COMPLETED", "success"), ("FAILED", "failure"), ("CRASHED", "failure"),
    ("CANCELLED", "cancel"), ("Cancelled", "cancel"), ("PartiallySucceeded", "success"),
    ("TimedOut", "failure"),
])
def test_final_statuses_map_to_events(status, event):
    assert event_for_status(status) == event


@pytest.mark.parametrize("status", ["running", "Running", "PENDING", "SCHEDULED", "queued",
                                    "waiting", "not_started", "CANCELLING", "Pending"])
def test_unfinished_statuses_have_no_event(status):
    assert event_for_status(status) is None


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError, match="did you mean 'failed'"):
        event_for_status("faild")


# ---------------------------------------------------------------- alert text


def test_compose_alert_carries_every_field():
    title, body = compose_alert({
        "workflow": "etl", "status": "failed", "duration_seconds": 3725.4,
        "failed_nodes": ["extract", "load"], "flow_run_url": "http://127.0.0.1:4200/runs/1",
        "message": "step extract exited with code 2",
    })
    assert title == "etl: failed"
    assert body.splitlines() == [
        "Workflow: etl",
        "Status: failed",
        "Duration: 1h 02m 05s",
        "Failed nodes: extract, load",
        "Flow run: http://127.0.0.1:4200/runs/1",
        "Message: step extract exited with code 2",
    ]


def test_compose_alert_with_only_the_required_keys():
    title, body = compose_alert({"workflow": "w", "status": "Succeeded"})
    assert title == "w: Succeeded"
    assert body.splitlines() == ["Workflow: w", "Status: Succeeded", "Duration: unknown",
                                 "Failed nodes: none"]
    assert "Duration: 4.2 s" in compose_alert({"workflow": "w", "status": "x",
                                               "duration_seconds": 4.24})[1]
    assert "Duration: 1m 00s" in compose_alert({"workflow": "w", "status": "x",
                                                "duration_seconds": 59.97})[1]


# ---------------------------------------------------------------- redaction


@pytest.mark.parametrize(("url", "shown", "hidden"), [
    ("json://user:pa55word@h:8080/x?+Authorization=Bearer%20tok9&:run=1",
     "json://user:****@h:8080/x?+Authorization=****&:run=1", ["pa55word", "tok9"]),
    ("mailtos://bot:mail-pw@smtp.example.com:587?to=a@example.com&from=b@example.com",
     "mailtos://bot:****@smtp.example.com:587?to=a@example.com&from=b@example.com", ["mail-pw"]),
    ("slack://T1ABCDEFG/B2ABCDEFG/abcdefghijklmnopqrstuvwx/#ops", "slack://", ["abcdefghijkl"]),
    ("forms://h/x?token=abc123&user=me", "forms://h/x?token=****&user=me", ["abc123"]),
])
def test_redact_url(url, shown, hidden):
    redacted = redact_url(url)
    assert redacted.startswith(shown)
    for secret in hidden:
        assert secret not in redacted


# ---------------------------------------------------------------- Dagu mailOn


@pytest.mark.parametrize(("status", "on_failure", "on_success", "run_error", "kind"), [
    ("failed", True, True, False, "error"),
    ("failed", False, True, False, None),
    ("succeeded", True, True, False, "info"),
    ("partially_succeeded", False, True, False, "info"),
    ("succeeded", True, False, True, "error"),  # a failing handler after success
    ("canceled", True, True, False, None),
    ("succeeded", True, False, False, None),
])
def test_dagu_mail_selection(status, on_failure, on_success, run_error, kind):
    assert dagu_mail_kind(status, on_failure=on_failure, on_success=on_success,
                          run_error=run_error) == kind


def test_notifiers_do_not_import_prefect_or_other_layers():
    code = ("import sys, flowport.notifiers.policy, flowport.notifiers.smtp; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'prefect' or "
            "m.startswith(('flowport.adapter', 'flowport.translators'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mail_errors_are_flowport_errors():
    from flowport.errors import FlowportError
    from flowport.notifiers.smtp import MailError, MailMessage, build_message

    with pytest.raises(FlowportError, match="no recipient address given") as caught:
        build_message(MailMessage("flowport@example.com", (), "subject", "body"))
    assert type(caught.value) is MailError
