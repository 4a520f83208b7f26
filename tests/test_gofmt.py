"""flowport.lang.gofmt against Go's documented outputs.

Expected strings are written from Go's docs and sources: strconv/quote.go (appendEscapedRune,
the ``strconv.Quote`` example), encoding/json/encode.go (appendString, floatEncoder; Go 1.22+
writes ``\\b``/``\\f`` short), strconv/ftoa.go and fmt's ``%v``.
"""

from __future__ import annotations

import math

import pytest

from flowport.lang import gofmt
from flowport.lang.argo_tags import item_text, workflow_failures
from flowport.lang.dagu_vars import expand, go_json
from flowport.lang.exprlang import compile_expr


# --------------------------------------------------------------------------- strconv.Quote

@pytest.mark.parametrize("text, expected", [
    ("\x07", r'"\a"'),
    ("\b\f\n\r\t\v", r'"\b\f\n\r\t\v"'),
    ("\x00", r'"\x00"'),
    ("\x1b[0m", r'"\x1b[0m"'),
    ("\x7f", r'"\x7f"'),
    ('say "hi" \\ bye', r'"say \"hi\" \\ bye"'),
    # the strconv.Quote example in Go's documentation
    ('"Fran & Freddie\'s Diner\t☺"', r'''"\"Fran & Freddie's Diner\t☺\""'''),
    ("héllo 世界 😀", '"héllo 世界 😀"'),          # printable runes stay
    ("\u00a0", r'"\u00a0"'),                      # NO-BREAK SPACE is not IsPrint
    ("\u200b", r'"\u200b"'),                      # ZERO WIDTH SPACE (Cf)
    ("\ue000", r'"\ue000"'),                      # private use
    ("\U000f0000", r'"\U000f0000"'),              # private use, beyond the BMP
    ("\udcff", r'"\xff"'),                        # an undecodable byte (surrogateescape)
    ("\ud800", r'"\xed\xa0\x80"'),                # a lone surrogate: 3 invalid UTF-8 bytes
])
def test_quote(text, expected):
    assert gofmt.quote(text) == expected


@pytest.mark.parametrize("text", ["", "\x07\x00\x7f", 'a"b\\c', "é\u00a0😀\n", "\udcff"])
def test_unquote_reverses_quote(text):
    assert gofmt.unquote(gofmt.quote(text)) == text


@pytest.mark.parametrize("literal", ['"\\q"', '"a', '"\\u12"', '"\\ud800"', '"a"b"', '"\\400"'])
def test_unquote_refuses_what_go_refuses(literal):
    assert gofmt.unquote(literal) is None


# --------------------------------------------------------------------------- json.Marshal

@pytest.mark.parametrize("value, expected", [
    ("<a href='x'>&</a>", r'"\u003ca href=\u0027x\u0027\u003e\u0026\u003c/a\u003e"'.replace(r"\u0027", "'")),
    ("\u2028\u2029", r'"\u2028\u2029"'),
    ("\b\f\n\r\t", r'"\b\f\n\r\t"'),
    ("\x00\x01\x07\x0b\x1f", r'"\u0000\u0001\u0007\u000b\u001f"'),
    ("\x7f", '"\x7f"'),                           # DEL is not escaped by encoding/json
    ('q"b\\', r'"q\"b\\"'),
    ("é世😀", '"é世😀"'),                          # non-ASCII kept
    ("\udcff", r'"\ufffd"'),                      # invalid UTF-8 becomes U+FFFD
    (None, "null"), (True, "true"), (3, "3"),
    (1.0, "1"), (0.5, "0.5"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
    (1e-6, "0.000001"), (1e-7, "1e-7"), (-0.0, "-0"),
    ({"b": [1, "x"], "a": {}}, '{"a":{},"b":[1,"x"]}'),  # map keys sorted
    ([], "[]"),
])
def test_json_marshal(value, expected):
    assert gofmt.json_marshal(value) == expected


def test_json_marshal_indent_and_struct_order():
    assert gofmt.json_marshal({"b": 1, "a": [2]}, indent="  ") == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}'
    assert gofmt.json_marshal({"b": 1, "a": 2}, sort_keys=False) == '{"b":1,"a":2}'


@pytest.mark.parametrize("value", [math.nan, math.inf, object()])
def test_json_marshal_refuses(value):
    with pytest.raises(gofmt.MarshalError):
        gofmt.json_marshal(value)


def test_json_unmarshal_numbers_are_float64():
    assert gofmt.json_unmarshal('{"a": [1, 2.5]}') == {"a": [1.0, 2.5]}
    with pytest.raises(ValueError):
        gofmt.json_unmarshal("NaN")


# --------------------------------------------------------------------------- %v

@pytest.mark.parametrize("value, expected", [
    (None, "<nil>"), (True, "true"), (8080, "8080"), (8080.0, "8080"), (1.5, "1.5"),
    (123456.0, "123456"), (1234567.0, "1.234567e+06"), (1e6, "1e+06"), (0.0001, "0.0001"),
    (0.00001, "1e-05"), (-2.5e-10, "-2.5e-10"), (math.inf, "+Inf"), (math.nan, "NaN"),
    ("raw \"text\"", 'raw "text"'), ([1, "a", None], "[1 a <nil>]"),
    ({"b": 2.0, "a": [True]}, "map[a:[true] b:2]"),
])
def test_format_v(value, expected):
    assert gofmt.format_v(value) == expected


# --------------------------------------------------------------------------- one formatter everywhere
# (these disagreed before lang/gofmt.py)

def test_workflow_failures_is_quoted_go_json():
    failed = [{"displayName": "a<b", "message": "é\n", "templateName": "t", "phase": "Failed",
               "podName": "p", "finishedAt": None}]
    # json.Marshal (struct order, \u003c, é kept, \n escaped) then strconv.Quote
    assert workflow_failures(failed) == (
        r'"[{\"displayName\":\"a\\u003cb\",\"message\":\"é\\n\",\"templateName\":\"t\",'
        r'\"phase\":\"Failed\",\"podName\":\"p\",\"finishedAt\":null}]"'
    )
    assert workflow_failures([]) == '"null"'


def test_control_characters_quote_the_same_in_every_language():
    expected = r'"a\ab"'
    assert compile_expr("sprig.quote(x)").evaluate({"x": "a\x07b"}) == expected  # sprig quote
    assert expand('echo "${X}"', {"X": "a\x07b"}) == f"echo {expected}"          # Dagu "${X}"
    assert gofmt.quote("a\x07b") == expected                                       # workflow.failures


def test_json_renderings_agree():
    # expr toJson wrote \u0008 / \u000c (pre-Go-1.22 encoding/json); Dagu's wrote \b / \f
    assert compile_expr("toJson(x)").evaluate({"x": "\b\f<"}) == r'"\b\f\u003c"'
    assert go_json("\b\f<") == r'"\b\f\u003c"'
    # Argo {{item}} of a map: JSON with HTML escaping and non-ASCII kept (was \u00e9, no escaping)
    assert item_text({"k": "<é>"}) == r'{"k":"\u003cé\u003e"}'
