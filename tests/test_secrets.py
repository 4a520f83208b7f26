"""Issue 10 item 6: secrets stay secret — redaction of alert URLs, literal secrets moved out of
the deployment's `source`, plans without secrets."""

from __future__ import annotations

import json
import logging
import textwrap

import pytest
from typer.testing import CliRunner

from flowport.cli import secrets
from flowport.notifiers.apprise import _scrub, check_url, redact_url, send_alert, url_secrets
from flowport.notifiers.policy import NotifyRule

# ---------------------------------------------------------------- redact_url


def token(n: int, seed: str = "Vw") -> str:
    """A token of n characters no URL scaffolding contains."""
    return (seed * n)[:n]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 15, 16, 17, 32, 64, 100, 200])
@pytest.mark.parametrize("template", [
    "slack://T1/B2/{t}",
    "slack://{t}/{t}/{t}/#ops",
    "discord://1234/{t}",
    "discord://{t}/abcdefghijklmnopqrstuvwxyz0123456789",
    "tgram://{t}/12345",
    "pbul://{t}",
    "pover://{t}@{t}",
    "msteams://{t}/{t}/{t}/{t}",
    "gotify://host.example.com/{t}",
    "ntfys://ntfy.sh/{t}",
    "json://user:{t}@host/path",
    "mailtos://bot:{t}@smtp.example.com:587?to=a@example.com",
    "json://host/path?token={t}&x=1",
    "forms://host/x?apikey={t}",
    "json://host/x?+Authorization=Bearer%20{t}",
    "https://hooks.slack.com/services/{t}/{t}/{t}",
    "nosuchscheme://user:{t}@{t}/{t}",
])
def test_redact_url_masks_tokens_of_any_length(template, n):
    secret = token(n)
    redacted = redact_url(template.format(t=secret))
    assert "V" not in redacted and secret not in redacted, redacted  # no URL part has a "V"
    assert "****" in redacted


@pytest.mark.parametrize(("url", "shown"), [
    ("slack://T1/B2/XXXXXXXX", "slack://****/****/****"),
    ("slack://T1/B2/XXXXXXXX/#ops?footer=no", "slack://****/****/****/#ops?footer=no"),
    ("json://user:pass@host/path", "json://user:****@host/path"),
    ("discord://1234/abcdefghijklmnopqrstuvwxyz0123456789", "discord://****/****"),
    ("gotify://host.example.com:8080/TOKEN1", "gotify://host.example.com:8080/****"),
    ("matrix://me:pw@matrix.org/#room", "matrix://****:****@matrix.org/#room"),
    ("json://h:8080/x?token=abc&x=1", "json://h:8080/x?token=****&x=1"),
    ("https://example.com/a/b?x=1", "https://example.com/a/b?x=1"),  # no Apprise service: as is
    ("https://u:pw@example.com/a?api_key=k", "https://u:****@example.com/a?api_key=****"),
])
def test_redact_url_keeps_what_is_not_secret(url, shown):
    assert redact_url(url) == shown


def test_every_masked_part_is_a_secret_of_the_url():
    url = "slack://T1/B2/XXXXXXXX/#ops?token=abc&footer=no"
    assert url_secrets(url) == ["T1", "B2", "XXXXXXXX", "abc"]
    assert url_secrets("json://u:pw@h/x?a=1") == ["pw"]


def test_scrub_masks_short_tokens_and_apprise_privacy_forms_as_words():
    url = "slack://T1/B2/XXXXXXXX"
    text = _scrub(f"to {url}: T1 rejected X...X (...XXXX) T10 stays", [url])
    assert text == "to slack://****/****/****: **** rejected **** (****) T10 stays"


def test_unsupported_url_message_and_apprise_log_show_no_token(caplog):
    caplog.set_level(logging.DEBUG)
    problem = check_url("slak://T1/B2/hunter2hunter2")
    assert problem == "not a supported Apprise URL: slak://****/****/****"
    assert not any("hunter2" in r.getMessage() or "h...2" in r.getMessage() for r in caplog.records)


def test_notify_rule_plan_view_is_redacted():
    rule = NotifyRule(url="discord://1/a")
    assert rule.redacted()["url"] == "discord://****/****"


