"""Dagu's SQLite executor on Python's sqlite3 (dagucloud/dagu 532c512
`internal/runtime/builtin/sql/{sql,params,result}.go`): named `:name` parameters become `?`
in order, a query that returns rows writes them to stdout (jsonl by default, json, csv),
statements that change data write nothing. A stop or the timeout interrupts the query."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from decimal import Decimal
from typing import IO, Any

from ...lang import gofmt
from ...lang.dagu_vars import go_json
from ...model import Sql
from .base import LineSink, RunResult, StopToken, emit_stdout
from .shell import MAX_OUTPUT_BYTES

_NAMED = re.compile(r":([a-zA-Z_][a-zA-Z0-9_]*)")
_ROW_RETURNING = ("SELECT", "WITH", "TABLE", "VALUES", "PRAGMA")


class SqlError(Exception):
    pass


def run_sqlite(spec: Sql, *, cwd: str, sink: LineSink, stop: StopToken | None,
               stdout_file: IO[str] | None = None) -> RunResult:
    if stop is not None and stop.requested.is_set():
        return RunResult(None, error="stopped before the query started", stopped=True)
    out: list[str] = []

    def emit(text: str) -> None:
        out.append(text)
        emit_stdout(text, sink, stdout_file)

    try:
        conn = _connect(spec.dsn, cwd)
    except sqlite3.Error as exc:
        return RunResult(None, error=f"cannot open the database {spec.dsn!r}: {exc}")
    ended: list[str] = []

    def interrupt(reason: str) -> None:
        ended.append(reason)
        conn.interrupt()

    stop_key = stop.register(lambda force: interrupt("stop")) if stop is not None else None
    timer = threading.Timer(spec.timeout, interrupt, args=("timeout",)) if spec.timeout > 0 else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        params = json.loads(spec.params_json) if spec.params_json else None
        statements = split_statements(spec.script) if spec.script is not None else [spec.query or ""]
        if spec.transaction:
            conn.execute("BEGIN")
        for number, statement in enumerate(statements, start=1):
            try:
                _execute(conn, statement, params, spec, emit)
            except (sqlite3.Error, SqlError) as exc:
                raise SqlError(f"statement {number} failed: {exc}" if spec.script is not None else str(exc)) from None
        if spec.transaction:
            conn.execute("COMMIT")
    except (sqlite3.Error, SqlError) as exc:
        if ended and ended[0] == "stop":
            return RunResult(None, "".join(out), "stopped", stopped=True)
        if ended:
            return RunResult(None, "".join(out), f"query timed out after {spec.timeout:g}s", timed_out=True)
        return RunResult(1, "".join(out), str(exc))
    finally:
        if timer is not None:
            timer.cancel()
        if stop_key is not None and stop is not None:
            stop.unregister(stop_key)
        conn.close()
    stdout = "".join(out)
    if len(stdout.encode()) > MAX_OUTPUT_BYTES:
        return RunResult(0, stdout[:MAX_OUTPUT_BYTES], f"output exceeds the {MAX_OUTPUT_BYTES} byte limit")
    return RunResult(0, stdout)


def _connect(dsn: str, cwd: str) -> sqlite3.Connection:
    """`:memory:`, a path (relative to the step's directory) or a `file:` URI."""
    if dsn.startswith("file:"):
        rest = dsn[len("file:"):]
        if rest and not rest.startswith(("/", ":memory:")) and not rest.startswith("?"):
            dsn = "file:" + os.path.join(cwd, rest)
        conn = sqlite3.connect(dsn, uri=True, timeout=5.0, isolation_level=None, check_same_thread=False)
    else:
        path = dsn if dsn == ":memory:" or os.path.isabs(dsn) else os.path.join(cwd, dsn)
        conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _execute(conn: sqlite3.Connection, statement: str, params: Any, spec: Sql, emit) -> None:
    sql, values = bind(statement, params)
    cursor = conn.execute(sql, values)
    if not returns_rows(sql):
        return
    columns = [d[0] for d in cursor.description or ()]
    rows = cursor.fetchmany(spec.max_rows) if spec.max_rows > 0 else cursor.fetchall()
    emit(render(columns, rows, spec))


def bind(statement: str, params: Any) -> tuple[str, list]:
    """Named parameters (a mapping) → `?` with values in order of appearance; a list is
    positional and must match the number of `?` (Dagu's PrepareParams)."""
    if isinstance(params, dict):
        values: list = []

        def one(m: re.Match[str]) -> str:
            if m.group(1) not in params:
                raise SqlError(f"parameter {m.group(1)!r} not found in params")
            values.append(params[m.group(1)])
            return "?"

        return _NAMED.sub(one, statement), values
    if isinstance(params, list):
        count = statement.count("?")
        if count != len(params):
            raise SqlError(f"parameter count mismatch: query has {count} placeholders but {len(params)} parameters provided")
        return statement, params
    return statement, []


def returns_rows(statement: str) -> bool:
    upper = statement.strip().upper()
    return " RETURNING " in upper or upper.endswith(" RETURNING") or upper.startswith(_ROW_RETURNING)


def render(columns: list[str], rows: list[tuple], spec: Sql) -> str:
    if spec.output_format == "csv":
        lines = [columns] if spec.headers else []
        lines += [[_csv_value(v, spec.null_string) for v in row] for row in rows]
        return "".join(",".join(_csv_field(f) for f in line) + "\n" for line in lines)
    records = [{c: _json_value(v) for c, v in zip(columns, row)} for row in rows]
    if spec.output_format == "json":
        return _indented(records) + "\n"
    return "".join(go_json(r) + "\n" for r in records)


def _json_value(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _csv_value(value: Any, null: str) -> str:
    if value is None:
        return null
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")  # strconv.FormatFloat(v, 'f', -1, 64)
    return str(value)


def _csv_field(field: str) -> str:
    """encoding/csv quoting: delimiter, quote, CR/LF or a leading space/tab."""
    if field and (any(c in field for c in ',"\r\n') or field[0] in " \t" or field == "\\."):
        return '"' + field.replace('"', '""') + '"'
    return field


def _indented(records: list[dict]) -> str:
    """json.MarshalIndent(rows, "", "  ")."""
    return gofmt.json_marshal(records, indent="  ", default=str)


def split_statements(script: str) -> list[str]:
    """`;`-separated statements, not splitting inside '…', "…" or $tag$…$tag$ (Dagu's
    splitStatements)."""
    statements: list[str] = []
    current: list[str] = []
    quote = ""
    dollar = ""
    i = 0
    while i < len(script):
        c = script[i]
        if not quote and c == "$":
            m = re.match(r"\$[A-Za-z0-9_]*\$", script[i:])
            if m:
                tag = m.group(0)
                if dollar and tag == dollar:
                    dollar = ""
                elif not dollar:
                    dollar = tag
                current.append(tag)
                i += len(tag)
                continue
        if dollar:
            current.append(c)
        elif quote:
            current.append(c)
            if c == quote:
                if script[i + 1:i + 2] == quote:  # doubled quote: still inside
                    current.append(quote)
                    i += 1
                else:
                    quote = ""
        elif c in "'\"":
            quote = c
            current.append(c)
        elif c == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
        else:
            current.append(c)
        i += 1
    statement = "".join(current).strip()
    if statement:
        statements.append(statement)
    return statements
