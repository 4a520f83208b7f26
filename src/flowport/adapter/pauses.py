"""People in the loop: a node that waits for a person, as a Prefect pause of the flow run.

A dialect says what a pause means (Argo `suspend: {}` with `valueFrom.supplied` outputs,
Dagu `approval:` with its inputs) by building a `Pause`; this module does the waiting once:

- the flow run goes `Paused` with a form (a `RunInput` schema in the run's inputs, keyed by
  the state's `run_input_keyset`), so the Prefect UI shows Resume with the declared fields;
- a person resumes (`flowport resume RUN_ID -p NAME=VALUE`, the UI) or rejects
  (`flowport reject RUN_ID --reason …`, or `decision: reject` in the UI form);
- a stop of the run (Ctrl-C, a Prefect cancel, the workflow deadline) ends the wait at once,
  and the node's own timeout (`Pause.timeout`) ends it as timed out; either way the flow run
  is set back to Running so the run core can end it with its handlers.

One pause at a time per flow run (a Prefect flow run has one state): a second node that
needs a person waits its turn. The pause begins once nothing else of the run is running
(`busy`): Prefect starts no task run in a paused flow run, so the rest of the graph goes on
first, as Argo and Dagu let it. Values are strings, as both engines keep them.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from .runners.base import StopToken

RESUMED = "resumed"
REJECTED = "rejected"
STOPPED = "stopped"
TIMED_OUT = "timed_out"
INCOMPLETE = "incomplete"  # resumed without a required value: the node waits again
REQUIRED = "x-flowport-required"  # marks a required value in the form's schema

DECISION, REASON = "decision", "reason"  # the form's own fields (prefixed when a value takes the name)
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Field:
    """One value the person supplies: `required` to resume (a rejection needs none of them;
    the form shows it empty); `choices` from an enum."""

    name: str
    default: str | None = None
    choices: tuple[str, ...] = ()
    description: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Pause:
    key: str  # unique within the run (the node's name)
    description: str  # Markdown above the form in the Prefect UI
    fields: tuple[Field, ...] = ()
    timeout: float | None = None  # seconds; None waits until a person or a stop ends it


@dataclass(frozen=True)
class Answer:
    verdict: str  # RESUMED | REJECTED | STOPPED | TIMED_OUT (INCOMPLETE: asked again)
    values: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def control_names(fields: tuple[Field, ...]) -> tuple[str, str]:
    """The names of the form's decision and reason fields (a declared value keeps its name)."""
    taken = {f.name for f in fields}
    return tuple(n if n not in taken else f"flowport_{n}" for n in (DECISION, REASON))  # type: ignore[return-value]


def form_model(pause: Pause) -> Any:
    """The `RunInput` subclass of a pause: its fields (strings), then decision and reason."""
    from typing import Literal

    from pydantic import Field as PydanticField
    from pydantic import create_model
    from prefect.input import RunInput

    spec: dict[str, Any] = {}
    for f in pause.fields:
        kind: Any = Literal[f.choices] if f.choices else str  # type: ignore[valid-type]
        options: dict[str, Any] = {"title": f.name, **({"description": f.description} if f.description else {})}
        if f.required:
            # not required by the schema, so that a rejection needs no value (Prefect validates
            # every resume against it); the wait checks it and asks again
            options["description"] = (f.description + " " if f.description else "") + "(required to resume)"
            options["json_schema_extra"] = {REQUIRED: True}
        spec[f.name] = (kind, PydanticField("" if f.default is None else f.default, **options))
    decision, reason = control_names(pause.fields)
    spec[decision] = (Literal["resume", "reject"], PydanticField("resume", description="resume, or reject"))
    spec[reason] = (str, PydanticField("", description="why (shown on the node when rejected)"))
    return create_model("Input", __base__=RunInput, **spec)


