"""`flowport secrets import FILE…`: a team's Kubernetes Secrets and ConfigMaps, moved to the
Prefect server in PREFECT_API_URL with one command.

A `kind: Secret` named N becomes the Prefect Secret block N whose value is the JSON object
of its keys (`data` base64-decoded, `stringData` as written; a JSON string, so the API masks
it: a dict-valued Secret block is returned in clear, research/prefect.md §2). A
`kind: ConfigMap` named N becomes the Prefect Variable N holding the JSON object of its
`data` (Variables hold 5,000 characters at most: a bigger ConfigMap is refused, saying so).
Names keep Kubernetes' spelling where Prefect allows it; any other character becomes `-`.
Nothing of a value is ever printed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from ..adapter.k8s_objects import prefect_name

VARIABLE_LIMIT = 5000  # prefect.types.MAX_VARIABLE_VALUE_LENGTH


class ManifestError(ValueError):
    pass


def read_objects(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, name, {key: value}) of every Secret and ConfigMap in a manifest file (other
    kinds are skipped; a List's items are read)."""
    import yaml

    try:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8-sig")))
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"{path}: {exc}") from None
    objects: list[Any] = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            objects += doc.get("items") or []
        elif doc is not None:
            objects.append(doc)
    out = []
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("kind") not in ("Secret", "ConfigMap"):
            continue
        name = str((obj.get("metadata") or {}).get("name") or "")
        if not name:
            raise ManifestError(f"{path}: a {obj['kind']} without metadata.name")
        values: dict[str, str] = {}
        if obj["kind"] == "Secret":
            for key, raw in (obj.get("data") or {}).items():
                try:
                    values[str(key)] = base64.b64decode(str(raw), validate=True).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    raise ManifestError(f"{path}: Secret {name}: data.{key} is not base64 of UTF-8 text") from None
            values.update({str(k): str(v) for k, v in (obj.get("stringData") or {}).items()})
        else:
            values.update({str(k): str(v) for k, v in (obj.get("data") or {}).items()})
            for key, raw in (obj.get("binaryData") or {}).items():
                values[str(key)] = base64.b64decode(str(raw)).decode("utf-8", "replace")
        out.append((obj["kind"], name, values))
    return out


def import_objects(objects: list[tuple[str, str, dict[str, str]]]) -> list[str]:
    """Save them on the server; returns one line per object (names and key counts only)."""
    from prefect.blocks.system import Secret
    from prefect.variables import Variable

    lines = []
    for kind, name, values in objects:
        target = prefect_name(name)
        if kind == "Secret":
            Secret(value=json.dumps(values)).save(target, overwrite=True)
            lines.append(f"Secret {name} → Prefect Secret block {target} ({len(values)} key(s))")
        else:
            text = json.dumps(values)
            if len(text) > VARIABLE_LIMIT:
                raise ManifestError(f"ConfigMap {name}: {len(text)} characters of JSON; a Prefect Variable "
                                   f"holds {VARIABLE_LIMIT} at most")
            Variable.set(target, values, overwrite=True)
            lines.append(f"ConfigMap {name} → Prefect Variable {target} ({len(values)} key(s))")
    return lines
