"""Prefect's server app as flowport serves it locally: the same app, retried on lock contention.

On SQLite, Prefect's server answers 503 when a write meets the lock that its own event
services hold (`database is locked`, raised at once for a transaction that read first;
PrefectHQ/prefect#18934). Prefect's client then waits 2, 4, 8… seconds before it tries again.
The lock is held for milliseconds, so those waits were the whole of the run-to-run swing
measured in docs/performance.md: one run of a 200-step chain took 4 s, the next 37 s.

Here the server tries such a request again itself, after a few milliseconds, as SQLite's own
busy timeout would have done. A 503 rolled its transaction back, so this is the retry the
client would make, only sooner. Past RETRY_FOR seconds the client gets the 503, with a short
`Retry-After`, and its own retries take over. Other responses pass through untouched and
unbuffered.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Settings of the servers flowport starts, unless the environment sets them. Prefect's task
#: run recorder writes every task-run event in a transaction of its own (batch size 1): a
#: 200-step run leaves ~600 commits behind it, and while they drain every other write,
#: such as the next run's flow run, meets the lock. Batches of 200 flushed every second
#: make that a handful of commits; the UI shows a task run at most a second later.
SERVER_TUNING = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_READ_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "1",
}

RETRY_FOR = 10.0  # seconds the server keeps trying one request before the client hears 503
FIRST_DELAY, MAX_DELAY = 0.02, 0.5


async def _whole_body(receive: Receive) -> tuple[list[Message], bool]:
    """The request's body messages; False if the client went away while sending."""
    messages = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return messages, False
        messages.append(message)
        if not message.get("more_body"):
            return messages, True


def retrying_busy(app: App, retry_for: float = RETRY_FOR) -> App:
    """`app`, with 503 answers retried inside the server for up to `retry_for` seconds."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body, complete = await _whole_body(receive)
        if not complete:
            return
        deadline, delay = time.monotonic() + retry_for, FIRST_DELAY
        while True:
            pending = list(body)

            async def replay() -> Message:
                return pending.pop(0) if pending else await receive()

            held: list[Message] = []  # the 503 answer, kept back while another try may come
            passing = False

            async def send_or_hold(message: Message) -> None:
                nonlocal passing
                if message["type"] == "http.response.start":
                    passing = message["status"] != 503
                if passing:
                    await send(message)
                else:
                    held.append(message)

            try:
                await app(dict(scope), replay, send_or_hold)  # routing rewrites the scope it gets
            except Exception:
                # Starlette re-raises after its handler has answered, so the server logs it
                if passing or not held:
                    raise
            if passing or not held:
                return
            if time.monotonic() + delay > deadline:
                start = held[0]
                held[0] = {**start, "headers": [*start.get("headers", []), (b"retry-after", b"1")]}
                for message in held:
                    await send(message)
                return
            await asyncio.sleep(delay * random.uniform(1.0, 1.5))  # spread colliding writers
            delay = min(delay * 2, MAX_DELAY)

    return wrapped


def create_app() -> App:
    """The uvicorn factory flowport's local and embedded servers run."""
    from prefect.server.api.server import create_app as prefect_app

    return retrying_busy(prefect_app())
