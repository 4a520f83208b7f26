"""Dagu's base config (`~/.config/dagu/base.yaml`, or `--base-config`): a DAG-shaped file
merged under every DAG (research/dagu.md §3.5). The DAG wins key by key; mappings such as
`smtp`, `mailOn`, `errorMail`, `handlerOn` merge field by field; `env` entries of the base
come first, so the DAG's own can refer to and override them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .source import Document

APPENDED = {"env"}


def default_base_config() -> Path | None:
    """Where Dagu looks for it: $DAGU_HOME/base.yaml, else ~/.config/dagu/base.yaml."""
    home = os.environ.get("DAGU_HOME")
    path = Path(home, "base.yaml") if home else Path("~/.config/dagu/base.yaml").expanduser()
    return path if path.is_file() else None


def _norm(key: Any) -> str:
    return str(key).lower().replace("_", "").replace("-", "")


def _merge(base: Any, dag: Any, depth: int) -> Any:
    if not (isinstance(base, dict) and isinstance(dag, dict)):
        return dag
    merged = dict(dag)
    mine = {_norm(k): k for k in dag}
    for key, value in base.items():
        own = mine.get(_norm(key))
        if own is None:
            merged[key] = value
        elif depth == 0 and _norm(key) in APPENDED:
            merged[own] = _as_list(value) + _as_list(dag[own])
        elif isinstance(value, dict) and isinstance(dag[own], dict):
            merged[own] = _merge(value, dag[own], depth + 1)
    return merged


def _as_list(env: Any) -> list:
    if isinstance(env, dict):
        return [{k: v} for k, v in env.items()]
    return list(env) if isinstance(env, list) else [env]


def with_base(doc: Document, base: Document) -> Document:
    """`doc` with `base` merged under it. Positions stay the DAG's: the base file is
    validated on its own first, so no message needs to point into it."""
    data = _merge(base.data, doc.data, 0) if isinstance(doc.data, dict) else doc.data
    return Document(doc.file, doc.text, data, doc.index, doc._values, doc._keys)
