"""References to WorkflowTemplates: the template library (`--templates` files and the other
documents of the file), and resolving `templateRef` by importing the named template (and
what it calls) under the key `<WorkflowTemplate>/<template>`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..source import Document, Problem, SourceError, load_documents, unknown_key_hint
from .document import DocReader, Translation, is_argo
from .templates import read_template


@dataclass
class Library:
    """WorkflowTemplates that `workflowTemplateRef` / `templateRef` may name."""

    docs: dict[str, Document] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
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
                for doc in _templates_file(f):
                    self.add(doc)
            except SourceError as err:
                self.problems.extend(err.problems)
                self.texts.update(err.texts)
            except OSError as err:
                self.problems.append(Problem(f"cannot read the templates file: {err.strerror or err}", None))


_parsed: dict[str, tuple[tuple[int, int], list[Document] | SourceError]] = {}


def _templates_file(path: Path) -> list[Document]:
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
            known = (stamp, err)
        _parsed[str(path)] = known
    if isinstance(known[1], SourceError):  # a fresh error: one raised again keeps every traceback
        raise SourceError(known[1].problems, known[1].texts)
    return known[1]


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
            hint = None
            if wt not in cx.library.docs:
                hint = "load it with --templates FILE_OR_DIR (or put it in the same file after `---`)"
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
