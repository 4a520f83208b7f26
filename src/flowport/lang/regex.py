"""Go regular expressions (package ``regexp``) on RE2 itself, through ``google-re2``.

Go's ``regexp`` is RE2: linear time in the text, no backreferences or lookaround. Python's
``re`` backtracks (``(a+)+$`` on ``"a"*40 + "!"`` never ends) and reads some spellings
differently (``$`` before a final newline, Unicode ``\\d``/``\\w``/``\\s``), so every regex of
a workflow -- Dagu ``re:`` preconditions and ``continueOn.output``, govaluate ``=~``/``!~``,
expr-lang ``matches``, sprig's ``regex…`` functions -- is compiled here, by RE2.

RE2 and Go agree on the syntax (``(?P<name>…)``, ``(?<name>…)``, ``\\z``, ``\\Q…\\E``, POSIX
classes, ``(?U)``), and on leftmost-first matching. What Go's package adds on top of the
matcher is implemented here the way ``regexp/regexp.go`` does it: the ``All`` iteration
(an empty match right after a match is dropped), ``ReplaceAllString`` with ``Expand``
(``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``), ``Split`` and ``QuoteMeta``. The text is
matched as UTF-8 bytes, like a Go string (lone surrogates pass through as Go keeps invalid
UTF-8).

An invalid pattern raises :class:`ExpressionError` with Go's message prefix and the pattern:
``error parsing regexp: missing ): `(```.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import re2

from flowport.lang.errors import ExpressionError

__all__ = ["GoRegexp", "compile_go", "matches", "quote_meta"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every invalid pattern to stderr


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _str(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


class GoRegexp:
    """A compiled Go ``*regexp.Regexp``; every method takes and returns ``str``."""

    __slots__ = ("pattern", "_rx", "_names")

    def __init__(self, pattern: str, rx) -> None:
        self.pattern = pattern  # Go's String(): the source text (govaluate prints it)
        self._rx = rx
        self._names = dict(rx.groupindex)

    def __repr__(self) -> str:
        return f"GoRegexp({self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoRegexp) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    # ----------------------------------------------------------------- matching

    def search(self, text: str) -> bool:
        """``MatchString``: is there a match anywhere in ``text``?"""
        return self._rx.search(_utf8(text)) is not None

    def find(self, text: str) -> str:
        """``FindString``: the leftmost match, ``""`` when there is none."""
        m = self._rx.search(_utf8(text))
        return _str(m.group(0)) if m is not None else ""

    def _all(self, data: bytes, n: int) -> list[tuple[int, int]]:
        """``allMatches``: successive non-overlapping matches, at most ``n`` (all if n < 0);
        an empty match right after the previous match is ignored."""
        spans: list[tuple[int, int]] = []
        pos, end, prev_end = 0, len(data), -1
        while (n < 0 or len(spans) < n) and pos <= end:
            m = self._rx.search(data, pos)
            if m is None:
                break
            start, stop = m.span()
            accept = True
            if stop == pos:  # an empty match
                if start == prev_end:
                    accept = False
                pos += _rune_width(data, pos) if pos < end else 1
            else:
                pos = stop
            prev_end = stop
            if accept:
                spans.append((start, stop))
        return spans

    def find_all(self, text: str, n: int = -1) -> list[str]:
        """``FindAllString(text, n)`` (Go returns nil for none: an empty list here)."""
        data = _utf8(text)
        return [_str(data[a:b]) for a, b in self._all(data, n)] if n != 0 else []

    def split(self, text: str, n: int = -1) -> list[str]:
        """``Split(text, n)``: n > 0 at most n parts, n == 0 none, n < 0 all."""
        if n == 0:
            return []
        if self.pattern and text == "":
            return [""]
        data = _utf8(text)
        parts: list[str] = []
        beg = end = 0
        for a, b in self._all(data, n):
            if n > 0 and len(parts) == n - 1:
                break
            end = a
            if b != 0:
                parts.append(_str(data[beg:end]))
            beg = b
        if end != len(data):
            parts.append(_str(data[beg:]))
        return parts

    def replace_all(self, text: str, repl: str, *, literal: bool = False) -> str:
        """``ReplaceAllString`` (``$`` expanded as ``Expand`` does) or, with ``literal``,
        ``ReplaceAllLiteralString``. Go's ``replaceAll`` loop: no replacement for an empty
        match right after a match; always advance at least one character."""
        data, template = _utf8(text), _utf8(repl)
        out: list[bytes] = []
        last, search, end = 0, 0, len(data)
        while search <= end:
            m = self._rx.search(data, search)
            if m is None:
                break
            a, b = m.span()
            out.append(data[last:a])
            if b > last or a == 0:
                out.append(template if literal else self._expand(template, data, m))
            last = b
            width = _rune_width(data, search) if search < end else 0
            if search + width > b:
                search += width
            elif search + 1 > b:
                search += 1
            else:
                search = b
        out.append(data[last:])
        return _str(b"".join(out))

    def _expand(self, template: bytes, data: bytes, m) -> bytes:
        """Go ``Regexp.expand``: ``$name`` / ``${name}`` (name: the longest run of letters,
        digits and ``_``; all digits means a group number), ``$$`` is ``$``; an unknown or
        unmatched group is empty, a ``$`` not followed by a valid name is kept."""
        out: list[bytes] = []
        i, n = 0, len(template)
        while i < n:
            j = template.find(b"$", i)
            if j < 0:
                out.append(template[i:])
                break
            out.append(template[i:j])
            if template[j + 1:j + 2] == b"$":
                out.append(b"$")
                i = j + 2
                continue
            name, rest = _extract(template, j + 1)
            if name is None:
                out.append(b"$")  # malformed: the `$` stays
                i = j + 1
                continue
            i = rest
            number = name.isascii() and name.isdigit() and len(name) <= 9 and not (name[0] == "0" and len(name) > 1)
            group = int(name) if number else self._names.get(name, -1)
            if 0 <= group <= self._rx.groups:
                a, b = m.span(group)
                if a >= 0:
                    out.append(data[a:b])
        return b"".join(out)


def _extract(template: bytes, i: int) -> tuple[str | None, int]:
    """Go ``extract``: the name after a ``$`` at ``i`` (braced or not) and where it ends."""
    brace = template[i:i + 1] == b"{"
    if brace:
        i += 1
    j = i
    while j < len(template):
        c = template[j]
        if not (c == 0x5F or 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c >= 0x80):
            break
        if c >= 0x80:  # Go: unicode.IsLetter/IsDigit on the rune
            ch = _str(template[j:j + _rune_width(template, j)])
            if not (ch.isalpha() or unicodedata.category(ch) == "Nd"):
                break
            j += len(_utf8(ch))
            continue
        j += 1
    if j == i:
        return None, i
    name = _str(template[i:j])
    if brace:
        if template[j:j + 1] != b"}":
            return None, i
        j += 1
    return name, j


def _rune_width(data: bytes, i: int) -> int:
    """Bytes of the UTF-8 sequence at ``i`` (1 for an invalid byte, as Go decodes it)."""
    c = data[i]
    if c < 0x80:
        return 1
    for width, lead in ((2, 0xE0), (3, 0xF0), (4, 0xF8)):
        if c < lead:
            chunk = data[i:i + width]
            try:
                chunk.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                return 1
            return width
    return 1


@lru_cache(maxsize=1024)
def _compile_cached(pattern: str, multiline: bool) -> GoRegexp:
    source = f"(?m){pattern}" if multiline else pattern
    try:
        return GoRegexp(pattern, re2.compile(source, _OPTIONS))
    except re2.error as exc:
        raise ExpressionError(_go_error(exc, pattern)) from None
    except UnicodeEncodeError:
        raise ExpressionError(f"error parsing regexp: invalid UTF-8: `{pattern}`") from None


# RE2's error texts (re2/regexp.cc CodeText) as Go's regexp/syntax ErrorCode strings
_GO_CODES = {
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
}


def _go_error(exc: Exception, pattern: str) -> str:
    """Go's ``*syntax.Error`` text: ``error parsing regexp: <code>: `<fragment>```."""
    reason = exc.args[0] if exc.args else str(exc)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    code, sep, fragment = str(reason).partition(": ")
    return f"error parsing regexp: {_GO_CODES.get(code, code)}: `{fragment if sep else pattern}`"


def compile_go(pattern: str, *, multiline: bool = False) -> GoRegexp:
    """Go ``regexp.Compile``; ExpressionError names the pattern when it is invalid.
    ``multiline``: ``^``/``$`` also match at line breaks (Go ``(?m)``)."""
    if not isinstance(pattern, str):
        raise ExpressionError(f"a regular expression must be a string, got {type(pattern).__name__}")
    return _compile_cached(pattern, multiline)


def matches(pattern: str, text: str) -> bool:
    """Go ``regexp.MatchString(pattern, text)``; ExpressionError for an invalid pattern."""
    return compile_go(pattern).search(text)


_META = frozenset("\\.+*?()|[]{}^$")


def quote_meta(text: str) -> str:
    """Go ``regexp.QuoteMeta``."""
    return "".join("\\" + c if c in _META else c for c in text)
