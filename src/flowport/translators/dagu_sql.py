"""Dagu's SQLite executor → IR (`type: sqlite` + `with:`/`config:`, V3 `action: sqlite.query`
whose `with.query` is the command). Config keys from dagucloud/dagu 532c512
`internal/runtime/builtin/sql/config.go`; the ones flowport does not run are reported."""

from __future__ import annotations

import json
from typing import Any

from ..model import Sql

Path_ = tuple

SQL_KEYS = {
    "dsn": "ok", "params": "ok", "timeout": "ok", "transaction": "ok", "output_format": "ok",
    "headers": "ok", "null_string": "ok", "max_rows": "ok",
    "isolation_level": "unsupported", "file_lock": "unsupported", "shared_memory": "unsupported",
    "streaming": "unsupported", "output_file": "unsupported", "import": "unsupported",
    "advisory_lock": "ignored",  # PostgreSQL only: Dagu ignores it for SQLite too
}
FORMATS = ("jsonl", "json", "csv")


def sqlite_action(cx: Any, config: tuple[Any, Path_] | None, where: Path_,
                  query: tuple[Any, Path_] | None, script: tuple[Any, Path_] | None) -> Sql | None:
    if config is None:
        cx.problems.error(where, "the sqlite executor needs `with:` (or `config:`) with at least `dsn`")
        return None
    value, path = config
    if not isinstance(value, dict):
        cx.problems.error(path, "the sqlite executor's config must be a mapping")
        return None
    f = cx.fields(value, path, SQL_KEYS, "sqlite config")
    dsn = cx.string(*f["dsn"]) if "dsn" in f else None
    if not dsn:
        cx.problems.error(path, "the sqlite executor needs `dsn` (a file path, file: URI or :memory:)")
        return None
    if query is None and script is None:
        cx.problems.error(where, "the sqlite executor needs a query (`command:`, `with.query`) or a `script:`")
        return None
    params_json = None
    if "params" in f:
        params, ppath = f["params"]
        if not isinstance(params, (dict, list)):
            cx.problems.error(ppath, "`params` is a mapping (named :name) or a list (positional ?)")
        else:
            params_json = json.dumps(params, default=str)
    output_format = cx.string(*f["output_format"]) if "output_format" in f else "jsonl"
    if output_format not in FORMATS:
        cx.problems.error(f["output_format"][1], f"output_format must be one of {', '.join(FORMATS)}, got {output_format!r}")
        output_format = "jsonl"
    return Sql(
        dsn=dsn,
        query=cx.string(*query) if query is not None and script is None else None,
        script=cx.string(*script) if script is not None else None,
        params_json=params_json,
        output_format=output_format,
        headers=cx.boolean(*f["headers"]) if "headers" in f else False,
        null_string=cx.string(*f["null_string"]) if "null_string" in f else "null",
        max_rows=int(cx.number(*f["max_rows"], integer=True) or 0) if "max_rows" in f else 0,
        timeout=cx.number(*f["timeout"]) if "timeout" in f else 60.0,
        transaction=cx.boolean(*f["transaction"]) if "transaction" in f else False,
    )
