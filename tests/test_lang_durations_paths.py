"""flowport.lang.durations and flowport.lang.paths."""

from __future__ import annotations

import pytest

from flowport.lang.durations import parse_duration
from flowport.lang.paths import PathError, is_select_path, json_path, jsonpath_lookup, select_path


@pytest.mark.parametrize("text, seconds", [
    ("10s", 10.0), ("1m30s", 90.0), ("1h", 3600.0), ("1.5s", 1.5), ("300ms", 0.3), ("2us", 2e-6),
    ("2µs", 2e-6), ("5ns", 5e-9), ("1d", 86400.0), ("-2m", -120.0), ("10", 10.0), (10, 10.0),
    (2.5, 2.5), ("0", 0.0), (" 20 ", 20.0), (".5s", 0.5),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "abc", "10x", "1m30", "-", True, "s"])
def test_parse_duration_invalid(text):
    assert parse_duration(text) is None


def test_jq_paths():
    data = {"a": [{"b": 1}, {"b": 2}], "k y": "v"}
    assert select_path(data, ".a[1].b") == (True, 2)
    assert select_path(data, "a.[-1].b") == (True, 2)
    assert select_path(data, '.["k y"]') == (True, "v")
    assert select_path(data, ".missing.x") == (True, None)
    assert select_path(data, ".a.b") == (False, None)
    assert not is_select_path(".a | length")
    assert json_path('{"port":8080,"xs":[1,2]}', ".port") == "8080"
    assert json_path('{"port":8080,"xs":[1,2]}', ".xs") == "[1,2]"
    assert json_path('{"a":null}', ".a") == "<nil>"
    assert json_path("not json", ".a") is None


def test_jsonpath():
    data = {"items": [{"n": "a"}, {"n": "b"}], "m": {"x": 1}}
    assert jsonpath_lookup(data, "$.items[0].n") == "a"
    assert jsonpath_lookup(data, "$.items[*].n") == ["a", "b"]
    assert jsonpath_lookup(data, "$..n") == ["a", "b"]
    assert jsonpath_lookup(data, "$['m']['x']") == 1
    assert jsonpath_lookup(data, "$.items[0:1]") == [{"n": "a"}]
    with pytest.raises(PathError):
        jsonpath_lookup(data, "$.nope")
    with pytest.raises(ValueError):  # PathError is an ExpressionError, so a ValueError too
        jsonpath_lookup(data, "items")
