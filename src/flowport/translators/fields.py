"""One reader for the mappings of a workflow file, used by both dialects.

Every mapping is read against a key table: canonical key → OK (implemented), IGNORED
(accepted, no effect here: listed by `plan`) or UNSUPPORTED (refused with its location).
Unknown keys are errors with a "did you mean". A dialect subclasses `Reader` and sets its
rules: how keys are matched (Argo: exactly, as JSON field names; Dagu: case and `_`
insensitive, as Dagu 1.x's mapstructure), how hints spell keys, and how scalars read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Any

from .source import Problems, format_path, unknown_key_hint

OK, IGNORED, UNSUPPORTED = "ok", "ignored", "unsupported"
Path_ = tuple  # a key path inside the document
Fields = dict[str, tuple[Any, Path_]]  # canonical key -> (value, path)


def kind_of(value: Any) -> str:
    """A value's YAML kind, for messages ("got a list")."""
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number", float: "a number",
            str: "a string"}.get(type(value), type(value).__name__)


def num_text(value: Any) -> str:
    """A YAML number as text; `2.0` reads as "2"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Reader:
    """Reads one document's mappings; problems go to `problems`, keys without effect to
    `ignored`. Subclasses set the dialect's rules (the class attributes and hooks below)."""

    #: None: keys match exactly; else keys match when their folded forms are equal
    key_fold: Callable[[Any], str] | None = None
    #: booleans, numbers and dates read as strings (Argo: Kubernetes accepts them as text)
    yaml_text = False
    #: `True`/`TRUE` are booleans too, not only `true` (Dagu)
    any_case_bools = False

    def __init__(self, problems: Problems, ignored: list[str]) -> None:
        self.problems = problems
        self.ignored = ignored
        self._indexes: dict[int, tuple[Mapping[str, str], dict[str, str]]] = {}

    # ---- dialect hooks
    def spell(self, key: str) -> str:
        """How a hint spells the canonical `key`."""
        return key

    def unsupported_hint(self, raw: Any, what: str) -> str | None:
        return None

    def ignored_note(self, kpath: Path_, raw: Any, what: str) -> str:
        return f"{format_path(kpath)}: no effect under Prefect"

    # ---- keys
    def canonical(self, raw: Any, table: Mapping[str, str]) -> str | None:
        """The key of `table` that `raw` names, or None."""
        fold = type(self).key_fold
        if fold is None:
            return raw if isinstance(raw, str) and raw in table else None
        cached = self._indexes.get(id(table))
        if cached is None or cached[0] is not table:  # the table is held, so its id stays its own
            cached = self._indexes[id(table)] = (table, {fold(k): k for k in table})
        return cached[1].get(fold(raw))

    def fields(self, obj: Any, path: Path_, table: Mapping[str, str], what: str, *,
               unknown_ignored: bool = False) -> Fields:
        """The OK keys of mapping `obj`; reports unknown, repeated and unsupported keys.
        `unknown_ignored`: the source engine's decoder drops unknown keys there (Go's
        mapstructure without ErrorUnused), so they are a note with a did-you-mean, no error."""
        if not isinstance(obj, dict):
            self.problems.error(path, f"{what} must be a mapping, got {kind_of(obj)}")
            return {}
        out: Fields = {}
        for raw, value in obj.items():
            kpath = (*path, raw)
            key = self.canonical(raw, table)
            if key is None:
                hint = unknown_key_hint(str(raw), [self.spell(k) for k, v in table.items() if v != UNSUPPORTED])
                if unknown_ignored:
                    self.ignored.append(f"{format_path(kpath)}: not a {what} key; ignored, as the source engine "
                                        "ignores it" + (f" ({hint})" if hint else ""))
                else:
                    self.problems.error(kpath, f"unknown {what} key {raw!r}", hint=hint, key=True)
            elif key in out:  # only when keys fold: `handlerOn` and `handler_on`
                self.problems.error(kpath, f"{raw!r} repeats {format_path(out[key][1])}", key=True)
            elif table[key] == UNSUPPORTED:
                self.problems.unsupported(kpath, f"{what} key {raw!r}", key=True,
                                          hint=self.unsupported_hint(raw, what))
            elif table[key] == IGNORED:
                self.ignored.append(self.ignored_note(kpath, raw, what))
            else:
                out[key] = (value, kpath)
        return out

    # ---- scalars
    def string(self, value: Any, path: Path_, *, allow_none: bool = False) -> str | None:
        if value is None and allow_none:
            return None
        if self.yaml_text:
            text = _yaml_text(value)
            if text is not None:
                return text
        elif value is not None and not isinstance(value, (bool, dict, list)):
            return str(value)
        self.problems.error(path, f"expected a string, got {kind_of(value)}")
        return None

    def boolean(self, value: Any, path: Path_) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = value.lower() if self.any_case_bools else value
            if text in ("true", "false"):
                return text == "true"
        self.problems.error(path, f"expected true or false, got {kind_of(value)}")
        return False

    def str_list(self, value: Any, path: Path_) -> tuple[str, ...] | None:
        """A list of strings; anything else is an error (None)."""
        if not isinstance(value, list):
            self.problems.error(path, f"expected a list of strings, got {kind_of(value)}")
            return None
        return tuple(self._strings(value, path))

    def strings(self, value: Any, path: Path_) -> list[str]:
        """A list of strings, or one string standing for a list of one."""
        if isinstance(value, list):
            return self._strings(value, path)
        s = self.string(value, path)
        return [s] if s is not None else []

    def _strings(self, items: list, path: Path_) -> list[str]:
        out = []
        for i, item in enumerate(items):
            s = self.string(item, (*path, i))
            if s is not None:
                out.append(s)
        return out

    def whole(self, value: Any, path: Path_, minimum: int = 0) -> int | None:
        """A whole number ≥ `minimum`, also written as text ("3")."""
        try:
            n = int(str(value)) if not isinstance(value, bool) else None
        except ValueError:
            n = None
        if n is None or n < minimum:
            self.problems.error(path, f"expected a whole number ≥ {minimum}, got {_short(value)}")
            return None
        if n > MAX_NUMBER:
            self.problems.error(path, f"{_short(value)} is too large", hint=_TOO_LARGE)
            return None
        return n

    def number(self, value: Any, path: Path_, *, integer: bool = False, minimum: float = 0) -> float | None:
        """A number ≥ `minimum` (a whole one with `integer`), also written as text."""
        if isinstance(value, str):
            try:
                value = float(value) if not integer else int(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problems.error(path, f"expected a {'whole ' if integer else ''}number, got {kind_of(value)}")
            return None
        if value != value or abs(value) > MAX_NUMBER:  # NaN, .inf, 400 digits
            self.problems.error(path, f"{_short(value)} is not a usable number", hint=_TOO_LARGE)
            return None
        if integer and not float(value).is_integer():
            self.problems.error(path, f"expected a whole number, got {value}")
            return None
        if value < minimum:
            self.problems.error(path, f"must be at least {minimum:g}, got {value}")
            return None
        return value

    def int_list(self, value: Any, path: Path_) -> tuple[int, ...]:
        """Whole numbers (exit codes): a list, or one number standing for a list of one."""
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            n = self.number(item, (*path, i) if isinstance(value, list) else path, integer=True, minimum=-(2**31))
            if n is not None:
                out.append(int(n))
        return tuple(out)


def _yaml_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return num_text(value)
    if isinstance(value, str):
        return value
    if value is not None and hasattr(value, "isoformat"):  # YAML dates
        return value.isoformat()
    return None


def dependency_cycle(deps: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a path that ends where it starts (`[a, b, a]`), or None.
    Names missing from `deps` are ignored (reported elsewhere as unknown)."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name in deps:  # graphlib searches in insertion order: the cycle found is the first by name order
        sorter.add(name)
    for name, needs in deps.items():
        for dep in needs:
            if dep in deps:
                sorter.add(dep, name)  # name → dep edges, so the cycle reads in `depends` order
    try:
        sorter.prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return None


#: Go reads these numbers into an int64: anything larger is a mistake, not a setting.
MAX_NUMBER = 2**63 - 1
_TOO_LARGE = f"numbers here are at most {MAX_NUMBER} (a 64-bit integer)"


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:40] + "…"
