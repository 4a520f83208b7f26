"""Where a value came from: ``Mark`` (file, line, col) and ``Document`` (plain data plus
the mark of every value and key, by key path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Mark:
    """A position in a source file; line and col are 1-based.

    ``line == 0`` means "the file as a whole" (unreadable, too large).
    """

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


class Document:
    """One YAML document: plain data plus the position of every value and key.

    ``index`` is the document's number in its file, counting from 0 and
    including skipped empty documents, so it names the document a user sees.
    """

    __slots__ = ("file", "text", "data", "index", "_values", "_keys")

    def __init__(self, file: str, text: str, data: Any, index: int,
                 values: dict[tuple, Any], keys: dict[tuple, Any]):
        self.file = file
        self.text = text
        self.data = data
        self.index = index
        self._values = values  # path -> yaml start mark of the value node
        self._keys = keys  # path -> yaml start mark of the mapping key node

    def __repr__(self) -> str:
        return f"<Document {self.file} #{self.index}>"

    def mark(self, path: Iterable[Any] = (), *, key: bool = False) -> Mark:
        """Where the value at ``path`` starts (``key=True``: where its key starts).

        A path that does not exist gives the mark of its nearest existing
        ancestor; ``key=True`` on a list item gives the item's own mark.
        """
        path = tuple(path)
        if key:
            m = self._keys.get(path)
            if m is not None:
                return Mark(self.file, m.line + 1, m.column + 1)
        values = self._values
        while path not in values:
            path = path[:-1]
        m = values[path]
        return Mark(self.file, m.line + 1, m.column + 1)

    def mark_within(self, path: Iterable[Any], text: str, offset: int) -> Mark:
        """Where character ``offset`` of the string ``text`` (the value at ``path``) is written,
        when the value sits on one line as is (plain, or quoted without escapes); else where the
        value starts. For errors inside an expression (`depends: "A && && B"`)."""
        mark = self.mark(path)
        lines = self.text.splitlines()
        if not (1 <= mark.line <= len(lines)) or not 0 <= offset <= len(text):
            return mark
        line, start = lines[mark.line - 1], mark.col - 1
        if line[start:start + 1] in ("'", '"'):
            start += 1
        if line[start:start + len(text)] != text:
            return mark
        return Mark(self.file, mark.line, start + offset + 1)
