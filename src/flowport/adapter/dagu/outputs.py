"""Dagu's structured `output:` map, evaluated after a step ran (dagucloud/dagu 532c512
`internal/runtime/node.go` evaluateStructuredOutput): each key is a literal (its strings
expanded) or read from stdout, stderr or a file, decoded as text/json/yaml and narrowed by
a jq path. The result is published as compact JSON, the step's `${<id>.output}`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import yaml

from ...lang.dagu_vars import go_json
from ...lang.errors import ExpressionError
from ...lang.paths import select_path
from ...model import OutputField
from ..runners.shell import MAX_OUTPUT_BYTES


class OutputError(Exception):
    """The step's outputs cannot be evaluated: the step fails with this message."""


def evaluate_structured(
    fields: tuple[OutputField, ...],
    *,
    stdout: str,
    stderr_file: Path,
    cwd: str,
    expand: Callable[[str], str],
) -> tuple[dict[str, Any], str]:
    """The values by key, and the JSON text published as `${<id>.output}`."""
    values = {f.key: _value(f, stdout=stdout, stderr_file=stderr_file, cwd=cwd, expand=expand) for f in fields}
    try:
        text = go_json(values)
    except ExpressionError as exc:  # json.Marshal refuses NaN/Inf (a YAML `.nan`), as Dagu's does
        raise OutputError(f"output: {exc}") from None
    if len(text.encode()) > MAX_OUTPUT_BYTES:
        raise OutputError(f"output exceeds the {MAX_OUTPUT_BYTES} byte limit")
    return values, text


def _value(f: OutputField, *, stdout: str, stderr_file: Path, cwd: str, expand: Callable[[str], str]) -> Any:
    if f.value_json is not None:
        return expand_strings(json.loads(f.value_json), expand)
    if f.source == "stdout":
        raw = stdout
    elif f.source == "stderr":
        raw = _read(stderr_file, f.key)
    else:
        raw = _read(Path(cwd, expand(f.path or "")), f.key)
    if f.decode == "text":
        return raw.strip()
    try:
        decoded = json.loads(raw) if f.decode == "json" else yaml.safe_load(raw)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:
        raise OutputError(f"output {f.key}: failed to decode {f.decode.upper()}: {exc}") from None
    if f.select is None:
        return decoded
    ok, selected = select_path(decoded, f.select)
    if not ok:
        raise OutputError(f"output {f.key}: failed to resolve select path {f.select!r}")
    return selected


def expand_strings(value: Any, expand: Callable[[str], str]) -> Any:
    """The strings inside `value` (lists and mappings included), expanded."""
    if isinstance(value, str):
        return expand(value)
    if isinstance(value, list):
        return [expand_strings(v, expand) for v in value]
    if isinstance(value, dict):
        return {k: expand_strings(v, expand) for k, v in value.items()}
    return value


def _read(path: Path, key: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_OUTPUT_BYTES + 1)
    except OSError as exc:
        raise OutputError(f"output {key}: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_OUTPUT_BYTES:
        raise OutputError(f"output {key}: {str(path)!r} exceeds the {MAX_OUTPUT_BYTES} byte limit")
    return data.decode("utf-8", "replace")
