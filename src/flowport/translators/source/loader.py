"""Loading YAML into ``Document``s: values exactly as ``yaml.safe_load`` builds them (YAML
1.1 resolution: ``on``/``yes`` are booleans, ``2024-01-01`` is a date, merge keys work), plus
the mark of every value and key.

Deliberate differences from ``safe_load``:

* duplicate mapping keys are an error instead of "last one wins";
* an alias yields a fresh copy at each place it is used (safe_load shares one object), so
  translators may mutate ``data`` freely; values reached through an alias or a ``<<`` merge
  have the marks of the anchored text;
* documents that expand too much through aliases, nest deeper than ``MAX_DEPTH`` or are
  larger than ``MAX_BYTES`` are refused (``limits``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .limits import (
    MAP_TAG,
    MAX_BYTES,
    MAX_DEPTH,
    MIN_NODE_BUDGET,
    NODE_BUDGET_FACTOR,
    alias_bomb_problem,
    check_size,
    compose,
    count_nodes,
    duplicate_key_problem,
    read_text,
    SEQ_TAG,
    STR_TAG,
)
from .positions import Document, Mark
from .problems import LINE_BREAK, Problem, SourceError

_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"


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
        text = read_text(Path(path), file)
    else:
        file = file or (str(path) if path is not None else "<string>")
        if len(text) * 4 > MAX_BYTES:  # cheap test first; encode only if it may be big
            check_size(len(text.encode("utf-8", "surrogatepass")), file)

    roots, failure = compose(text)
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
        lines = LINE_BREAK.split(before)
        return Problem(f"invalid character: {e.reason}",
                       Mark(file, len(lines), len(lines[-1]) + 1))
    return Problem(f"cannot read YAML: {e}", Mark(file, 0, 0))


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
# PyYAML's constructors trust the text an explicit tag is put on: `!!int ""` raises
# IndexError, `!!bool failure` KeyError, `!!timestamp x` AttributeError.
_CONVERSION_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError, IndexError, KeyError,
                      AttributeError, RecursionError)


class _Builder:
    """Turns one composed node graph into plain values, recording the start
    mark of every value and key by path, and counting alias expansions."""

    def __init__(self, file: str, text: str, index: int, root: Any):
        self.file, self.text, self.index, self.root = file, text, index, root
        self.values: dict[tuple, Any] = {}
        self.keys: dict[tuple, Any] = {}
        self.problems: list[Problem] = []
        self.reported: set[tuple] = set()  # a problem reached through many aliases is told once
        self.sizes: dict[int, int] = {}  # expanded size of tagged collections (!!set, !!omap …)
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
            if tag == STR_TAG:
                value = node.value
                if "\0" in value:
                    self.nul(node, path)
                return value
            return self.scalar(node, path)
        if cls is MappingNode and tag == MAP_TAG:
            return self.mapping(node, path)
        if cls is SequenceNode and tag == SEQ_TAG:
            return self.sequence(node, path)
        return self.other(node, path)

    def scalar(self, node: Any, path: tuple) -> Any:
        fn = _SCALARS.get(node.tag)
        try:
            if fn is not None:
                return fn(self.ctor, node)
            return SafeConstructor().construct_object(node, deep=True)
        except _CONVERSION_ERRORS as e:
            self.report(Problem(_conversion_message(node, e), self.mark(node.start_mark), path,
                                _conversion_hint(node, e)))
            return None

    def other(self, node: Any, path: tuple) -> Any:
        # !!set, !!omap, !!pairs and explicit tags on the wrong kind of node:
        # rare, so let PyYAML build them (no positions inside them), but count
        # what they expand to, as for plain collections
        self.visits += self.expanded_size(node)
        if self.visits > self.budget:
            self.check_budget(node, path)
        try:
            value = SafeConstructor().construct_object(node, deep=True)
        except _CONVERSION_ERRORS as e:
            self.report(Problem(_conversion_message(node, e), self.mark(node.start_mark), path,
                                _conversion_hint(node, e)))
            return None
        if _has_nul(value):
            self.nul(node, path)
        return value

    def expanded_size(self, root: Any) -> int:
        """Nodes under ``root`` with every alias expanded, memoised per node (linear in
        the nodes written; a recursive alias counts once)."""
        sizes = self.sizes
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
                continue
            if id(node) in sizes:
                continue
            sizes[id(node)] = 1  # placeholder: a cycle counts its node once
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
        return sizes[id(root)]

    def report(self, problem: Problem) -> None:
        key = (problem.message, problem.mark)
        if key not in self.reported:
            self.reported.add(key)
            self.problems.append(problem)

    def nul(self, node: Any, path: tuple) -> None:
        self.report(Problem("the text contains a NUL character (\\0)", self.mark(node.start_mark),
                            path, "no command, path or variable can hold a NUL character"))

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
                    self.report(Problem(
                        "a merge key ('<<') list may only contain mappings",
                        self.mark(item.start_mark), path))
            return [pair for part in reversed(parts) for pair in part]
        self.report(Problem(
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
            if tag == STR_TAG or tag == _VALUE:  # '=' is a plain string key, as in safe_load
                if "\0" in node.value:
                    self.nul(node, path)
                return node.value
            value = self.scalar(node, path)
            try:
                hash(value)
            except TypeError:
                pass
            else:
                return value
        self.report(Problem("a mapping key must be a single value, not a list or mapping",
                            self.mark(node.start_mark), path))
        return _BAD

    def duplicate(self, key: Any, key_node: Any, path: tuple, first_key: Any, first: Any) -> None:
        self.report(duplicate_key_problem(key, self.mark(key_node.start_mark), path,
                                                   first_key, first.line + 1))

    def check_budget(self, node: Any, path: tuple) -> None:
        if not self.budget_final:
            # only now count the nodes written in the text: most files never get here
            self.budget = max(MIN_NODE_BUDGET, NODE_BUDGET_FACTOR * count_nodes(self.root))
            self.budget_final = True
            if self.visits <= self.budget:
                return
        raise _Fatal(alias_bomb_problem(self.text, self.index, self.budget,
                                        self.mark(node.start_mark), path))


_BAD = object()


def _children(node: Any) -> list:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def _conversion_message(node: Any, e: BaseException) -> str:
    if node.tag == _VALUE:
        return "a bare '=' is reserved in YAML 1.1; quote it: '='"
    if node.tag not in SafeConstructor.yaml_constructors:
        return f"unknown YAML tag '{node.tag}' (only standard YAML tags can be read)"
    if isinstance(e, yaml.YAMLError):
        problem = getattr(e, "problem", None) or str(e)
    else:  # ValueError and OverflowError say something useful; IndexError, KeyError … do not
        problem = str(e) if isinstance(e, (ValueError, OverflowError)) else None
    if isinstance(node, ScalarNode):
        kind = node.tag.rsplit(":", 1)[-1]
        shown = repr(node.value) if len(node.value) <= 40 else repr(node.value[:40]) + "…"
        return f"cannot read {shown} as {kind}: {problem}" if problem else f"cannot read {shown} as {kind}"
    return problem or f"cannot read this {node.tag.rsplit(':', 1)[-1]}"


def _conversion_hint(node: Any, e: BaseException) -> str | None:
    if node.tag not in _SCALARS or not isinstance(node, ScalarNode):
        return None
    kind = node.tag.rsplit(":", 1)[-1]
    return f"the value does not fit its explicit '!!{kind}' tag; fix the value or remove the tag"

