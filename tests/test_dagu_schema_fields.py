"""Every field of Dagu's DAG JSON schema (tests/data/dagu_schema_fields.txt, derived from Dagu's
schemas/dag.schema.json by scripts/dagu_schema_fields.py) is handled, accepted with no effect
under Prefect (listed by `plan`), or refused by `validate` as not supported yet, naming the
field or the field that contains it. None is unknown to flowport, none is silently dropped."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import re

import pytest
import yaml

from flowport.translators import check
from flowport.translators.source import format_path

FIELDS = [line for line in (Path(__file__).parent / "data" / "dagu_schema_fields.txt").read_text().splitlines()
          if line and not line.startswith("#")]
DOCKER = "with(type=docker)"
UNKNOWN_KEY = re.compile(r"unknown .* key '")

# Fields whose null value would say nothing: a value that takes the path flowport runs.
SAMPLES = {"steps[].outputs": ["image"], "steps[].with": {"image": "busybox"},
           "steps[].config": {"image": "busybox"}, "shell_args": ["-e"], "steps[].shell_args": ["-e"]}
# `params:` as a whole for its mapping forms (the JSON-schema ones)
PARAMS = {"params.schema": {"schema": "./schema.json"},
          "params.values": {"schema": "./schema.json", "values": {"a": 1}},
          "params.type": {"type": "object", "properties": {}},
          "params.properties": {"type": "object", "properties": {}}}


def raw_path(field: str) -> tuple:
    """`steps[].retry_policy.limit` -> ("steps", 0, "retry_policy", "limit")."""
    out: list = []
    for part in field.split("."):
        if part == DOCKER:
            out.append("with")
            continue
        name, brackets, _ = part.partition("[]")
        out.append(name)
        if brackets:
            out.append(0)
    return tuple(out)


def document(field: str) -> dict:
    """The smallest DAG that sets `field` (to null: only the key matters here)."""
    path = raw_path(field)
    leaf: object = SAMPLES.get(field)
    for i in range(len(path) - 1, -1, -1):
        part = path[i]
        if isinstance(part, int):
            leaf = [leaf]
            continue
        leaf = {part: leaf}
        if i > 0 and path[i - 1] == "with" and DOCKER in field:
            leaf = {"image": "busybox", **leaf} if part != "image" else leaf
    if field.startswith("steps[]."):
        step = leaf["steps"][0]
        if DOCKER in field or field in ("steps[].with", "steps[].config"):
            step["type"] = "docker"
        if field == "steps[].shell_args":
            step["shell"] = "bash"
        elif not {"run", "command", "script", "exec", "call", "action", "type", "parallel", "foreach",
                  "value", "routes", "approval", "messages", "llm", "config", "with", "container"} & set(step):
            step["run"] = "true"
        return leaf
    if field in PARAMS:
        leaf = {"params": PARAMS[field]}
    elif field.startswith("params[]."):
        leaf["params"][0].setdefault("name", "p")
        leaf["params"][0].setdefault("default", "x")
    if field != "steps":
        leaf["steps"] = [{"run": "true"}]
    if field == "shell_args":
        leaf["shell"] = "bash"
    return leaf


def classify(field: str, tmp_path: Path) -> str:
    """handled | ignored | unsupported | unsupported-inside (a containing field is refused) |
    unknown (a failure)."""
    target = raw_path(field)
    file = tmp_path / "dag.yaml"
    result = check(file, text=yaml.safe_dump(document(field), sort_keys=False))
    notes = set(result.ignored or (result.workflow.ignored if result.workflow else ()))
    for n in range(len(target), 0, -1):
        prefix = target[:n]
        key_problems = [p for p in result.problems if p.path == prefix and (
            p.kind == "unsupported" or UNKNOWN_KEY.match(p.message))]
        if any(UNKNOWN_KEY.match(p.message) for p in key_problems):
            return "unknown: " + "; ".join(p.message for p in key_problems)
        if any(p.kind == "unsupported" for p in key_problems):
            return "unsupported" if n == len(target) else "unsupported-inside"
        if f"{format_path(prefix)}: no effect under Prefect" in notes:
            return "ignored" if n == len(target) else "ignored-inside"
    return "handled"


# A sample of each class, pinned: what a user of these fields gets.
PINNED = {
    "steps[].with(type=docker).volumes": "handled", "steps[].with(type=docker).host": "handled",
    "defaults.retry_policy": "handled", "steps[].outputs[].name": "handled", "schedule[].expression": "handled",
    "shell_args": "handled", "steps[].shell_args": "handled",
    "steps[].params": "handled", "params[].enum": "ignored", "params.schema": "ignored", "group": "ignored",
    "resources": "ignored", "steps[].dependencies": "ignored", "otel.endpoint": "ignored-inside",
    "retry_policy": "handled", "retry_policy.backoff": "handled", "secrets[].provider": "handled", "steps[].foreach": "unsupported", "steps[].call": "handled", "steps[].parallel.max_concurrent": "handled",
    "steps[].with(type=docker).network": "unsupported", "schedule[].at": "unsupported",
    "kubernetes.namespace": "unsupported-inside", "params.properties": "unsupported-inside",
}


@pytest.mark.parametrize("field", sorted(PINNED))
def test_pinned_classes(field, tmp_path):
    assert field in FIELDS
    assert classify(field, tmp_path) == PINNED[field]


@pytest.fixture(scope="module")
def classes(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("schema")
    return {field: classify(field, tmp) for field in FIELDS}


def test_the_field_list_names_its_dagu_commit():
    header = (Path(__file__).parent / "data" / "dagu_schema_fields.txt").read_text().splitlines()[0]
    assert header.startswith("# Field paths of Dagu's DAG schema: dagucloud/dagu 532c512944b2")
    assert len(FIELDS) == len(set(FIELDS)) > 300


def test_every_schema_field_is_handled_ignored_or_refused(classes):
    unknown = {f: c for f, c in classes.items() if c.startswith("unknown")}
    assert unknown == {}
    counts = Counter(classes.values())
    print("schema field classes:", dict(sorted(counts.items())))
    # the count of each class, so a change is a decision (update docs/dagu.md with it)
    assert dict(counts) == {"handled": 172, "ignored": 29, "ignored-inside": 9,
                            "unsupported": 42, "unsupported-inside": 124}

