"""References to WorkflowTemplates: the template library (`--templates` files and the other
documents of the file), and resolving `templateRef` by importing the named template (and
what it calls) under the key `<WorkflowTemplate>/<template>`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..source import (
    Document,
    Mark,
    Problem,
    SourceError,
    load_documents,
    unknown_key_hint,
)
from .document import DocReader, Translation, is_argo
from .templates import read_template

TEMPLATES_HINT = "load it with --templates FILE_OR_DIR (or put it in the same file after `---`)"


@dataclass(frozen=True)
class Unreadable:
    """A templates file that does not parse: its own error (Argo rejects such a WorkflowTemplate
    when it is created), never an error of the workflows that load the library. It only
    explains a reference that nothing else defines."""

    file: str
    names: tuple[str, ...]  # the `metadata.name`s read off its text without parsing it
    problem: Problem  # the first thing wrong with it

    @property
    def where(self) -> str:
        return str(self.problem.mark) if self.problem.mark is not None else self.file


@dataclass
class Library:
    """WorkflowTemplates that `workflowTemplateRef` / `templateRef` may name."""

    docs: dict[str, Document] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def add(self, doc: Document) -> None:
        data = doc.data
        if not is_argo(data) or data.get("kind") not in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
            return
        name = (data.get("metadata") or {}).get("name") if isinstance(data.get("metadata"), dict) else None
        if isinstance(name, str) and name not in self.docs:
            self.docs[name] = doc
            self.texts[doc.file] = doc.text

    def add_path(self, path: str | Path) -> None:
        p = Path(path)
        files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
        for f in files:
            try:
                loaded = _templates_file(f)
            except OSError as err:
                problem = Problem(f"cannot read the templates file: {err.strerror or err}", Mark(str(f), 0, 0))
                self.unreadable.append(Unreadable(str(f), (), problem))
                continue
            if isinstance(loaded, Unreadable):
                self.unreadable.append(loaded)
                continue
            for doc in loaded:
                self.add(doc)

    def not_found_hint(self, name: str) -> str:
        """The hint for a WorkflowTemplate `name` that no readable file defines: the
        unreadable files that name it, else those whose names could not be read at all."""
        named = [u for u in self.unreadable if name in u.names]
        if named:
            return "; ".join(f"{u.file} names a WorkflowTemplate {name!r} but cannot be parsed "
                             f"({u.where}: {u.problem.message}): fix that file" for u in named)
        unnamed = [u for u in self.unreadable if not u.names]
        if unnamed:
            return (f"{TEMPLATES_HINT}; these templates files could not be read and may define it: "
                    + ", ".join(u.where for u in unnamed))
        return TEMPLATES_HINT


_parsed: dict[str, tuple[tuple[int, int], list[Document] | Unreadable]] = {}


def _templates_file(path: Path) -> list[Document] | Unreadable:
    """The documents of a templates file, parsed once per process while the file stays as it
    was: an audit or a `validate` of many files checks each against the same templates, and
    parsing them all again for every workflow made a folder's check quadratic. The documents
    are shared: translation reads them and builds its own values."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    known = _parsed.get(str(path))
    if known is None or known[0] != stamp:
        try:
            known = (stamp, load_documents(str(path)))
        except SourceError as err:
            text = err.texts.get(str(path), "")
            known = (stamp, Unreadable(str(path), metadata_names(text), err.problems[0]))
        _parsed[str(path)] = known
    return known[1]


_METADATA = re.compile(r"^metadata[ \t]*:[ \t]*(.*)$")
_NAME = re.compile(r"^[ \t]*[\"']?name[\"']?[ \t]*:[ \t]*[\"']?([\w.-]+)")
_FLOW_NAME = re.compile(r"(?<![\w-])[\"']?name[\"']?[ \t]*:[ \t]*[\"']?([\w.-]+)")


def metadata_names(text: str) -> tuple[str, ...]:
    """The `metadata.name` of each document, read line by line from a text that does not
    parse: a top-level `metadata:` then its first-level `name:`, or `metadata: {name: …}`."""
    names: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head = _METADATA.match(line)
        if head is None:
            continue
        if head.group(1).startswith("{"):
            flow = _FLOW_NAME.search(head.group(1))
            if flow:
                names.append(flow.group(1))
            continue
        indent = None
        for below in lines[i + 1:]:
            stripped = below.strip()
            if not stripped or stripped.startswith("#"):
                continue
            depth = len(below) - len(below.lstrip(" \t"))
            if depth == 0:
                break
            indent = depth if indent is None else indent
            found = _NAME.match(below)
            if depth == indent and found:
                names.append(found.group(1))
                break
    return tuple(names)


def _import_template(cx: Translation, wt: str, template: str, seen: set[str]) -> str | None:
    """Bring template `template` of WorkflowTemplate `wt` (and what it calls) into the spec
    under the key `wt/template`. Returns an error message or None."""
    key = f"{wt}/{template}"
    if key in cx.templates or key in seen:
        return None
    doc = cx.library.docs.get(wt)
    if doc is None:
        return f"WorkflowTemplate {wt!r} not found"
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    items = spec.get("templates") if isinstance(spec, dict) else None
    if not isinstance(items, list):
        return f"WorkflowTemplate {wt!r} has no templates"
    index = next((i for i, t in enumerate(items) if isinstance(t, dict) and t.get("name") == template), None)
    if index is None:
        names = [t.get("name") for t in items if isinstance(t, dict)]
        return f"WorkflowTemplate {wt!r} has no template {template!r}" + (
            f" (did you mean {unknown_key_hint(template, names)[13:-1]}?)" if unknown_key_hint(template, names) else "")
    seen.add(key)
    d = DocReader(cx, doc, prefix=f"{wt}/")
    refs: list = []
    t = read_template(d, items[index], ("spec", "templates", index), refs, spec.get("templateDefaults"))
    if t is None:
        return None
    cx.templates[key] = t
    for rd, name, rpath in refs:
        err = _import_template(cx, wt, name, seen)
        if err:
            cx.problems.add(Problem(err, rd.doc.mark(rpath), rpath))
    return None


def resolve_refs(cx: Translation) -> None:
    done: set[str] = set()
    while cx.pending_refs:
        d, wt, t, path = cx.pending_refs.pop()
        err = _import_template(cx, wt, t, done)
        if err:
            hint = cx.library.not_found_hint(wt) if wt not in cx.library.docs else None
            d.p.error(path, f"templateRef: {err}", hint=hint)


def resolve_ref_templates(cx: Translation) -> None:
    """Templates that are only a `templateRef` become the referenced template."""
    for key, t in list(cx.templates.items()):
        seen = {key}
        target = t
        while target.kind.startswith("ref:"):
            nxt = target.kind[4:]
            if nxt in seen or nxt not in cx.templates:
                break
            seen.add(nxt)
            target = cx.templates[nxt]
        if t.kind.startswith("ref:") and not target.kind.startswith("ref:"):
            cx.templates[key] = replace(target, name=key)
