"""YAML loading with source positions, and the error type every translator uses.

Translators read plain Python values (``Document.data``) and ask the document
where a value came from (``Document.mark(path)``) when they report a problem.
``Problems`` collects problems for one document so that a translator can
report every problem at once; ``SourceError`` renders them as
``file:line:col: error: message (key.path)`` plus a two-line excerpt.

Values are constructed exactly as ``yaml.safe_load`` would (YAML 1.1
resolution: ``on``/``yes`` are booleans, ``2024-01-01`` is a date, merge keys
work), with these deliberate differences:

* duplicate mapping keys are an error instead of "last one wins";
* an alias yields a fresh copy at each place it is used (safe_load shares
  one object), so translators may mutate ``data`` freely; values reached
  through an alias or a ``<<`` merge have the marks of the anchored text;
* documents that expand too much through aliases, nest deeper than
  ``MAX_DEPTH`` or are larger than ``MAX_BYTES`` are refused.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Document",
    "Mark",
    "Problem",
    "Problems",
    "SourceError",
    "did_you_mean",
    "format_path",
    "load_documents",
    "unknown_key_hint",
]

MAX_BYTES = 5 * 1024 * 1024
#: Deepest nesting of mappings/sequences accepted (real workflows stay < 30).
MAX_DEPTH = 200
#: An alias bomb is refused once the expanded document has more nodes than
#: ``max(MIN_NODE_BUDGET, NODE_BUDGET_FACTOR * nodes written in the text)``.
MIN_NODE_BUDGET = 100_000
NODE_BUDGET_FACTOR = 20

_MIB = 1024 * 1024
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"


# --------------------------------------------------------------------------
# positions and problems


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
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks


def _sort_key(p: Problem) -> tuple[str, int, int]:
    m = p.mark
    return ("", 0, 0) if m is None else (m.file, m.line, m.col)


class SourceError(Exception):
    """One or more problems in source files, rendered with code excerpts.

    ``problems`` is sorted by (file, line, col); ``texts`` maps file names to
    their text so that ``render()`` can show excerpts (files without text
    render without one).
    """

    def __init__(self, problems: Iterable[Problem], texts: Mapping[str, str] | None = None):
        self.problems: list[Problem] = sorted(problems, key=_sort_key)
        self.texts: dict[str, str] = dict(texts or {})
        super().__init__(self.problems, self.texts)

    @classmethod
    def combine(cls, errors: Iterable[SourceError]) -> SourceError:
        """One error holding the problems of several (e.g. one per file)."""
        problems: list[Problem] = []
        texts: dict[str, str] = {}
        for err in errors:
            problems.extend(err.problems)
            texts.update(err.texts)
        return cls(problems, texts)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.problems]

    def __str__(self) -> str:
        return self.render()

    def render(self, color: bool = False) -> str:
        lines_of: dict[str, list[str]] = {}
        blocks = []
        for p in self.problems:
            text = self.texts.get(p.mark.file) if p.mark is not None else None
            if text is not None and p.mark.file not in lines_of:
                lines_of[p.mark.file] = _LINE_BREAK.split(text)
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


# --------------------------------------------------------------------------
# documents


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

    def problems(self) -> Problems:
        return Problems(self)


class Problems:
    """Collects the problems of one document; ``raise_if_any()`` reports them all."""

    def __init__(self, doc: Document | None = None):
        self.doc = doc
        self._items: list[Problem] = []
        self._texts: dict[str, str] = {} if doc is None else {doc.file: doc.text}

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

    def extend(self, other: Problems | SourceError | Iterable[Problem]) -> None:
        if isinstance(other, Problems):
            self._items.extend(other._items)
            self._texts.update(other._texts)
        elif isinstance(other, SourceError):
            self._items.extend(other.problems)
            self._texts.update(other.texts)
        else:
            self._items.extend(other)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise SourceError(self._items, self._texts)


# --------------------------------------------------------------------------
# loading


def load_documents(path: str | os.PathLike[str] | None = None, *, text: str | None = None,
                   file: str | None = None) -> list[Document]:
    """Load every non-empty YAML document of a file (or of ``text``).

    ``file`` is the name used in marks; it defaults to ``str(path)`` or
    ``"<string>"``. Raises ``SourceError`` with every problem found: syntax
    errors (loading stops there), duplicate keys, bad scalars, alias bombs,
    too deep nesting, oversized or unreadable files.
    """
    if text is None:
        if path is None:
            raise TypeError("load_documents() needs a path or text=")
        file = file or str(path)
        text = _read(Path(path), file)
    else:
        file = file or (str(path) if path is not None else "<string>")
        if len(text) * 4 > MAX_BYTES:  # cheap test first; encode only if it may be big
            _check_size(len(text.encode("utf-8", "surrogatepass")), file)

    roots, failure = _compose(text)
    problems: list[Problem] = []
    docs: list[Document] = []
    for index, root in enumerate(roots):
        if isinstance(root, ScalarNode) and root.tag == _NULL:
            continue  # empty document, e.g. a trailing '---'
        builder = _Builder(file, text, index, root)
        try:
            data = builder.node(root, ())
        except _Fatal as fatal:
            problems.extend(builder.problems)
            problems.append(fatal.problem)
            continue
        problems.extend(builder.problems)
        docs.append(Document(file, text, data, index, builder.values, builder.keys))
    if failure is not None:
        problems.append(_yaml_error_problem(failure, file, text))
    if problems:
        raise SourceError(problems, {file: text})
    return docs


def _check_size(size: int, file: str) -> None:
    if size > MAX_BYTES:
        raise SourceError([Problem(
            f"file is {size / _MIB:.1f} MiB; the limit is {MAX_BYTES / _MIB:g} MiB",
            Mark(file, 0, 0))])


def _read(path: Path, file: str) -> str:
    try:
        with open(path, "rb") as f:
            _check_size(os.fstat(f.fileno()).st_size, file)
            raw = f.read(MAX_BYTES + 1)  # pipes and devices report size 0
    except OSError as e:
        raise SourceError([Problem(f"cannot read file: {e.strerror or e}", Mark(file, 0, 0))]) from None
    if len(raw) > MAX_BYTES:
        raise SourceError([Problem(f"file is larger than the limit of {MAX_BYTES / _MIB:g} MiB",
                                   Mark(file, 0, 0))])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        good = raw[: e.start].decode("utf-8", "replace")
        line = good.count("\n") + 1
        col = len(good) - (good.rfind("\n") + 1) + 1
        raise SourceError([Problem(f"file is not valid UTF-8 (byte 0x{raw[e.start]:02x})",
                                   Mark(file, line, col))]) from None


def _yaml_error_problem(e: BaseException, file: str, text: str) -> Problem:
    if isinstance(e, yaml.MarkedYAMLError):
        m = e.problem_mark or e.context_mark
        mark = Mark(file, m.line + 1, m.column + 1) if m is not None else Mark(file, 0, 0)
        hint = None
        if e.context:
            cm = e.context_mark
            where = f" (line {cm.line + 1}, column {cm.column + 1})" if cm is not None else ""
            hint = f"{e.context}{where}"
        return Problem(e.problem or e.context or "invalid YAML", mark, (), hint)
    if isinstance(e, yaml.reader.ReaderError):
        # libyaml reports a byte offset into the UTF-8 text
        before = text.encode("utf-8", "surrogatepass")[: e.position].decode("utf-8", "replace")
        lines = _LINE_BREAK.split(before)
        return Problem(f"invalid character: {e.reason}",
                       Mark(file, len(lines), len(lines[-1]) + 1))
    return Problem(f"cannot read YAML: {e}", Mark(file, 0, 0))


# ---- composing: libyaml's composer, kept away from deep recursion ----------

_CBase = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _Loader(_CBase):  # type: ignore[misc, valid-type]
    """SafeLoader whose tag resolution is memoised: resolving plain scalars
    through regexes is half of libyaml's compose time. Only used while no path
    resolvers are registered (none are by default), so tags are identical."""

    def __init__(self, stream):
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass


class _DepthLimitedLoader(_CBase):  # type: ignore[misc, valid-type]
    """Python composer on top of libyaml's events: slower, but recursion is
    checked, so absurdly nested input fails cleanly instead of crashing."""

    def __init__(self, stream):
        super().__init__(stream)
        self.anchors: dict[str, Any] = {}
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                raise ComposerError(None, None, f"nesting is deeper than {MAX_DEPTH} levels",
                                    self.peek_event().start_mark)
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    # CParser implements these in C, without the hook above
    check_node = Composer.check_node
    get_node = Composer.get_node
    compose_document = Composer.compose_document
    compose_scalar_node = Composer.compose_scalar_node
    compose_sequence_node = Composer.compose_sequence_node
    compose_mapping_node = Composer.compose_mapping_node


# libyaml's C composer recurses once per nesting level (~350 bytes of C stack
# each) without a recursion check: ~25,000 nested '[' crash an 8 MiB stack.
_INLINE_DEPTH = 2_000  # safe on any thread stack of 1 MiB or more
_THREAD_DEPTH = 60_000  # composed on a helper thread with a stack to match
_thread_lock = threading.Lock()


def _depth_bound(text: str) -> int:
    """An upper bound of the nesting depth: each flow level needs a bracket
    (two levels with an implicit ``[a: b]`` pair), each block level at most
    half a column of indentation or indicator."""
    longest = max(map(len, text.split("\n")), default=0)
    return 2 * (text.count("[") + text.count("{")) + 2 * longest + 4


def _compose_into(text: str, loader: type, out: list, failure: list) -> None:
    try:
        for node in yaml.compose_all(text, Loader=loader):
            out.append(node)
    except (yaml.YAMLError, RecursionError) as e:
        failure.append(e)


def _compose_on_big_stack(text: str, loader: type, bound: int, out: list, failure: list) -> bool:
    stack = (4 + bound // 1000) * _MIB  # ~1 KiB per level: 3x what libyaml needs
    worker = threading.Thread(target=_compose_into, args=(text, loader, out, failure),
                              name="flowport-yaml", daemon=True)
    with _thread_lock:  # stack_size() is process-wide: set it only around start()
        try:
            old = threading.stack_size(stack)
        except (ValueError, RuntimeError):
            return False
        try:
            worker.start()
        except RuntimeError:
            return False
        finally:
            threading.stack_size(old)
    worker.join()
    return True


def _compose(text: str) -> tuple[list[Any], BaseException | None]:
    """Compose every document; returns the roots read before any syntax error,
    and that error."""
    fast_ok = not (_Loader.yaml_path_resolvers or yaml.SafeLoader.yaml_path_resolvers)
    loader: type = _Loader if fast_ok else _CBase
    out: list[Any] = []
    failure: list[BaseException] = []
    bound = _depth_bound(text) if _CBase is not yaml.SafeLoader else 0
    if bound <= _INLINE_DEPTH:
        _compose_into(text, loader, out, failure)
    elif bound > _THREAD_DEPTH or not _compose_on_big_stack(text, loader, bound, out, failure):
        _compose_into(text, _DepthLimitedLoader, out, failure)
    if failure and (isinstance(failure[0], RecursionError) or "nesting depth" in str(failure[0])):
        # RecursionError: the pure-Python composer; "nesting depth": libyaml's own limit (≥ 0.2.6)
        return out, ComposerError(None, None, f"nesting is deeper than {MAX_DEPTH} levels", None)
    return out, failure[0] if failure else None


# ---- constructing plain values --------------------------------------------

class _Fatal(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


_SCALARS = {
    tag: SafeConstructor.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float", "tag:yaml.org,2002:binary",
                "tag:yaml.org,2002:timestamp")
}
_CONVERSION_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError)


class _Builder:
    """Turns one composed node graph into plain values, recording the start
    mark of every value and key by path, and counting alias expansions."""

    def __init__(self, file: str, text: str, index: int, root: Any):
        self.file, self.text, self.index, self.root = file, text, index, root
        self.values: dict[tuple, Any] = {}
        self.keys: dict[tuple, Any] = {}
        self.problems: list[Problem] = []
        self.visits = 0
        self.budget = MIN_NODE_BUDGET
        self.budget_final = False
        self.active: set[int] = set()  # collections being built: catches recursive aliases
        self.may_merge = "<<" in text  # cheap: skips looking for merge keys in every mapping
        self.ctor = SafeConstructor()

    def mark(self, m: Any) -> Mark:
        return Mark(self.file, m.line + 1, m.column + 1)

    def fatal(self, node: Any, path: tuple, message: str, hint: str | None = None) -> _Fatal:
        return _Fatal(Problem(message, self.mark(node.start_mark), path, hint))

    def node(self, node: Any, path: tuple) -> Any:
        self.visits += 1
        if self.visits > self.budget:
            self.check_budget(node, path)
        self.values[path] = node.start_mark
        cls, tag = node.__class__, node.tag
        if cls is ScalarNode:
            return node.value if tag == _STR else self.scalar(node, path)
        if cls is MappingNode and tag == _MAP:
            return self.mapping(node, path)
        if cls is SequenceNode and tag == _SEQ:
            return self.sequence(node, path)
        return self.other(node, path)

    def scalar(self, node: Any, path: tuple) -> Any:
        fn = _SCALARS.get(node.tag)
        try:
            if fn is not None:
                return fn(self.ctor, node)
            return SafeConstructor().construct_object(node, deep=True)
        except _CONVERSION_ERRORS as e:
            self.problems.append(Problem(_conversion_message(node, e),
                                         self.mark(node.start_mark), path))
            return None

    def other(self, node: Any, path: tuple) -> Any:
        # !!set, !!omap, !!pairs and explicit tags on the wrong kind of node:
        # rare, so let PyYAML build them (no positions inside them)
        try:
            return SafeConstructor().construct_object(node, deep=True)
        except _CONVERSION_ERRORS as e:
            self.problems.append(Problem(_conversion_message(node, e),
                                         self.mark(node.start_mark), path))
            return None

    def enter(self, node: Any, path: tuple) -> None:
        if len(path) >= MAX_DEPTH:
            raise self.fatal(node, (), f"nesting is deeper than {MAX_DEPTH} levels")
        if id(node) in self.active:
            raise self.fatal(node, path, "an alias refers to a collection that contains it",
                             "recursive aliases cannot be loaded")
        self.active.add(id(node))

    def sequence(self, node: Any, path: tuple) -> list:
        self.enter(node, path)
        build = self.node
        result = [build(item, path + (i,)) for i, item in enumerate(node.value)]
        self.active.discard(id(node))
        return result

    def mapping(self, node: Any, path: tuple) -> dict:
        self.enter(node, path)
        result: dict[Any, Any] = {}
        pairs = node.value
        self.visits += len(pairs)  # the key nodes
        if self.may_merge and any(k.tag == _MERGE for k, _ in pairs):
            return self.merged_mapping(node, path)
        keys, build, key_of = self.keys, self.node, self.key
        for key_node, value_node in pairs:
            key = key_of(key_node, path)
            if key is _BAD:
                continue
            if key in result:
                first = next(k for k in result if k == key)  # may be True where key is 1
                self.duplicate(key, key_node, path, first, keys[path + (key,)])
                continue
            sub = path + (key,)
            keys[sub] = key_node.start_mark
            result[key] = build(value_node, sub)
        self.active.discard(id(node))
        return result

    def merged_mapping(self, node: Any, path: tuple) -> dict:
        # Same result as SafeConstructor.flatten_mapping: merged pairs first
        # (the first mapping listed wins), then the mapping's own keys.
        merged: list[tuple[Any, Any]] = []
        own: list[tuple[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self.merge_pairs(value_node, path + ("<<",)))
            else:
                own.append((key_node, value_node))
        result: dict[Any, Any] = {}
        for key_node, value_node in merged:
            key = self.key(key_node, path)
            if key is not _BAD:
                sub = path + (key,)
                self.keys[sub] = key_node.start_mark
                result[key] = self.node(value_node, sub)
        seen: dict[Any, tuple[Any, Any]] = {}
        for key_node, value_node in own:
            key = self.key(key_node, path)
            if key is _BAD:
                continue
            if key in seen:
                self.duplicate(key, key_node, path, *seen[key])
                continue
            seen[key] = (key, key_node.start_mark)
            sub = path + (key,)
            self.keys[sub] = key_node.start_mark
            result[key] = self.node(value_node, sub)
        self.active.discard(id(node))
        return result

    def merge_pairs(self, value: Any, path: tuple) -> list[tuple[Any, Any]]:
        """The (key, value) node pairs a ``<<`` value contributes."""
        if isinstance(value, MappingNode):
            return self.flat_pairs(value, path)
        if isinstance(value, SequenceNode):
            parts = []
            for item in value.value:
                if isinstance(item, MappingNode):
                    parts.append(self.flat_pairs(item, path))
                else:
                    self.problems.append(Problem(
                        "a merge key ('<<') list may only contain mappings",
                        self.mark(item.start_mark), path))
            return [pair for part in reversed(parts) for pair in part]
        self.problems.append(Problem(
            "a merge key ('<<') needs a mapping or a list of mappings",
            self.mark(value.start_mark), path))
        return []

    def flat_pairs(self, node: Any, path: tuple) -> list[tuple[Any, Any]]:
        if id(node) in self.active:
            raise self.fatal(node, path, "a merge key ('<<') refers to the mapping that contains it")
        self.active.add(id(node))
        merged: list[tuple[Any, Any]] = []
        own: list[tuple[Any, Any]] = []
        for pair in node.value:
            if pair[0].tag == _MERGE:
                merged.extend(self.merge_pairs(pair[1], path))
            else:
                own.append(pair)
        self.active.discard(id(node))
        self.visits += len(merged) + len(own)  # merge chains can grow exponentially too
        if self.visits > self.budget:
            self.check_budget(node, path)
        return merged + own

    def key(self, node: Any, path: tuple) -> Any:
        if node.__class__ is ScalarNode:
            tag = node.tag
            if tag == _STR or tag == _VALUE:  # '=' is a plain string key, as in safe_load
                return node.value
            value = self.scalar(node, path)
            try:
                hash(value)
            except TypeError:
                pass
            else:
                return value
        self.problems.append(Problem("a mapping key must be a single value, not a list or mapping",
                                     self.mark(node.start_mark), path))
        return _BAD

    def duplicate(self, key: Any, key_node: Any, path: tuple, first_key: Any, first: Any) -> None:
        line = first.line + 1
        if type(key) is type(first_key):
            message, hint = f"duplicate key {_show(key)} (first at line {line})", None
        else:  # e.g. 'on' (a YAML 1.1 boolean) and 1
            message = f"key {_show(key)} is the same key as {_show(first_key)} (line {line})"
            hint = "YAML 1.1 reads on/off/yes/no as true/false; quote keys meant as text"
        self.problems.append(Problem(message, self.mark(key_node.start_mark), path + (key,), hint))

    def check_budget(self, node: Any, path: tuple) -> None:
        if not self.budget_final:
            # only now count the nodes written in the text: most files never get here
            self.budget = max(MIN_NODE_BUDGET, NODE_BUDGET_FACTOR * _count_nodes(self.root))
            self.budget_final = True
            if self.visits <= self.budget:
                return
        found = _alias_over_budget(self.text, self.index, self.budget)
        if found is not None:
            mark, anchor = found
            raise _Fatal(Problem(
                f"alias '*{anchor}' makes the document expand to more than "
                f"{self.budget:,} values",
                self.mark(mark), (),
                "aliases that expand this much are refused ('billion laughs' protection)"))
        raise self.fatal(node, path, f"aliases make the document expand to more than "
                                     f"{self.budget:,} values",
                         "aliases that expand this much are refused ('billion laughs' protection)")


_BAD = object()


def _show(key: Any) -> str:
    return f"'{key}'" if isinstance(key, str) else repr(key)


def _conversion_message(node: Any, e: BaseException) -> str:
    if node.tag == _VALUE:
        return "a bare '=' is reserved in YAML 1.1; quote it: '='"
    if node.tag not in SafeConstructor.yaml_constructors:
        return f"unknown YAML tag '{node.tag}' (only standard YAML tags can be read)"
    problem = getattr(e, "problem", None) or str(e)
    if isinstance(node, ScalarNode):
        kind = node.tag.rsplit(":", 1)[-1]
        return f"cannot read {node.value!r} as {kind}: {problem}"
    return problem


def _count_nodes(root: Any) -> int:
    """Distinct nodes in a composed graph (aliases not expanded)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
    return len(seen)


def _alias_over_budget(text: str, index: int, budget: int) -> tuple[Any, str] | None:
    """Replay the events of document ``index`` and return (mark, anchor) of
    the alias whose expansion first pushes the node count over ``budget``."""
    E = yaml.events
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []
    total = 0
    doc = -1
    for ev in yaml.parse(text, Loader=_CBase):
        cls = ev.__class__
        if cls is E.DocumentStartEvent:
            doc += 1
            if doc > index:
                break
            continue
        if doc != index:
            continue
        if cls is E.AliasEvent:
            n = sizes.get(ev.anchor, 1)
            total += n
            if stack:
                stack[-1][1] += n
            if total > budget:
                return ev.start_mark, ev.anchor
        elif cls is E.ScalarEvent:
            total += 1
            if stack:
                stack[-1][1] += 1
            if ev.anchor:
                sizes[ev.anchor] = 1
        elif cls is E.SequenceStartEvent or cls is E.MappingStartEvent:
            total += 1
            stack.append([ev.anchor, 1])
        elif cls is E.SequenceEndEvent or cls is E.MappingEndEvent:
            anchor, n = stack.pop()
            if anchor:
                sizes[anchor] = n
            if stack:
                stack[-1][1] += n
    return None
