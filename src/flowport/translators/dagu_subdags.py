"""Finding and checking the child DAGs a Dagu DAG calls, as Dagu finds them
(research/dagu-composition.md §1.3; dagucloud/dagu runtime/executor/dag_runner.go
NewSubDAGExecutor, persis/file/dag/store.go locateDAG):

1. the other documents of the same file (after `---`), by their `name:` (a local child sees
   its sibling documents too);
2. `<name>.yaml` / `<name>.yml` (or the name as written when it ends in one) in the calling
   file's folder, then in the DAGs folder ($DAGU_DAGS_DIR, $DAGU_HOME/dags or
   ~/.config/dagu/dags).

Every child is translated before the run, so `validate` reports its problems, a child that
cannot be found, and calls that come back to a DAG already on the way (a cycle), with both
call locations. The result: each workflow's `subdags` table, children inside."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..model import SubDag, Workflow
from .source import Document, Mark, Problem, SourceError, load_documents

Key = tuple[str, int]  # (resolved file, document index)


def dags_folder() -> Path | None:
    """Dagu's DAGs folder: $DAGU_DAGS_DIR (or $DAGU_DAGS), else $DAGU_HOME/dags, else
    ~/.config/dagu/dags."""
    for var in ("DAGU_DAGS_DIR", "DAGU_DAGS"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("DAGU_HOME")
    return Path(home, "dags") if home else Path("~/.config/dagu/dags").expanduser()


def _candidates(target: str) -> list[str]:
    if target.endswith((".yaml", ".yml")):
        return [target]
    return [target + ".yaml", target + ".yml"]


@dataclass
class _File:
    """One YAML file: its documents and its local DAGs (documents 2..n) by name."""

    path: str
    docs: list[Document]
    local: dict[str, int] = field(default_factory=dict)


Translate = Callable[[Document, str], tuple[Workflow | None, list[Problem], list[str]]]


class SubDagResolver:
    def __init__(self, translate: Translate) -> None:
        self.translate = translate
        self.problems: list[Problem] = []
        self.ignored: list[str] = []
        self.texts: dict[str, str] = {}
        self.files: dict[str, _File] = {}
        self.done: dict[Key, Workflow | None] = {}
        self.stack: list[tuple[Key, str, Mark | None]] = []  # (DAG, its name, the call that entered it)

    # ------------------------------------------------------------ files

    def add_file(self, path: str, docs: list[Document]) -> _File:
        """A file's documents; the local DAGs must each have a unique `name:` (Dagu)."""
        f = _File(path, docs)
        self.files[str(Path(path).resolve())] = f
        self.texts.update({d.file: d.text for d in docs})
        for i, doc in enumerate(docs[1:], start=1):
            name = doc.data.get("name") if isinstance(doc.data, dict) else None
            if not isinstance(name, str) or not name.strip():
                self.problems.append(Problem("a local DAG (a document after `---`) needs a `name:`",
                                             doc.mark(()), (), "its callers name it: `call: <name>`"))
            elif name in f.local:
                first = docs[f.local[name]].mark(("name",))
                self.problems.append(Problem(f"two local DAGs are named {name!r} (the first at {first})",
                                             doc.mark(("name",)), ("name",)))
            else:
                f.local[name] = i
        return f

    def _load(self, path: Path) -> _File | None:
        key = str(path.resolve())
        if key not in self.files:
            try:
                docs = load_documents(str(path))
            except SourceError as err:
                self.problems.extend(err.problems)
                self.texts.update(err.texts)
                return None
            except OSError as err:
                self.problems.append(Problem(f"cannot read the file: {err.strerror or err}", Mark(str(path), 0, 0)))
                return None
            if not docs:
                self.problems.append(Problem("the file holds no YAML document", Mark(str(path), 0, 0)))
                return None
            self.add_file(str(path), docs)
        return self.files[key]

    def locate(self, target: str, caller: _File, index: int) -> tuple[_File, int] | None:
        """Where the child `target` called from document `index` of `caller` is."""
        if target in caller.local and caller.local[target] != index:
            return caller, caller.local[target]
        folders = [Path(caller.path).parent, dags_folder()]  # as written: messages name files so
        for folder in folders:
            if folder is None:
                continue
            for name in _candidates(target):
                path = Path(name) if Path(name).is_absolute() else folder / name
                if path.is_file():
                    found = self._load(path)
                    return (found, 0) if found is not None else None
        return None

    # ------------------------------------------------------------ DAGs

    def resolve(self, f: _File, index: int, wf: Workflow | None = None) -> Workflow | None:
        """The workflow of document `index` of `f`, its children resolved (None: problems)."""
        key: Key = (str(Path(f.path).resolve()), index)
        if key in self.done:
            return self.done[key]
        if wf is None:
            wf, problems, ignored = self.translate(f.docs[index], f.path)
            self.problems.extend(problems)
            self.ignored.extend(ignored)
        if wf is None:
            self.done[key] = None
            return None
        subdags: dict[str, Workflow] = {}
        ok = True
        for action in _calls(wf):
            if action.dag in subdags:
                continue
            child = self._child(action, f, index)
            if child is None:
                ok = False
            else:
                subdags[action.dag] = child
        result = replace(wf, subdags=tuple(subdags.items())) if ok else None
        self.done[key] = result
        return result

    def _child(self, action: SubDag, f: _File, index: int) -> Workflow | None:
        mark = Mark(action.where.file, action.where.line, action.where.col) if action.where else None
        found = self.locate(action.dag, f, index)
        if found is None:
            where = [str(Path(f.path).resolve().parent)] + [str(d) for d in [dags_folder()] if d is not None]
            local = f", nor a document of {Path(f.path).name} named so" if len(f.docs) > 1 else ""
            self.problems.append(Problem(
                f"no child DAG {action.dag!r}: no {' or '.join(_candidates(action.dag))} in {' or '.join(where)}{local}",
                mark, (), "put the child DAG beside this file, or after `---` in it with `name: " + action.dag + "`"))
            return None
        child_file, child_index = found
        child_key: Key = (str(Path(child_file.path).resolve()), child_index)
        chain = [k for k, _, _ in self.stack]
        if child_key in chain:
            self.problems.append(self._cycle(chain.index(child_key), action, mark))
            return None
        self.stack.append((child_key, action.dag, mark))
        try:
            return self.resolve(child_file, child_index)
        finally:
            self.stack.pop()

    def _cycle(self, start: int, action: SubDag, mark: Mark | None) -> Problem:
        """A call back to a DAG already on the way: the closing call, and the call that
        started the loop (its first step), both located."""
        names = [name for _, name, _ in self.stack[start:]] + [self.stack[start][1]]
        if start + 1 >= len(self.stack):
            story = f"{names[0]} calls itself here"
        else:
            story = f"{names[0]} calls {names[1]} at {self.stack[start + 1][2]}, and here {names[-2]} calls {names[-1]}"
        return Problem(f"call cycle {' -> '.join(names)}: {story}", mark, (),
                       "Dagu would start child runs without end; remove one of these calls")

    def check_unused_locals(self, f: _File) -> None:
        """Local DAGs nobody calls are still DAGs of the file: Dagu loads (and checks) them."""
        for index in f.local.values():
            key = (str(Path(f.path).resolve()), index)
            if key not in self.done:
                name = f.docs[index].data.get("name")
                self.stack = [(key, str(name), None)]
                self.resolve(f, index)


def _calls(wf: Workflow) -> list[SubDag]:
    nodes = [*wf.steps, *(h for _, h in wf.handlers.items())]
    return [n.action for n in nodes if isinstance(n.action, SubDag)]


def resolve_subdags(path: str, docs: list[Document], wf: Workflow | None, translate: Translate,
                    ) -> tuple[Workflow | None, list[Problem], list[str], dict[str, str]]:
    """`wf` (document 0 of `path`, translated) with its children; the problems and notes of
    the children; the texts of every file read (for excerpts)."""
    resolver = SubDagResolver(translate)
    f = resolver.add_file(path, docs)
    result = None
    if wf is not None:
        resolver.stack = [((str(Path(path).resolve()), 0), wf.name, None)]
        result = resolver.resolve(f, 0, wf)
    resolver.check_unused_locals(f)
    return result, resolver.problems, resolver.ignored, resolver.texts