def test_failed_alert_reports_neither_password_nor_token():
    from testkit.servers import HttpReceiver

    with HttpReceiver(status=500) as receiver:
        url = f"json://bot:Pw-1x@{receiver.host}:{receiver.port}/hook?token=Tk-9y"
        result = send_alert([url], "t", "b")
    assert not result.ok
    for text in (result.error or "", result.target or ""):
        assert "Pw-1x" not in text and "Tk-9y" not in text


# ---------------------------------------------------------------- literal secrets in the source

DAG = """\
name: mailer
env:
  - SLACK_URL: slack://T1/B2/XXXXXXXX/#ops
  - API_TOKEN: "tok-123456"
  - KEPT: ${SMTP_PASSWORD}
smtp:
  host: 127.0.0.1
  port: "2525"
  username: bot
  password: "s3cr3t-pw"   # also in a comment: s3cr3t-pw
mailOn:
  failure: true
errorMail:
  from: a@example.com
  to: b@example.com
steps:
  - name: notify
    command: apprise -b hi 'json://u:hunter22@127.0.0.1:9/x?token=abcd' slack://T1/B2/XXXXXXXX/#ops
  - name: again
    command: echo s3cr3t-pw
    depends: [notify]
"""
LITERALS = ["s3cr3t-pw", "XXXXXXXX", "tok-123456", "hunter22"]


def test_scrub_moves_every_literal_secret_and_restores_the_text_exactly():
    stored, values = secrets.scrub(DAG, "mailer")
    for literal in LITERALS:
        assert literal not in stored
    assert values == {
        "flowport-mailer-env-slack-url": "slack://T1/B2/XXXXXXXX/#ops",
        "flowport-mailer-env-api-token": "tok-123456",
        "flowport-mailer-smtp-password": "s3cr3t-pw",
        "flowport-mailer-steps-notify-command-url": "json://u:hunter22@127.0.0.1:9/x?token=abcd",
    }
    assert 'password: "flowport-secret((flowport-mailer-smtp-password))"' in stored
    assert "KEPT: ${SMTP_PASSWORD}" in stored  # a reference is resolved at run time already
    assert "echo flowport-secret((flowport-mailer-smtp-password))" in stored
    assert secrets.restore(stored, values) == DAG
    assert secrets.placeholders(stored) == list(values)


def test_restored_text_translates_to_the_same_workflow():
    from flowport.translators import load_text

    stored, values = secrets.scrub(DAG, "mailer")
    wf = load_text(secrets.restore(stored, values), "mailer.yaml")
    assert wf.mail.smtp.password == "s3cr3t-pw"
    assert wf.to_dict() == load_text(DAG, "mailer.yaml").to_dict()


@pytest.mark.parametrize(("text", "name"), [
    ("smtp: {host: h, password: 'ab'}\nsteps: [{command: echo ab}]\n", "flowport-w-smtp-password"),
    ("smtp:\n  host: h\n  password: 123456\nsteps:\n  - command: 'true'\n", "flowport-w-smtp-password"),
    ("steps:\n  - name: m\n    executor:\n      type: mail\n      config: {to: a@b.c, password: pw9}\n",
     "flowport-w-steps-m-executor-config-password"),
    ("errorMail: {from: a@b.c, to: a@b.c, token: tk}\nsteps: [{command: 'true'}]\n",
     "flowport-w-errormail-token"),
    ("---\nname: base\n---\nname: w\nsmtp: {host: h, password: pw}\n", "flowport-w-doc1-smtp-password"),
])
def test_secret_values_of_every_kind_become_blocks(text, name):
    stored, values = secrets.scrub(text, "w")
    assert list(values) == [name]
    assert secrets.restore(stored, values) == text
    assert f"flowport-secret(({name}))" in stored


def test_a_short_secret_is_replaced_only_where_it_is_the_secret():
    text = "smtp: {host: h, password: 'ab'}\nsteps: [{command: echo abc}]\n"
    stored, values = secrets.scrub(text, "w")
    assert "echo abc" in stored and "'ab'" not in stored


@pytest.mark.parametrize("text", [
    "smtp: {host: h, password: '${SMTP_PASSWORD}'}\n",
    "smtp: {host: h, password: $SMTP_PASSWORD}\n",
    "smtp: {host: h, password: '`cat /run/pw`'}\n",
    "env:\n  - U: s3://bucket/key\n  - W: https://example.com/x\n  - N: ${HOOK_URL}\n",
    "env:\n  - automountServiceAccountToken: false\n",
])
def test_references_and_harmless_values_stay(text):
    assert secrets.scrub(text, "w") == (text, {})


