"""Dagu's http executor (dagucloud/dagu 532c512 `internal/runtime/builtin/http/http.go`) on
requests: the response becomes the step's stdout — the status line and headers (unless
`silent` and 2xx) then the body, or a JSON document with `json_format` — and any status
outside 2xx fails the step after the response was written."""

from __future__ import annotations

import json
import os
import threading
from typing import IO

from ...lang import gofmt
from ...model import Http
from .base import LineSink, RunResult, StopToken, emit_stdout


def run_http(spec: Http, *, cwd: str, sink: LineSink, stop: StopToken | None,
             stdout_file: IO[str] | None = None) -> RunResult:
    import requests

    if stop is not None and stop.requested.is_set():
        return RunResult(None, error="stopped before the request was sent", stopped=True)
    done: list = []

    def send() -> None:
        try:
            done.append(requests.request(
                spec.method, spec.url, headers=dict(spec.headers), params=dict(spec.query) or None,
                data=spec.body.encode() if spec.body else None, timeout=spec.timeout,
                verify=not spec.skip_tls_verify))
        except requests.RequestException as exc:
            done.append(exc)

    # The request runs in a helper thread so a stop ends the step at once (requests has no
    # cancel); the abandoned request ends with its own timeout.
    worker = threading.Thread(target=send, name="flowport-http", daemon=True)
    worker.start()
    while worker.is_alive():
        if stop is not None and stop.requested.wait(0.05):
            return RunResult(None, error="stopped", stopped=True)
        worker.join(0.05)
    outcome = done[0]
    if isinstance(outcome, Exception):
        return RunResult(None, error=f"http request failed: {outcome}")
    ok = 200 <= outcome.status_code < 300
    try:
        text = _render(spec, outcome, ok, cwd)
    except ValueError as exc:
        return RunResult(None, error=f"http response: {exc}")
    emit_stdout(text, sink, stdout_file)
    if not ok:
        return RunResult(1, text, f"http status code not 2xx: {outcome.status_code}")
    return RunResult(0, text)


def _render(spec: Http, resp, ok: bool, cwd: str) -> str:
    verbose = not ok or not spec.silent
    if spec.output_file and ok:
        path = os.path.join(cwd, spec.output_file)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(resp.content)
    if spec.json_format:
        doc: dict = {"status_code": resp.status_code if verbose else 0,
                     "headers": _headers(resp) if verbose else None}
        if spec.output_file and ok:
            doc["output"] = spec.output_file
        else:
            try:
                body = json.loads(resp.content)
            except ValueError:
                if not spec.output_file or ok:
                    raise ValueError("the body is not JSON (format: json)") from None
                body = resp.text
            if body is not None:
                doc["body"] = body
        return _indent(doc)
    prefix = ""
    if verbose:
        prefix = f"{resp.status_code} {resp.reason}\n" + "".join(
            f"{name}: {value}\r\n" for name, values in sorted(_headers(resp).items()) for value in values)
    if spec.output_file and ok:
        return prefix if not spec.silent else ""
    return prefix + resp.text


def _headers(resp) -> dict[str, list[str]]:
    return {"-".join(p.capitalize() for p in name.split("-")): [value] for name, value in resp.headers.items()}


def _indent(doc: dict) -> str:
    """json.MarshalIndent(doc, "", " "): the top-level fields in Dagu's struct order, maps
    inside with sorted keys, <, > and & escaped as Go does."""
    return gofmt.json_marshal({k: _sorted(v) for k, v in doc.items()}, indent=" ", sort_keys=False)


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
