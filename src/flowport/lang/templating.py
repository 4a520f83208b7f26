"""Dagu's variable language (v1/v2 evaluation pipeline, research/dagu.md §2.8-2.9).

Pure functions, standard library only. Order of evaluation, as Dagu's eval pipeline:
variables (`${VAR}`, `$VAR`, `${VAR.json.path}`, V3 `${namespace.key}`), then backtick
command substitution. `$(…)` is never executed here: it is left for the step's shell.
"""

from __future__ import annotations

import json
import re
from typing import Callable, Mapping, Sequence

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# ${name}, ${name.path[0].x}, ${10}, $name, $name.path, $1
_REF = re.compile(
    r"\$\{(?P<braced>[A-Za-z0-9_]+(?:(?:\.[A-Za-z0-9_-]+)|(?:\[\d+\]))*)\}"
    r"|\$(?P<bare>" + _NAME + r"(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\d)"
)
_BACKTICK = re.compile(r"`([^`]*)`")
_PATH_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")


def json_path(value: str, path: str) -> str | None:
    """Value at `.a.b[0]` inside the JSON text `value`, or None."""
    try:
        data = json.loads(value)
    except (ValueError, TypeError):
        return None
    pos = 0
    while pos < len(path):
        m = _PATH_PART.match(path, pos)
        if not m:
            return None
        pos = m.end()
        if m.group(1) is not None:
            if not isinstance(data, dict) or m.group(1) not in data:
                if isinstance(data, list) and m.group(1).isdigit() and int(m.group(1)) < len(data):
                    data = data[int(m.group(1))]
                    continue
                return None
            data = data[m.group(1)]
        else:
            i = int(m.group(2))
            if not isinstance(data, list) or i >= len(data):
                return None
            data = data[i]
    if isinstance(data, str):
        return data
    return json.dumps(data, separators=(",", ":"))


def _single_quoted_spans(text: str) -> list[tuple[int, int]]:
    """Spans of shell single-quoted strings (Dagu keeps `'$1'` literal)."""
    spans = []
    i, n = 0, len(text)
    in_double = False
    while i < n:
        c = text[i]
        if c == "\\" and not in_double:
            i += 2
            continue
        if c == '"':
            in_double = not in_double
        elif c == "'" and not in_double:
            end = text.find("'", i + 1)
            if end < 0:
                break
            spans.append((i, end))
            i = end
        i += 1
    return spans


def _lookup(ref: str, variables: Mapping[str, str]) -> str | None:
    if ref in variables:
        return variables[ref]
    head, sep, rest = ref.partition(".")
    bracket = ref.find("[")
    if bracket > 0 and (not sep or bracket < len(head)):
        head, rest, sep = ref[:bracket], ref[bracket:], "["
    if sep and head in variables:
        return json_path(variables[head], ("." + rest) if sep == "." else rest)
    return None


def expand(
    text: str,
    variables: Mapping[str, str],
    *,
    backtick: Callable[[str], str] | None = None,
    namespaces: Mapping[str, Mapping[str, str]] | None = None,
    keep_unknown: bool = True,
) -> str:
    """Replace known references in `text`; unknown ones stay as written (the shell or a
    later stage may still resolve them).

    `namespaces` serves Dagu V3 references `${ns.rest}`: `namespaces[ns][rest]`, e.g.
    `${params.env}` → namespaces["params"]["env"], `${context.run.status}` →
    namespaces["context"]["run.status"]. These are replaced inside single quotes too (V3);
    plain variables are not (V1/V2 keep `'$VAR'` literal)."""
    if "$" not in text and "`" not in text:
        return text
    spans = _single_quoted_spans(text) if "'" in text else []

    def quoted(pos: int) -> bool:
        return any(a < pos < b for a, b in spans)

    def replace(m: re.Match[str]) -> str:
        ref = m.group("braced") or m.group("bare")
        if m.group("braced") and namespaces and "." in ref:
            ns, _, rest = ref.partition(".")
            if ns in namespaces:
                value = namespaces[ns].get(rest)
                return m.group(0) if value is None else value
        if quoted(m.start()):
            return m.group(0)
        value = _lookup(ref, variables)
        if value is None:
            return m.group(0) if keep_unknown else ""
        return value

    out = _REF.sub(replace, text) if "$" in text else text
    if backtick is not None and "`" in out:
        out = _BACKTICK.sub(lambda m: backtick(m.group(1)), out)
    return out


def parse_params(text: str) -> list[tuple[str | None, str]]:
    """Split a Dagu params string into (name or None, raw value) tokens. Quotes group
    spaces and are removed; backticks keep their content as one piece."""
    tokens: list[tuple[str | None, str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        buf = []
        while i < n and not text[i].isspace():
            c = text[i]
            if c in "\"'":
                end = text.find(c, i + 1)
                end = n if end < 0 else end
                buf.append(text[i + 1:end])
                i = end + 1
            elif c == "`":
                end = text.find("`", i + 1)
                end = n - 1 if end < 0 else end
                buf.append(text[i:end + 1])
                i = end + 1
            else:
                buf.append(c)
                i += 1
        token = "".join(buf)
        m = re.match(r"(" + _NAME + r")=(.*)$", token, re.S)
        if m:
            tokens.append((m.group(1), m.group(2)))
        else:
            tokens.append((None, token))
    return tokens


def resolve_params(
    tokens: Sequence[tuple[str | None, str]],
    *,
    overrides: Sequence[tuple[str | None, str]] = (),
    env: Mapping[str, str],
    backtick: Callable[[str], str] | None = None,
) -> list[tuple[str, str]]:
    """Evaluate params in order, each seeing env and the params before it. Positional
    params are named "1", "2", … by their position among the positional ones; a
    positional token also sets `$N` for the N-th token overall as Dagu's
    `params: "TEST_PARAM $1"` example shows (`$1` then refers to the first param).
    Named overrides replace by key (or are added), positional ones by position."""
    named_over = {k: v for k, v in overrides if k}
    positional_over = [v for k, v in overrides if not k]
    resolved: list[tuple[str, str]] = []
    scope = dict(env)
    position = 0
    for key, raw in tokens:
        if key is None:
            position += 1
            name = str(position)
            if position <= len(positional_over):
                value = positional_over[position - 1]
            else:
                value = expand(raw, scope, backtick=backtick)
        else:
            name = key
            value = named_over.pop(key) if key in named_over else expand(raw, scope, backtick=backtick)
        resolved.append((name, value))
        scope[name] = value
    for key, value in named_over.items():
        resolved.append((key, value))
    for i, value in enumerate(positional_over[position:], start=position + 1):
        resolved.append((str(i), value))
    return resolved


def match_expected(actual: str, expected: str) -> bool:
    """Precondition value match: `re:` = regex search (multiline), else equality."""
    if expected.startswith("re:"):
        return re.search(expected[3:], actual, re.MULTILINE) is not None
    return actual == expected
