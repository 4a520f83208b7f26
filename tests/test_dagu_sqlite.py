"""Dagu's SQLite executor (`type: sqlite`, V3 `action: sqlite.query`) on a real database file."""

from __future__ import annotations

import json

from testkit.reports import phases, read

from flowport.adapter.runners.sqlite import bind, split_statements


def test_script_then_queries_in_every_output_format(run_dag, tmp_path):
    report = run_dag("""
        type: graph
        steps:
          - id: load
            type: sqlite
            with: {dsn: data.db, transaction: true}
            script: |
              CREATE TABLE t (id INTEGER, name TEXT, score REAL, note TEXT);
              INSERT INTO t VALUES (1, 'a;b', 1.5, NULL), (2, 'say "hi"', 1e21, ' lead');
          - id: rows
            depends: [load]
            action: sqlite.query
            with:
              dsn: data.db
              query: SELECT id, name, note FROM t WHERE id >= :low AND id <= :high AND :low > 0 ORDER BY id
              params: {low: 1, high: "${TOP}"}
            output: ROWS
          - id: pretty
            depends: [load]
            type: sqlite
            with: {dsn: data.db, output_format: json, max_rows: 1}
            command: SELECT id, name FROM t ORDER BY id
            stdout: pretty.json
          - id: table
            depends: [load]
            type: sqlite
            with: {dsn: data.db, output_format: csv, headers: true, null_string: "NULL"}
            command: SELECT name, score, note FROM t ORDER BY id
            stdout: table.csv
        env:
          - TOP: "2"
    """)
    assert report.status == "succeeded", report.message
    assert [json.loads(line) for line in report.outputs["ROWS"].splitlines()] == [
        {"id": 1, "name": "a;b", "note": None}, {"id": 2, "name": 'say "hi"', "note": " lead"}]
    assert read(tmp_path / "pretty.json") == '[\n  {\n    "id": 1,\n    "name": "a;b"\n  }\n]\n'
    assert read(tmp_path / "table.csv") == (
        'name,score,note\na;b,1.5,NULL\n"say ""hi""",1000000000000000000000," lead"\n')


def test_a_failing_statement_rolls_back_and_fails_the_step(run_dag, tmp_path):
    report = run_dag("""
        type: graph
        steps:
          - id: setup
            type: sqlite
            with: {dsn: data.db}
            command: CREATE TABLE t (id INTEGER PRIMARY KEY)
          - id: load
            depends: [setup]
            type: sqlite
            with: {dsn: data.db, transaction: true}
            script: |
              INSERT INTO t VALUES (1);
              INSERT INTO t VALUES (1);
            continueOn: {failure: true}
          - id: count
            depends: [load]
            type: sqlite
            with: {dsn: data.db, output_format: csv}
            command: SELECT count(*) FROM t
            output: COUNT
          - id: mismatch
            type: sqlite
            with: {dsn: ":memory:", params: [1, 2]}
            command: SELECT ?
            continueOn: {failure: true}
    """)
    load = next(n for n in report.nodes if n.name == "load")
    assert load.phase == "failed" and "statement 2 failed" in load.message and "UNIQUE" in load.message
    assert report.outputs["COUNT"] == "0"  # the first insert was rolled back
    mismatch = next(n for n in report.nodes if n.name == "mismatch")
    assert "query has 1 placeholders but 2 parameters" in mismatch.message
    assert phases(report)["count"] == "succeeded"


def test_timeout_interrupts_the_query(run_dag):
    report = run_dag("""
        steps:
          - id: forever
            type: sqlite
            with: {dsn: ":memory:", timeout: 1}
            command: >-
              WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
              SELECT count(*) FROM c
    """)
    forever = next(n for n in report.nodes if n.name == "forever")
    assert forever.phase == "failed" and "timed out after 1s" in forever.message


def test_statement_splitting_and_binding():
    assert split_statements("a 'x;y'; b \"p;q\";; c $f$ s;t $f$;") == ["a 'x;y'", 'b "p;q"', "c $f$ s;t $f$"]
    assert split_statements("x 'it''s; ok'; y") == ["x 'it''s; ok'", "y"]
    assert bind("SELECT :a, :b, :a", {"a": 1, "b": "x"}) == ("SELECT ?, ?, ?", [1, "x", 1])
