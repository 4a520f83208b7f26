"""Problems found in source files and how they are shown: ``Problem``, the ``Problems``
collector, ``SourceError`` (``file:line:col: error: message (key.path)`` plus a two-line
excerpt and a hint), key paths for humans and did-you-mean hints."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from ...errors import FlowportError

if TYPE_CHECKING:
    from .positions import Document, Mark


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def format_path(path: Iterable[Any]) -> str:
    """Render a key path for humans.

    ``("steps", 2, "retryPolicy", "limit")`` -> ``steps[2].retryPolicy.limit``.
    Keys made of letters, digits, ``_`` and ``-`` (not starting with a digit
    or ``-``) are written bare and joined with dots; other string keys are
    JSON-quoted in brackets (``steps["Copy TAB_1"]``); integers (list indexes
    and integer mapping keys alike) are written ``[2]``; ``true``/``false``/
    ``null`` and other scalar keys as in YAML, in brackets.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, str):
            if _IDENT.match(part):
                out.append(f".{part}" if out else part)
            else:
                out.append("[" + json.dumps(part, ensure_ascii=False) + "]")
        elif isinstance(part, bool):
            out.append("[true]" if part else "[false]")
        elif part is None:
            out.append("[null]")
        elif isinstance(part, (int, float)):
            out.append(f"[{part!r}]")
        else:
            out.append("[" + json.dumps(str(part), ensure_ascii=False) + "]")
    return "".join(out)


@dataclass(frozen=True)
class Problem:
    """One problem in a source file. ``kind`` is "error" or "unsupported"."""

    message: str
    mark: Mark | None
    path: tuple = ()
    hint: str | None = None
    kind: str = "error"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; line/col are None for file-level problems."""
        m = self.mark
        located = m is not None and m.line > 0
        return {
            "file": m.file if m is not None else None,
            "line": m.line if located else None,
            "col": m.col if located else None,
            "path": format_path(self.path),
            "message": self.message,
            "hint": self.hint,
            "kind": self.kind,
        }


_LABELS = {"error": "error", "unsupported": "not supported yet"}
LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks


def _sort_key(p: Problem) -> tuple[str, int, int]:
    m = p.mark
    return ("", 0, 0) if m is None else (m.file, m.line, m.col)


class SourceError(FlowportError):
    """One or more problems in source files, rendered with code excerpts.

    ``problems`` is sorted by (file, line, col); ``texts`` maps file names to
    their text so that ``render()`` can show excerpts (files without text
    render without one).
    """

    def __init__(self, problems: Iterable[Problem], texts: Mapping[str, str] | None = None):
        self.problems: list[Problem] = sorted(problems, key=_sort_key)
        self.texts: dict[str, str] = dict(texts or {})
        super().__init__(self.problems, self.texts)

    def __str__(self) -> str:
        return self.render()

    def render(self, color: bool = False) -> str:
        lines_of: dict[str, list[str]] = {}
        blocks = []
        for p in self.problems:
            text = self.texts.get(p.mark.file) if p.mark is not None else None
            if text is not None and p.mark.file not in lines_of:
                lines_of[p.mark.file] = LINE_BREAK.split(text)
            lines = lines_of.get(p.mark.file) if text is not None else None
            blocks.append(_render_one(p, lines, color))
        return "\n".join(blocks)


def _render_one(p: Problem, lines: list[str] | None, color: bool) -> str:
    def c(code: str, s: str) -> str:
        return f"\x1b[{code}m{s}\x1b[0m" if color else s

    m = p.mark
    label = _LABELS.get(p.kind, p.kind)
    where = "" if m is None else c("1", f"{m}:") + " "
    head = f"{where}{c('1;31' if p.kind == 'error' else '1;35', label + ':')} {p.message}"
    if p.path:
        head += f" ({format_path(p.path)})"
    out = [head]
    if lines is not None and m is not None and m.line > 0:
        width = max(5, len(str(m.line)) + 1)
        # very long lines (minified JSON, generated files) show a window around the column
        start = max(0, m.col - 1 - _EXCERPT // 2) if len(lines[min(m.line, len(lines)) - 1]) > _EXCERPT else 0
        for n in (m.line - 1, m.line):
            if n >= 1:
                out.append(f"{c('34', f'{n:>{width}} |')} {_window(lines, n, start)}".rstrip())
        src = _window(lines, m.line, start)
        col = m.col - start + (1 if start else 0)  # the window starts with '…'
        # keep tabs so the caret lines up under tab-indented text
        pad = "".join(ch if ch == "\t" else " " for ch in src[: col - 1])
        pad += " " * max(0, col - 1 - len(src))
        out.append(f"{c('34', ' ' * width + ' |')} {pad}{c('1;32', '^')}")
    if p.hint:
        out.append(f"  {c('36', 'hint:')} {p.hint}")
    return "\n".join(out)


_EXCERPT = 120  # longest excerpt line shown


def _window(lines: list[str], n: int, start: int) -> str:
    src = lines[n - 1] if n - 1 < len(lines) else ""
    if start == 0 and len(src) <= _EXCERPT:
        return src
    part = src[start:start + _EXCERPT]
    return ("…" if start else "") + part + ("…" if start + _EXCERPT < len(src) else "")


def did_you_mean(word: Any, choices: Iterable[Any]) -> str | None:
    """The choice closest to ``word`` (case-insensitive), or None."""
    by_lower: dict[str, Any] = {}
    for choice in choices:
        by_lower.setdefault(str(choice).lower(), choice)
    found = difflib.get_close_matches(str(word).lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def unknown_key_hint(word: Any, choices: Iterable[Any]) -> str | None:
    """``"did you mean 'success'?"`` or None."""
    best = did_you_mean(word, choices)
    return None if best is None else f"did you mean '{best}'?"


class Problems:
    """Collects the problems of one document, each placed by its key path."""

    def __init__(self, doc: Document | None = None):
        self.doc = doc
        self._items: list[Problem] = []

    def _mark(self, path: Iterable[Any], key: bool) -> Mark | None:
        return None if self.doc is None else self.doc.mark(path, key=key)

    def error(self, path: Iterable[Any], message: str, *, hint: str | None = None,
              key: bool = False) -> Problem:
        return self.add(Problem(message, self._mark(path, key), tuple(path), hint, "error"))

    def unsupported(self, path: Iterable[Any], what: str, *, hint: str | None = None,
                    key: bool = False) -> Problem:
        """``what`` is the whole message; it renders after "not supported yet:"."""
        return self.add(Problem(what, self._mark(path, key), tuple(path), hint, "unsupported"))

    def add(self, problem: Problem) -> Problem:
        self._items.append(problem)
        return problem

    def extend(self, other: Iterable[Problem]) -> None:
        self._items.extend(other)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)
