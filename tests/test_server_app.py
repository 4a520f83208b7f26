"""The local server's app retries Prefect's lock-contention 503s inside the server."""

from __future__ import annotations

import asyncio
import json

import httpx

from flowport.adapter.server_app import SERVER_TUNING, retrying_busy


class BusyThenFree:
    """An ASGI app that answers 503 for its first `busy` calls, like Prefect's app while the
    SQLite lock is held, then echoes the request body. It rewrites the scope it gets, as
    Starlette's routing does, and re-raises after its 503 as Starlette's error middleware does."""

    def __init__(self, busy: int) -> None:
        self.busy, self.calls, self.bodies = busy, 0, []

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        assert scope["path"] == "/api/flow_runs/", "a retry must see the scope the server got"
        scope["path"] = "/flow_runs/"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        if self.calls <= self.busy:
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"exception_message":"Service Unavailable"}'})
            raise RuntimeError("database is locked")
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


def post(app, body: dict) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/api/flow_runs/", json=body)
    return asyncio.run(go())


def test_a_busy_answer_is_retried_in_the_server_with_the_same_body():
    app = BusyThenFree(busy=3)
    response = post(retrying_busy(app), {"name": "run-1"})
    assert response.status_code == 201
    assert json.loads(response.content) == {"name": "run-1"}
    assert app.calls == 4
    assert len(set(app.bodies)) == 1


def test_past_the_budget_the_client_gets_the_503_with_a_short_retry_after():
    app = BusyThenFree(busy=1000)
    response = post(retrying_busy(app, retry_for=0.2), {"name": "run-1"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert 1 < app.calls < 1000


def test_other_answers_pass_through_on_the_first_call():
    app = BusyThenFree(busy=0)
    response = post(retrying_busy(app), {"x": 1})
    assert (response.status_code, app.calls) == (201, 1)


def test_the_tuning_only_names_settings_prefect_knows():
    from prefect.settings import Settings

    known = {field.upper() for field in Settings().to_environment_variables(exclude_unset=False)}
    assert set(SERVER_TUNING) <= known
