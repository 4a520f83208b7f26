"""Locks as Prefect global concurrency limits (Argo `synchronization`, Dagu `maxActiveRuns`).

A dialect names the locks a workflow or a node holds (`Lock`); this module holds them once:

- with a Prefect API (a run with Prefect task runs): each lock is a global concurrency limit,
  created on first use with the size the source declares (an Argo semaphore: read from the
  Prefect Variable named after its ConfigMap, key → size), resized when that size changed,
  and occupied with `prefect.concurrency` for as long as the holder runs. All of a holder's
  locks are taken at once (no two holders each wait for the other's);
- without one (the Prefect hooks' replay, tests): a lock of this process.

While a holder waits, a stop of the run ends the wait: it then holds nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .runners.base import StopToken

WAIT_SLICE = 1.0  # seconds: how soon a stop ends a wait, and a wait is reported
LEASE_SECONDS = 60  # the server's minimum: a killed holder frees its slot ~1-2 min later


class LockError(Exception):
    """A lock that cannot be held as declared (no Variable for an Argo semaphore, a bad size)."""


@dataclass(frozen=True)
class Lock:
    name: str  # the Prefect global concurrency limit
    label: str  # how the source names it (messages)
    size: int | None = None  # slots; None: read `config[key]` from the Prefect Variable `config`
    config: str | None = None
    key: str | None = None


def limit_name(*parts: str) -> str:
    """A limit name Prefect accepts (no `/ % & > <`)."""
    return re.sub(r"[/%&><\s]+", "-", "-".join(p for p in parts if p))


def size_of(lock: Lock, read_variable: Callable[[str], Any]) -> int:
    if lock.size is not None:
        return lock.size
    value = read_variable(lock.config or "")
    if value is None:
        raise LockError(f"{lock.label}: no Prefect Variable named {lock.config!r} holds the ConfigMap's keys; "
                        f"create it (a JSON object, e.g. {{\"{lock.key}\": \"1\"}}) with `prefect variable set`")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict) or lock.key not in value:
        raise LockError(f"{lock.label}: the Prefect Variable {lock.config!r} has no key {lock.key!r}")
    try:
        size = int(str(value[lock.key]).strip())
    except ValueError:
        raise LockError(f"{lock.label}: {lock.config}.{lock.key} is {value[lock.key]!r}, not a whole number") from None
    if size < 1:
        raise LockError(f"{lock.label}: {lock.config}.{lock.key} is {size}; a semaphore needs at least 1")
    return size


# ---------------------------------------------------------------- without a Prefect API

_local: dict[str, threading.BoundedSemaphore] = {}
_local_lock = threading.Lock()


@contextlib.contextmanager
def _hold_here(sized: list[tuple[Lock, int]], stop: StopToken, waiting: Callable[[], None]) -> Iterator[bool]:
    held: list[threading.BoundedSemaphore] = []
    try:
        for lock, size in sorted(sized, key=lambda item: item[0].name):  # one order: no deadlock
            with _local_lock:
                sem = _local.setdefault(lock.name, threading.BoundedSemaphore(size))
            if not sem.acquire(blocking=False):
                waiting()
                while not sem.acquire(timeout=WAIT_SLICE):
                    if stop.requested.is_set():
                        yield False
                        return
            held.append(sem)
        yield True
    finally:
        for sem in held:
            sem.release()


# ---------------------------------------------------------------- Prefect global concurrency limits


def _ensure_limits(sized: list[tuple[Lock, int]]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        for lock, size in sized:
            try:
                found = client.read_global_concurrency_limit_by_name(lock.name)
            except ObjectNotFound:
                try:
                    client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=lock.name, limit=size))
                except ObjectAlreadyExists:  # another run created it meanwhile
                    pass
                continue
            if found.limit != size or not found.active:
                client.update_global_concurrency_limit(lock.name, GlobalConcurrencyLimitUpdate(limit=size, active=True))


@contextlib.contextmanager
def _hold_in_prefect(sized: list[tuple[Lock, int]], stop: StopToken, waiting: Callable[[], None]) -> Iterator[bool]:
    """`prefect.concurrency.sync.concurrency` in a thread of its own, entered and left there
    (the holder waits for its slot as Prefect's acquisition service retries, renews the lease
    while held). The caller waits for it, or for a stop: then the thread gives back the slot
    as soon as it gets it. Waiting with short timeouts instead logs an ERROR each time."""
    from prefect.concurrency.sync import concurrency

    try:
        _ensure_limits(sized)
    except Exception as exc:  # the Prefect API refused or is gone: the holder cannot start
        raise LockError(f"cannot set up the Prefect concurrency limit of {', '.join(lk.label for lk, _ in sized)}: {exc}") from None
    names = [lock.name for lock, _ in sized]
    got, release = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def holder() -> None:
        try:
            with concurrency(names, occupy=1, strict=True, lease_duration=LEASE_SECONDS,
                             raise_on_lease_renewal_failure=False):
                got.set()
                release.wait()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failed.append(exc)
            got.set()

    context = contextvars.copy_context()  # Prefect's settings: the API of this run
    thread = threading.Thread(target=context.run, args=(holder,), name="flowport-lock-" + names[0][:40], daemon=True)
    thread.start()
    try:
        if not got.wait(WAIT_SLICE):
            waiting()
            while not got.wait(WAIT_SLICE):
                if stop.requested.is_set():
                    yield False
                    return
        if failed:
            raise LockError(f"cannot take {', '.join(names)}: {failed[0]}")
        yield True
    finally:
        release.set()  # a slot taken after a stop is given back at once
        if got.is_set():
            thread.join(timeout=30)


def read_variable(name: str) -> Any:
    from prefect.variables import Variable

    return Variable.get(name, default=None)


@contextlib.contextmanager
def hold(locks: list[Lock] | tuple[Lock, ...], stop: StopToken, *, prefect: bool,
         on_wait: Callable[[str], None] = lambda message: None) -> Iterator[bool]:
    """Hold every lock of `locks` for the block: yields True when held, False when a stop came
    while waiting. `on_wait(message)` is called once when a lock is taken by another holder
    (the source's words: "Waiting for <lock> lock"). Raises LockError before waiting."""
    if not locks:
        yield True
        return
    sized = [(lock, size_of(lock, read_variable)) for lock in locks]
    hold_them = _hold_in_prefect if prefect else _hold_here
    message = "Waiting for " + ", ".join(lock.label for lock in locks) + " lock"
    with hold_them(sized, stop, lambda: on_wait(message)) as held:
        yield held
