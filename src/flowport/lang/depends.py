"""Argo's DAG ``depends`` language, parsed once, and the syntax check of ``when``.

``depends`` (argo-workflows ``workflow/common/ancestry.go`` ``GetTaskDependencies`` /
``expandDependency``, ``workflow/controller/dag.go`` ``evaluateDependsLogic``): task names and
``T.Succeeded`` / ``.Failed`` / ``.Errored`` / ``.Skipped`` / ``.Omitted`` / ``.Daemoned`` /
``.AnySucceeded`` / ``.AllFailed``, ``!``, ``&&``, ``||``, parentheses. Errors are
ExpressionError with ``position`` (0-based offset in the text).

``when`` (``workflow/controller/steps.go`` ``shouldExecute``) is govaluate after ``{{…}}``
substitution: :func:`check_when` checks its syntax before any value is known, with
placeholders for the tags (:mod:`flowport.lang.govaluate` implements the language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Mapping

from flowport.lang.errors import ExpressionError

__all__ = [
    "TASK_RESULTS", "DependsExpr", "TaskResult", "UnknownTaskResult", "check_when", "compile_depends",
    "legacy_dependencies",
]


# --------------------------------------------------------------------------------------------
# depends

TASK_RESULTS = (
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
)
_TASK_RESULT_SET = frozenset(TASK_RESULTS)


class UnknownTaskResult(ExpressionError):
    """``T.Result`` with a result Argo does not know (``A.Bogus``)."""

    def __init__(self, task: str, result: str, position: int) -> None:
        super().__init__(f"task result '{result}' for task '{task}' is invalid", position)
        self.task = task
        self.result = result


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What ``depends`` sees of a finished dependency (Argo ``dag.go`` ``evaluateDependsLogic``).

    ``phase``: the node phase -- ``"Succeeded"``, ``"Failed"``, ``"Error"`` (``"Errored"`` is
    accepted too), ``"Skipped"`` or ``"Omitted"``. ``daemoned``: the node is a daemon.
    ``children``: phases of the children of a fan-out (withItems/withParam/withSequence) task,
    used by ``AnySucceeded`` / ``AllFailed``; empty for an ordinary task.
    """

    phase: str
    daemoned: bool = False
    children: tuple[str, ...] = ()

    def result(self, name: str) -> bool:
        phase = self.phase
        if name == "Succeeded":
            return phase == "Succeeded"
        if name == "Failed":
            return phase == "Failed"
        if name == "Errored":
            return phase in ("Error", "Errored")
        if name == "Skipped":
            return phase == "Skipped"
        if name == "Omitted":
            return phase == "Omitted"
        if name == "Daemoned":
            return self.daemoned and phase != "Pending"
        if name == "AnySucceeded":
            return any(p == "Succeeded" for p in self.children)
        if name == "AllFailed":
            return bool(self.children) and all(p == "Failed" for p in self.children)
        raise ExpressionError(f"unknown task result {name!r}")


# Argo ancestry.go taskNameRegex: "T.Result" or a bare task name.
_DEP_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||!|\(|\))"
    r"|(?P<name>[a-zA-Z0-9][-a-zA-Z0-9]*)(?:\.(?P<result>[A-Z][a-zA-Z]+))?)"
)


def _continue_on_results(values: Collection[str] | None) -> tuple[str, ...]:
    extra: list[str] = []
    if values:
        lowered = {str(v).lower() for v in values}
        unknown = lowered - {"error", "errored", "failed"}
        if unknown:
            raise ExpressionError(f"unknown continueOn value(s): {sorted(unknown)}")
        # ancestry.go expandDependency: Errored before Failed
        if lowered & {"error", "errored"}:
            extra.append("Errored")
        if "failed" in lowered:
            extra.append("Failed")
    return tuple(extra)