def read_answer(pause: Pause, response: dict[str, Any] | None) -> Answer:
    """A resume's input → the answer: the declared values (defaults for those not given), or
    a rejection with its reason."""
    response = dict(response or {})
    decision, reason = control_names(pause.fields)
    why = str(response.get(reason) or "")
    if response.get(decision) == "reject":
        return Answer(REJECTED, reason=why)
    values = {}
    for f in pause.fields:
        value = response.get(f.name, f.default)
        if value is not None:
            values[f.name] = value if isinstance(value, str) else json.dumps(value)
    missing = [f.name for f in pause.fields if f.required and not values.get(f.name)]
    if missing:
        return Answer(INCOMPLETE, values=values, reason=", ".join(missing))
    return Answer(RESUMED, values=values, reason=why)


def answer_input(form: list[str], values: dict[str, str], *, reject: bool = False,
                 reason: str = "") -> dict[str, Any]:
    """What `flowport resume`/`reject` send as `run_input` for a form whose fields are `form`
    (the schema's property names: the declared values, then decision and reason)."""
    decision, why = form[-2:]
    body: dict[str, Any] = dict(values)
    body[decision] = "reject" if reject else "resume"
    if reason:
        body[why] = reason
    return body


# ---------------------------------------------------------------- waiting

_turns: dict[str, threading.Lock] = {}  # run id → the lock of its one pause at a time
_waiting: dict[str, set[str]] = {}  # run id → keys of the nodes waiting for a person
_registry_lock = threading.Lock()


def waiting_nodes(run_id: str) -> set[str]:
    with _registry_lock:
        return set(_waiting.get(run_id, ()))


def wait_for_person(run_id: str, pause: Pause, stop: StopToken, logger: Any,
                    busy: Callable[[], bool] = lambda: False) -> Answer:
    """Pause the flow run `run_id` for `pause` and wait for its answer (see the module text)."""
    deadline = None if pause.timeout is None else time.monotonic() + pause.timeout
    with _registry_lock:
        turn = _turns.setdefault(run_id, threading.Lock())
        _waiting.setdefault(run_id, set()).add(pause.key)
    try:
        logger.info(f"waiting for a person: resume or reject flow run {run_id} (Prefect UI, "
                    f"`flowport resume {run_id}`, `flowport reject {run_id}`)")
        while not turn.acquire(timeout=POLL_SECONDS):
            early = _ended(stop, deadline)
            if early:
                return Answer(early)
        try:
            while busy():  # the rest of the graph first: a paused run starts no task
                early = _ended(stop, deadline)
                if early:
                    return Answer(early)
                time.sleep(POLL_SECONDS)
            while True:
                answer = _paused(run_id, pause, stop, deadline, logger)
                if answer.verdict != INCOMPLETE:
                    return answer
                logger.warning(f"resumed without {answer.reason} (required): waiting again")
        finally:
            turn.release()
    finally:
        with _registry_lock:
            _waiting.get(run_id, set()).discard(pause.key)
            if not _waiting.get(run_id):
                _waiting.pop(run_id, None)
                _turns.pop(run_id, None)


def _ended(stop: StopToken, deadline: float | None) -> str | None:
    if stop.requested.is_set():
        return STOPPED
    if deadline is not None and time.monotonic() >= deadline:
        return TIMED_OUT
    return None


def _paused(run_id: str, pause: Pause, stop: StopToken, deadline: float | None, logger: Any) -> Answer:
    from prefect.client.orchestration import get_client
    from prefect.input.run_input import keyset_from_base_key
    from prefect.states import Paused

    flow_run_id = uuid.UUID(run_id)
    model = form_model(pause)
    # input keys take lowercase letters, digits and dashes; a pause key is never used twice
    slug = re.sub(r"[^a-z0-9]+", "-", pause.key.lower()).strip("-")[:60] or "node"
    pause_key = f"{slug}-{uuid.uuid4().hex[:8]}"
    keyset = keyset_from_base_key(f"paused-{pause_key}")
    state = Paused(pause_key=pause_key)  # no server timeout: it would fail the whole flow run
    state.state_details.run_input_keyset = keyset
    with get_client(sync_client=True) as client:
        result = client.set_flow_run_state(flow_run_id, state)
        if not result.state or not result.state.is_paused():
            if stop.requested.wait(POLL_SECONDS * 4):  # being cancelled: not Running, no pause
                return Answer(STOPPED)
            reason = getattr(result.details, "reason", None) or result.status
            raise RuntimeError(f"the flow run could not be paused: {reason}")
        # the form after the state: Prefect clears a new pause's keys as it accepts it
        _save_form(client, flow_run_id, keyset, model, pause.description)
        logger.info(f"flow run paused for {pause.key}")
        try:
            while True:
                early = _ended(stop, deadline)
                if early:
                    return Answer(early)
                current = client.read_flow_run(flow_run_id).state
                if current is not None and current.is_running():
                    raw = _read_input(client, flow_run_id, keyset["response"])
                    return read_answer(pause, raw)
                if current is not None and (current.is_cancelling() or current.is_cancelled() or current.is_final()):
                    stop.requested.wait(POLL_SECONDS * 4)  # the cancel watcher asks the core to stop
                    return Answer(STOPPED)
                time.sleep(POLL_SECONDS)
        finally:
            _unpause(client, flow_run_id)


