"""Dagu step outputs and artifacts → IR: the structured `output:` map (published as
`${<id>.output.<key>}`), `stdout:`/`stderr:` given as `{artifact: path}`, and the DAG's
`artifacts:` block. Rules from dagucloud/dagu 532c512 `internal/spec/step.go`
(parseStructuredOutputEntry, parseStepObjectOutputRedirect, cleanStepArtifactPath) and
`internal/spec/dag.go` (buildArtifacts)."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from ..lang.paths import is_select_path
from ..model import OutputField

Path_ = tuple

ENTRY_FIELDS = ("value", "from", "path", "decode", "select")
SOURCES = ("stdout", "stderr", "file")
DECODINGS = ("text", "json", "yaml")


def structured_output(cx: Any, value: dict, path: Path_) -> tuple[OutputField, ...]:
    """`output: {key: entry}`. An entry that is not a mapping, or a mapping without any of
    value/from/path/decode/select, is a literal value (Dagu)."""
    fields = []
    for key, raw in value.items():
        kpath = (*path, key)
        if not isinstance(raw, dict) or not any(k in raw for k in ENTRY_FIELDS):
            fields.append(OutputField(key=str(key), value_json=_as_json(raw)))
            continue
        entry = _entry(cx, str(key), raw, kpath)
        if entry is not None:
            fields.append(entry)
    return tuple(fields)


def _entry(cx: Any, key: str, raw: dict, path: Path_) -> OutputField | None:
    bad = False

    def fail(where: Path_, message: str, hint: str | None = None) -> None:
        nonlocal bad
        bad = True
        cx.problems.error(where, message, hint=hint)

    text: dict[str, str] = {}
    for name, item in raw.items():
        if name not in ENTRY_FIELDS:
            fail((*path, name), f"unknown field {name!r} in a structured output entry",
                 hint="an entry has `value`, or `from` with `path`/`decode`/`select`")
        elif name != "value":
            if isinstance(item, str):
                text[name] = item.strip()
            else:
                fail((*path, name), f"`{name}` must be a string")
    if bad:
        return None
    if "value" in raw:
        if "from" in text:
            fail(path, "`value` and `from` cannot be used together")
        elif text.keys() & {"path", "decode", "select"}:
            fail(path, "`path`, `decode` and `select` are only valid with `from`")
        return None if bad else OutputField(key=key, value_json=_as_json(raw["value"]))
    source, decode, select = text.get("from", ""), text.get("decode", "") or "text", text.get("select") or None
    if not source:
        fail(path, "an output entry needs a literal `value` or `from`", hint="from: stdout|stderr|file")
    elif source not in SOURCES:
        fail((*path, "from"), f"`from` must be one of {', '.join(SOURCES)}, got {source!r}")
    elif source == "file" and not text.get("path"):
        fail(path, "`path` is required when `from` is file")
    elif source != "file" and "path" in text:
        fail((*path, "path"), "`path` is only valid when `from` is file")
    if decode not in DECODINGS:
        fail((*path, "decode"), f"`decode` must be one of {', '.join(DECODINGS)}, got {decode!r}")
    elif select is not None and decode == "text":
        fail((*path, "select"), "`select` requires `decode: json` or `decode: yaml`")
    elif select is not None and not is_select_path(select):
        cx.problems.unsupported((*path, "select"), f"jq filter {select!r}",
                                hint="flowport selects with plain paths such as .a.b[0] or .[\"k\"]")
        bad = True
    if bad:
        return None
    return OutputField(key=key, source=source, path=text.get("path"), decode=decode, select=select)


def _as_json(value: Any) -> str:
    return json.dumps(value, default=str)  # YAML dates and the like become strings


def redirect(cx: Any, key: str, value: Any, path: Path_) -> tuple[str | None, str | None]:
    """`stdout:` / `stderr:` → (file path, artifact path)."""
    if isinstance(value, dict):
        artifact = None
        if not value:
            cx.problems.error(path, f"`{key}:` as a mapping must not be empty", hint="use {artifact: path}")
        for name, item in value.items():
            if name == "artifact":
                artifact = artifact_path(cx, item, (*path, name))
            elif name == "outputs" and key == "stdout":
                cx.problems.unsupported((*path, name), "`stdout.outputs`", hint="use a structured `output:` map")
            else:
                cx.problems.error((*path, name), f"`{key}:` as a mapping supports only `artifact`")
        return None, artifact
    return cx.string(value, path), None


def artifact_path(cx: Any, value: Any, path: Path_) -> str | None:
    """A clean relative path inside the run's artifacts folder (cleanStepArtifactPath)."""
    if not isinstance(value, str) or not value.strip():
        cx.problems.error(path, "an artifact path must be a non-empty string")
        return None
    normalized = value.strip().replace("\\", "/")
    if normalized.startswith(("/", "~/")) or normalized == "~" or normalized[1:2] == ":":
        cx.problems.error(path, "an artifact path must be relative", hint="it lands under the run's artifacts folder")
        return None
    if ".." in normalized.split("/"):
        cx.problems.error(path, "an artifact path must not contain `..`")
        return None
    clean = posixpath.normpath(normalized)
    if clean == ".":
        cx.problems.error(path, "an artifact path must name a file")
        return None
    return clean


def artifacts_dir(cx: Any, top: dict, uses_artifacts: bool) -> str | None:
    """The DAG's artifacts folder: None when off, "" for flowport's default folder. Artifact
    outputs or a reference to DAG_RUN_ARTIFACTS_DIR turn it on unless `enabled: false`."""
    if "artifacts" not in top:
        return "" if uses_artifacts else None
    value, path = top["artifacts"]
    if not isinstance(value, dict):
        cx.problems.error(path, "`artifacts:` must be a mapping", hint="artifacts: {enabled: true, dir: artifacts}")
        return None
    enabled: bool | None = None
    folder = ""
    for name, item in value.items():
        if name == "enabled":
            enabled = cx.boolean(item, (*path, name))
        elif name == "dir":
            folder = cx.string(item, (*path, name)) or ""
        else:
            cx.problems.error((*path, name), f"unknown key {name!r} in `artifacts:`", hint="keys: enabled, dir")
    if enabled is False and uses_artifacts:
        cx.problems.error((*path, "enabled"), "artifact outputs require `artifacts.enabled` to be true")
        return None
    if enabled or (enabled is None and uses_artifacts):
        return folder
    return None  # a `dir` alone does not turn artifacts on (Dagu)


def mentions_artifacts_dir(data: Any) -> bool:
    """Whether any string of the DAG refers to the run's artifacts folder."""
    if isinstance(data, str):
        return "DAG_RUN_ARTIFACTS_DIR" in data or "context.paths.artifacts_dir" in data
    if isinstance(data, dict):
        return any(mentions_artifacts_dir(v) for v in data.values())
    if isinstance(data, list):
        return any(mentions_artifacts_dir(v) for v in data)
    return False