class DependsExpr:
    """A compiled ``depends`` expression.

    ``names``: referenced task names in order of first appearance. ``expanded``: the expression
    after Argo's expansion of bare names (what Argo logs). ``item_names``: tasks referenced with
    ``AnySucceeded``/``AllFailed`` (Argo waits for their whole fan-out).

    ``evaluate(results)`` maps task name -> :class:`TaskResult`. Argo only evaluates once every
    referenced task is fulfilled (and its exit/hook nodes are too): a missing name raises
    ExpressionError. True -> the task runs (its ``when`` is evaluated next); False -> the task
    is **Omitted** with message ``omitted: depends condition not met`` (argo.md §2.4, §3.3).
    """

    __slots__ = ("text", "names", "expanded", "item_names", "_tree")

    def __init__(self, text: str, names: tuple[str, ...], expanded: str,
                 item_names: tuple[str, ...], tree) -> None:
        self.text = text
        self.names = names
        self.expanded = expanded
        self.item_names = item_names
        self._tree = tree

    def evaluate(self, results: Mapping[str, TaskResult]) -> bool:
        if self._tree is None:
            return True
        return _eval_dep(self._tree, results)

    def __repr__(self) -> str:
        return f"DependsExpr({self.text!r})"


def _eval_dep(node, results: Mapping[str, TaskResult]) -> bool:
    tag = node[0]
    if tag == "res":
        tr = results.get(node[1])
        if tr is None:
            raise ExpressionError(f"depends: no result for task {node[1]!r} yet")
        return tr.result(node[2])
    if tag == "any":  # expanded bare name: (T.Succeeded || T.Skipped || T.Daemoned [|| ...])
        tr = results.get(node[1])
        if tr is None:
            raise ExpressionError(f"depends: no result for task {node[1]!r} yet")
        return any(tr.result(r) for r in node[2])
    if tag == "!":
        return not _eval_dep(node[1], results)
    if tag == "&&":
        return _eval_dep(node[1], results) and _eval_dep(node[2], results)
    return _eval_dep(node[1], results) or _eval_dep(node[2], results)


class _DependsParser:
    def __init__(self, text: str, continue_on: Mapping[str, Collection[str]] | None):
        self.text = text
        self.continue_on = continue_on or {}
        self.toks: list[tuple[str, Any, int]] = []
        self.i = 0
        self.names: dict[str, None] = {}
        self.items: dict[str, None] = {}
        self.expanded: list[str] = []
        self._lex()

    def error(self, msg: str, pos: int | None = None) -> ExpressionError:
        if pos is None:
            pos = self.toks[self.i][2] if self.i < len(self.toks) else len(self.text)
        return ExpressionError(f"invalid depends {self.text!r}: {msg} (at {pos + 1})", pos)

    def _lex(self) -> None:
        text = self.text
        pos = 0
        n = len(text)
        while pos < n:
            m = _DEP_TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                rest = text[pos:]
                if not rest.strip():
                    break
                off = pos + len(rest) - len(rest.lstrip())
                raise self.error(f"unexpected {text[off]!r}", off)
            start = m.start("op") if m["op"] else m.start("name")
            end = m.end()
            if m["op"]:
                self.toks.append(("op", m["op"], start))
            else:
                name, result = m["name"], m["result"]
                if end < n and (text[end] == "." or text[end] == "_" or text[end].isalnum()):
                    # "A.succeeded", "A.Foo.Bar", "a_b": Argo would produce broken expr-lang
                    raise self.error(f"unexpected {text[end]!r} after {text[start:end]!r}", end)
                if name[0].isdigit():
                    raise self.error(f"task name {name!r} starts with a digit", start)
                if result is not None and result not in _TASK_RESULT_SET:
                    raise UnknownTaskResult(name, result, start + len(name) + 1)
                self.toks.append(("task", (name, result), start))
            pos = end
        self.toks.append(("eof", None, n))

    def parse(self):
        if self.toks[0][0] == "eof":
            return None
        node = self.or_()
        if self.toks[self.i][0] != "eof":
            raise self.error(f"unexpected {self.token_text(self.i)!r}")
        return node

    def token_text(self, i: int) -> str:
        kind, val, _ = self.toks[i]
        if kind == "task":
            name, result = val
            return name if result is None else f"{name}.{result}"
        return str(val)

    def peek_op(self, value: str) -> bool:
        kind, val, _ = self.toks[self.i]
        return kind == "op" and val == value

    def or_(self):
        node = self.and_()
        while self.peek_op("||"):
            self.i += 1
            self.expanded.append(" || ")
            node = ("||", node, self.and_())
        return node

    def and_(self):
        node = self.unary()
        while self.peek_op("&&"):
            self.i += 1
            self.expanded.append(" && ")
            node = ("&&", node, self.unary())
        return node

    def unary(self):
        if self.peek_op("!"):
            self.i += 1
            self.expanded.append("!")
            return ("!", self.unary())
        return self.atom()

    def atom(self):
        kind, val, pos = self.toks[self.i]
        if kind == "op" and val == "(":
            self.i += 1
            self.expanded.append("(")
            node = self.or_()
            if not self.peek_op(")"):
                raise self.error("missing ')'")
            self.i += 1
            self.expanded.append(")")
            return node
        if kind == "task":
            self.i += 1
            name, result = val
            self.names.setdefault(name, None)
            if result is not None:
                if result in ("AnySucceeded", "AllFailed"):
                    self.items.setdefault(name, None)
                self.expanded.append(f"{name}.{result}")
                return ("res", name, result)
            extra = _continue_on_results(self.continue_on.get(name))
            accepted = ("Succeeded", "Skipped", "Daemoned", *extra)
            self.expanded.append("(" + " || ".join(f"{name}.{r}" for r in accepted) + ")")
            return ("any", name, accepted)
        if kind == "eof":
            raise self.error("unexpected end of expression")
        raise self.error(f"unexpected {self.token_text(self.i)!r}")