def _save_form(client: Any, flow_run_id: uuid.UUID, keyset: dict[str, str], model: Any, description: str) -> None:
    """What `RunInput.save` stores (the schema the UI renders, the Markdown above it), through
    this thread's client: Prefect's own helper may dispatch to async inside a task run."""
    from prefect._internal.pydantic.v2_schema import create_v2_schema

    schema = create_v2_schema(model.__name__, model_base=model)
    client.create_flow_run_input(flow_run_id, keyset["schema"], json.dumps(schema))
    client.create_flow_run_input(flow_run_id, keyset["description"], json.dumps(description))


def _read_input(client: Any, flow_run_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    try:
        text = client.read_flow_run_input(flow_run_id=flow_run_id, key=key)
    except Exception:  # resumed without input: the defaults
        return None
    value = json.loads(text) if isinstance(text, str) and text else None
    return value if isinstance(value, dict) else None


def _unpause(client: Any, flow_run_id: uuid.UUID) -> None:
    """A wait that ended without a resume (a stop, a timeout): the run goes on Running, so the
    core ends it with its handlers (a cancel in progress is left as it is)."""
    from prefect.states import Running

    try:
        current = client.read_flow_run(flow_run_id).state
        if current is not None and current.is_paused():
            client.set_flow_run_state(flow_run_id, Running(), force=True)
    except Exception:  # the server is gone: the run ends without it
        pass


# ---------------------------------------------------------------- resume / reject (the CLI)


def paused_form(flow_run_id: uuid.UUID) -> dict[str, Any]:
    """The fields of a paused flow run's form (name → JSON schema); an error when it is not paused."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
        if state is None or not state.is_paused():
            name = state.name if state is not None else "no state"
            raise ValueError(f"flow run {flow_run_id} is not paused (it is {name})")
        keyset = state.state_details.run_input_keyset
        if not keyset:
            return {}
        schema = json.loads(client.read_flow_run_input(flow_run_id=flow_run_id, key=keyset["schema"]))
    return dict(schema.get("properties") or {})


def answer(flow_run_id: uuid.UUID, values: dict[str, str], *, reject: bool = False, reason: str = "") -> None:
    """Resume (or reject) a paused flow run with `values` for its form."""
    from prefect.client.orchestration import get_client

    form = paused_form(flow_run_id)
    names = list(form)
    own = names[:-2]
    unknown = sorted(set(values) - set(own))
    if unknown and names:
        raise ValueError(f"the pause has no value named {', '.join(unknown)}"
                         + (f" (it takes {', '.join(own)})" if own else " (it takes none)"))
    missing = [n for n in own if form[n].get(REQUIRED) and not values.get(n) and not form[n].get("default")]
    if missing and not reject:
        raise ValueError(f"give {', '.join(missing)} to resume (-p {missing[0]}=VALUE)")
    if not names and (values or reject):
        raise ValueError(f"flow run {flow_run_id} was not paused by flowport: it takes no values and cannot "
                         "be rejected (resume it, or cancel it)")
    body = answer_input(names, values, reject=reject, reason=reason) if names else None
    with get_client(sync_client=True) as client:
        result = client.resume_flow_run(flow_run_id, run_input=body)
    if result.status.value not in ("ACCEPT",):
        why = getattr(result.details, "reason", None) or result.status.value
        raise ValueError(f"cannot resume flow run {flow_run_id}: {why}")