def test_a_secret_written_with_escapes_is_refused():
    with pytest.raises(secrets.SecretError, match="one line"):
        secrets.scrub('smtp: {host: h, password: "a\\tb"}\n', "w")


@pytest.mark.parametrize(("text", "value"), [
    ('smtp: {host: h, "pass\\x77ord": hunter22}\n', "hunter22"),  # the key spelled by an escape
    ('env:\n  - H: "json:\\/\\/u:pw123@h/x"\n', "json://u:pw123@h/x"),  # the URL's "://" too
    ("smtp: {host: h, PASSWORD: hunter22}\n", "hunter22"),
])
def test_the_quick_text_test_lets_through_every_way_to_write_a_secret(text, value):
    """find_secrets skips composing a text without a secret key word, "://" or a backslash:
    each is written out, or spelled by an escape."""
    assert [f.value for f in secrets.find_secrets(text)] == [value]


def test_a_text_without_secret_words_urls_or_escapes_has_no_secrets():
    assert secrets.find_secrets("steps:\n  - command: echo user@host 'p: w'\n") == []


def test_deploy_spec_and_prefect_yaml_hold_placeholders_only(tmp_path):
    from flowport.cli.deploy import prefect_yaml, spec_for

    path = tmp_path / "mailer.yaml"
    path.write_text(DAG)
    spec = spec_for(path)
    rendered = json.dumps(spec.parameters) + prefect_yaml([spec], "pool")
    for literal in LITERALS:
        assert literal not in rendered
    assert spec.secrets["flowport-mailer-smtp-password"] == "s3cr3t-pw"
    assert spec.workflow.mail.smtp.password == "s3cr3t-pw"  # translated from the real text


def test_secret_blocks_need_a_server(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: None}):
        with pytest.raises(secrets.SecretError, match="PREFECT_API_URL"):
            secrets.save_blocks({"flowport-w-smtp-password": "x"})
    secrets.save_blocks({})  # nothing to save: no server needed


def test_a_text_without_placeholders_is_resolved_without_the_server():
    assert secrets.resolve(DAG) == DAG


# ---------------------------------------------------------------- plans


def test_plan_and_plan_json_show_no_secret(tmp_path):
    from flowport.cli.app import app

    path = tmp_path / "mailer.yaml"
    path.write_text(DAG)
    runner = CliRunner()
    for args in (["plan", str(path)], ["plan", "--json", str(path)]):
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
        for literal in LITERALS:
            assert literal not in done.output, (args, literal)
    doc = json.loads(runner.invoke(app, ["plan", "--json", str(path)]).output)
    assert doc["mail"]["smtp"]["password"] == "***"
    assert doc["steps"][0]["action"]["command"] == (
        "apprise -b hi 'json://u:****@127.0.0.1:9/x?token=****' slack://****/****/****/#ops")
    assert doc["steps"][1]["action"]["command"] == "echo ****"


def test_redact_strings_keeps_untouched_objects():
    from flowport.translators import load_text

    wf = load_text(textwrap.dedent("""\
        steps:
          - command: echo hello
        """), "w.yaml")
    assert secrets.redact_strings(wf, secrets.redactor(None)) is wf


def test_redact_strings_looks_inside_every_container():
    redact = secrets.redactor("smtp: {password: hunter22}\n")
    data = {"a": ("", [], ({"b": ["x hunter22"]},)), "n": None, "u": ["slack://T1/B2/tok3n"]}
    assert secrets.redact_strings(data, redact) == {
        "a": ("", [], ({"b": ["x ****"]},)), "n": None, "u": ["slack://****/****/****"]}


def test_prefect_yaml_with_literal_secrets_needs_the_server(tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flowport.cli.app import app

    path, out = tmp_path / "mailer.yaml", tmp_path / "prefect.yaml"
    path.write_text(DAG)
    with temporary_settings({PREFECT_API_URL: None}):
        done = CliRunner().invoke(app, ["deploy", str(path), "--pool", "p", "--prefect-yaml", "-o", str(out)])
    assert done.exit_code == 1 and "PREFECT_API_URL" in done.output, done.output
    assert not out.exists()
    for literal in LITERALS:
        assert literal not in done.output
