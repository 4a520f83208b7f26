"""The limits that keep a hostile or broken file from hurting the process: file size,
nesting depth (libyaml's C composer recurses without a check), alias bombs ("billion
laughs") and duplicate keys (an error here, where PyYAML lets the last one win)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .positions import Mark
from .problems import Problem, SourceError

MAX_BYTES = 5 * 1024 * 1024
#: Deepest nesting of mappings/sequences accepted (real workflows stay < 30).
MAX_DEPTH = 200
#: An alias bomb is refused once the expanded document has more nodes than
#: ``max(MIN_NODE_BUDGET, NODE_BUDGET_FACTOR * nodes written in the text)``.
MIN_NODE_BUDGET = 100_000
NODE_BUDGET_FACTOR = 20

_MIB = 1024 * 1024
STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"


# ---- size -------------------------------------------------------------------

def check_size(size: int, file: str) -> None:
    if size > MAX_BYTES:
        raise SourceError([Problem(
            f"file is {size / _MIB:.1f} MiB; the limit is {MAX_BYTES / _MIB:g} MiB",
            Mark(file, 0, 0))])


def read_text(path: Path, file: str) -> str:
    try:
        with open(path, "rb") as f:
            check_size(os.fstat(f.fileno()).st_size, file)
            raw = f.read(MAX_BYTES + 1)  # pipes and devices report size 0
    except OSError as e:
        raise SourceError([Problem(f"cannot read file: {e.strerror or e}", Mark(file, 0, 0))]) from None
    except ValueError:  # open() refuses a name with a NUL character
        raise SourceError([Problem("cannot read file: its name contains a NUL character",
                                   Mark(file.replace("\0", "\\0"), 0, 0))]) from None
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
                return STR_TAG
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return SEQ_TAG if kind is SequenceNode else MAP_TAG

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


_CLOSED_FLOW = re.compile(r"\[[^\[\]{}\"']*\]|\{[^\[\]{}\"']*\}")


def _depth_bound(text: str) -> int:
    """An upper bound of the nesting depth: each flow level needs a bracket
    (two levels with an implicit ``[a: b]`` pair), each block level at most
    half a column of indentation or indicator. A bracket pair with no bracket or
    quote inside (``depends: [a, b]``) closes itself: together such pairs add
    one level, not one each (a 50,000-step chain's `[sN]`s had sent it past
    libyaml to the pure-Python composer)."""
    longest = max(map(len, text.split("\n")), default=0)
    opens = text.count("[") + text.count("{")
    if opens > _INLINE_DEPTH:
        rest = _CLOSED_FLOW.sub("", text)
        opens = rest.count("[") + rest.count("{") + 1
    return 2 * opens + 2 * longest + 4


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


def compose(text: str) -> tuple[list[Any], BaseException | None]:
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
        return out, ComposerError(None, None, f"nesting is deeper than {MAX_DEPTH} levels",
                                  _too_deep_mark(text))
    return out, failure[0] if failure else None


def _too_deep_mark(text: str) -> Any:
    """Where the nesting first goes deeper than MAX_DEPTH (events only: no recursion)."""
    E = yaml.events
    depth = 0
    try:
        for ev in yaml.parse(text, Loader=_CBase):
            if isinstance(ev, (E.SequenceStartEvent, E.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return ev.start_mark
            elif isinstance(ev, (E.SequenceEndEvent, E.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


# ---- alias bombs --------------------------------------------------------------

def count_nodes(root: Any) -> int:
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


_BOMB_HINT = "aliases that expand this much are refused ('billion laughs' protection)"


def alias_bomb_problem(text: str, index: int, budget: int, mark: Mark, path: tuple) -> Problem:
    """The problem of a document that expands past ``budget`` values: placed on the alias
    that pushed it over when one can be found, else at ``mark``."""
    found = _alias_over_budget(text, index, budget)
    if found is not None:
        m, anchor = found
        return Problem(f"alias '*{anchor}' makes the document expand to more than {budget:,} values",
                       Mark(mark.file, m.line + 1, m.column + 1), (), _BOMB_HINT)
    return Problem(f"aliases make the document expand to more than {budget:,} values",
                   mark, path, _BOMB_HINT)


# ---- duplicate keys -----------------------------------------------------------

def _show(key: Any) -> str:
    return f"'{key}'" if isinstance(key, str) else repr(key)


def duplicate_key_problem(key: Any, mark: Mark, path: tuple, first_key: Any, first_line: int) -> Problem:
    if type(key) is type(first_key):
        message, hint = f"duplicate key {_show(key)} (first at line {first_line})", None
    else:  # e.g. 'on' (a YAML 1.1 boolean) and 1
        message = f"key {_show(key)} is the same key as {_show(first_key)} (line {first_line})"
        hint = "YAML 1.1 reads on/off/yes/no as true/false; quote keys meant as text"
    return Problem(message, mark, path + (key,), hint)
