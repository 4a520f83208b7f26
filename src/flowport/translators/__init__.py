"""YAML in, IR out. `load` picks the translator from the document itself."""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Workflow
from .source import Mark, Problem, SourceError, load_documents


@dataclass
class Checked:
    """What `validate` learns about one file."""

    file: str
    workflow: Workflow | None
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    dialect: str = ""  # Dagu: the document's dialect, also when it does not translate

    @property
    def ok(self) -> bool:
        return self.workflow is not None and not self.problems

    def error(self) -> SourceError:
        return SourceError(self.problems, self.texts)


def source_kind(data: object) -> str:
    if isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("argoproj.io"):
        return "argo"
    return "dagu"


def check(path: str | Path, *, text: str | None = None, templates: tuple[str | Path, ...] | list = (),
          base_config: str | Path | None = None) -> Checked:
    """Translate without raising: every problem of the file at once. With `text`, the YAML
    is that text and `path` only names it (and anchors relative paths such as `dir:`)."""
    path = str(path)
    with gc_paused():  # a 5,000-task file allocates ~1M objects: GC passes made loading superlinear
        checked = _check(path, text=text, templates=templates, base_config=base_config)
    checked.problems = _once(checked.problems)
    return checked


def _once(problems: list[Problem]) -> list[Problem]:
    """Each problem once: one written value reached through many aliases is one mistake."""
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (p.message, p.mark, p.hint, p.kind)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


@contextlib.contextmanager
def gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check(path: str, *, text: str | None, templates, base_config) -> Checked:
    try:
        docs = load_documents(path, text=text)
    except SourceError as err:
        return Checked(path, None, list(err.problems), texts=dict(err.texts))
    except OSError as err:
        return Checked(path, None, [Problem(f"cannot read the file: {err.strerror or err}", Mark(path, 0, 0))])
    texts = {d.file: d.text for d in docs[:1]}
    if not docs:
        return Checked(path, None, [Problem(
            "the file holds no YAML document", Mark(path, 0, 0), (),
            "a Dagu DAG needs at least `steps:`; an Argo workflow `apiVersion`, `kind`, `metadata` and `spec`")],
            texts=texts)
    if source_kind(docs[0].data) == "argo":
        from . import argo  # `templates`: files/folders of WorkflowTemplates for the refs

        wf, found, ignored, texts = argo.translate_file(path, docs, templates)
        return Checked(path, wf, found, ignored, texts)
    from . import dagu

    if base_config is not None:  # Dagu's base config, checked on its own, merged under the DAG
        base = check(base_config)
        if base.problems:
            return Checked(path, None, base.problems, base.ignored, base.texts)
        from .dagu_base import with_base

        docs[0] = with_base(docs[0], load_documents(str(base_config))[0])
    wf, problems, ignored = dagu.translate_document(docs[0], source_file=path)
    if problems:  # the children are checked once the caller is right
        data = docs[0].data
        return Checked(path, None, list(problems), ignored, texts,
                       dialect=dagu.detect_dialect(data) if isinstance(data, dict) else "")
    from .dagu_subdags import resolve_subdags

    def translate(doc, file):
        child, found, notes = dagu.translate_document(doc, source_file=file)
        return child, list(found), notes

    dialect = wf.dialect if wf is not None else ""
    wf, found, notes, more_texts = resolve_subdags(path, docs, wf, translate)
    texts.update(more_texts)
    if wf is not None:
        ignored = [*ignored, *(n for n in notes if n not in ignored)]
    return Checked(path, wf if not found else None, found, ignored, texts, dialect=dialect)


def load(path: str | Path, *, base_config: str | Path | None = None) -> Workflow:
    """The workflow in `path`, or SourceError with every problem found."""
    checked = check(path, base_config=base_config)
    if not checked.ok:
        raise checked.error()
    assert checked.workflow is not None
    return checked.workflow


def load_text(text: str, name: str = "workflow.yaml") -> Workflow:
    """The workflow in YAML `text` (named `name` in messages; relative paths of the workflow
    resolve against `name`'s folder), or SourceError with every problem found."""
    checked = check(name, text=text)
    if not checked.ok:
        raise checked.error()
    assert checked.workflow is not None
    return checked.workflow
