"""Dagu's http executor (`type: http`, V3 `action: http.request`) against a real HTTP server
on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from testkit.reports import read
from testkit.servers import HttpReceiver, ReceivedRequest


def _answer(request: ReceivedRequest) -> tuple[int, dict[str, str], bytes]:
    """404 text for /missing…, else the request echoed as JSON."""
    if request.path.startswith("/missing"):
        return 404, {"Content-Type": "text/plain"}, b"no such thing"
    token = next((v for k, v in request.headers.items() if k.lower() == "x-token"), None)
    doc = {"method": request.method, "path": request.path, "token": token, "body": request.body.decode()}
    return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()


@pytest.fixture
def server():
    with HttpReceiver(respond=_answer) as receiver:
        yield receiver.url("http", "")


def test_requests_and_their_output_forms(run_dag, tmp_path, server):
    report = run_dag(f"""
        type: graph
        env:
          - TOKEN: secret-1
        steps:
          - id: silent
            executor:
              type: http
              config:
                silent: true
                headers: {{X-Token: "$TOKEN"}}
                query: {{q: "a b"}}
            command: GET {server}/items
            output: BODY
          - id: verbose
            type: http
            command: GET {server}/v
            stdout: verbose.txt
          - id: as_json
            type: http
            with: {{format: json, silent: true}}
            command: GET {server}/j
            output: DOC
          - id: posted
            action: http.request
            with:
              method: post
              url: {server}/p
              body: '{{"n": 1}}'
              silent: true
              output: saved/body.json
    """)
    assert report.status == "succeeded", report.message
    body = json.loads(report.outputs["BODY"])
    assert body == {"method": "GET", "path": "/items?q=a+b", "token": "secret-1", "body": ""}
    verbose = (tmp_path / "verbose.txt").read_bytes().decode()  # keep the \r\n of header lines
    assert verbose.startswith("200 OK\n") and "Content-Type: application/json\r\n" in verbose
    assert verbose.endswith('"body": ""}')
    doc = json.loads(report.outputs["DOC"])
    assert doc["status_code"] == 0 and doc["headers"] is None and doc["body"]["path"] == "/j"
    assert json.loads(read(tmp_path / "saved" / "body.json"))["body"] == '{"n": 1}'


def test_a_status_outside_2xx_fails_after_writing_the_response(run_dag, tmp_path, server):
    report = run_dag(f"""
        steps:
          - name: fetch
            type: http
            with: {{silent: true}}
            command: GET {server}/missing
            stdout: out.txt
    """)
    fetch = next(n for n in report.nodes if n.name == "fetch")
    assert report.status == "failed" and fetch.message == "http status code not 2xx: 404"
    out = read(tmp_path / "out.txt")
    assert out.startswith("404 Not Found\n") and out.endswith("no such thing")


def test_an_unreachable_server_is_a_clear_failure(run_dag):
    report = run_dag("""
        steps:
          - name: fetch
            type: http
            with: {timeout: 5}
            command: GET http://127.0.0.1:9/
    """)
    fetch = next(n for n in report.nodes if n.name == "fetch")
    assert fetch.phase == "failed" and fetch.message.startswith("http request failed:")
