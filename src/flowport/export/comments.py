"""The comments of a YAML text with their lines. PyYAML's loader drops them; its scanner
gives the span of every token, and a comment is a `#` in the gaps between tokens (a `#`
inside a scalar, block scalars included, lies within the scalar's token)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Comment:
    line: int  # 1-based
    text: str  # without the `#` and the one blank after it
    inline: bool  # written after a value on the same line


def comments(text: str) -> list[Comment]:
    spans = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index < token.end_mark.index:
                spans.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError:
        return []  # the loader reported the file; nothing to carry
    found: list[Comment] = []
    position = 0
    for start, end in [*sorted(spans), (len(text), len(text))]:
        if start > position:
            found.extend(_in_gap(text, position, start))
        position = max(position, end)
    return found


def _in_gap(text: str, start: int, end: int) -> list[Comment]:
    out = []
    index = text.find("#", start, end)
    while index != -1:
        line_end = text.find("\n", index)
        line_end = len(text) if line_end == -1 else line_end
        line_start = text.rfind("\n", 0, index) + 1
        line = text.count("\n", 0, index) + 1
        body = text[index + 1:line_end].rstrip()
        out.append(Comment(line, body[1:] if body.startswith(" ") else body, bool(text[line_start:index].strip())))
        index = text.find("#", line_end, end)
    return out