def compile_depends(
    text: str, *, continue_on: Mapping[str, Collection[str]] | None = None
) -> DependsExpr:
    """Compile a DAG task's ``depends``.

    Grammar (docs/enhanced-depends-logic.md, ancestry.go): operands ``T`` or ``T.<Result>``
    (task names ``[a-zA-Z0-9][-a-zA-Z0-9]*``, not starting with a digit; results Succeeded,
    Failed, Errored, Skipped, Omitted, Daemoned, AnySucceeded, AllFailed), ``!``, ``&&``,
    ``||`` (``&&`` binds tighter), parentheses. A bare ``T`` means
    ``(T.Succeeded || T.Skipped || T.Daemoned)``, plus ``|| T.Errored`` / ``|| T.Failed`` when
    ``continue_on[T]`` contains ``"error"`` / ``"failed"`` (the dependency task's continueOn).
    An empty text depends on nothing (always true).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"depends must be a string, got {type(text).__name__}")
    parser = _DependsParser(text, continue_on)
    tree = parser.parse()
    return DependsExpr(
        text, tuple(parser.names), "".join(parser.expanded), tuple(parser.items), tree
    )


def legacy_dependencies(
    names: Iterable[str], *, continue_on: Mapping[str, Collection[str]] | None = None
) -> DependsExpr:
    """``dependencies: [A, B]`` == ``depends: "A && B"`` with the same expansion of bare names."""
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]*", name):
            raise ExpressionError(f"invalid dependency name {name!r}")
    return compile_depends(" && ".join(names), continue_on=continue_on)


# --------------------------------------------------------------------------------------------
# when

_TAG = re.compile(r"\{\{.*?\}\}", re.S)
# What a tag may become once substituted: a bare word (a string for Argo), a number, a bool.
_PLACEHOLDERS = ("x", "0", "true")


def check_when(text: str) -> None:
    """Raise ExpressionError when no substitution of the ``{{…}}`` tags in ``when`` can give an
    expression govaluate parses. Only the syntax is checked (values are unknown before the run);
    each tag is tried as a bare word, a number and a bool (``-{{x}}`` parses with a number,
    ``{{x}} == a`` with anything)."""
    if not isinstance(text, str):
        raise ExpressionError(f"'when' must be a string, got {type(text).__name__}")
    from flowport.lang.govaluate import compile_when  # only workflows with a `when` pay its import

    first: ExpressionError | None = None
    for placeholder in _PLACEHOLDERS:
        try:
            compile_when(_TAG.sub(placeholder, text))
            return
        except ExpressionError as exc:
            first = first or exc
            if "{{" not in text:
                break
    reason = str(first).split(": ", 1)[-1] if first else "invalid"
    raise ExpressionError(f"invalid when {text!r}: {reason}")
