"""`flowport export`: a workflow file as a Python module in the `flowport.sdk` API."""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Workflow
from ..model.common import Where
from ..translators import Checked
from ..translators.source import Document, Mark, Problem, SourceError, load_documents
from .comments import Comment, comments
from .python import Unexpressible, module_source

__all__ = ["export_checked", "module_source", "Unexpressible"]


def export_checked(checked: Checked, target_dir: str | Path) -> str:
    """The module for a file `check` accepted; SourceError (file:line:col) when the sdk cannot
    express something it uses."""
    wf = checked.workflow
    assert wf is not None
    text = Path(checked.file).read_text(encoding="utf-8")
    doc = _document(checked.file, text)
    texts: dict[str, str] = {checked.file: text}

    def comments_of(child: Workflow) -> list[Comment]:
        """The comments of the document `child` was written in (a file may hold several)."""
        if child.source_file not in texts:
            try:
                texts[child.source_file] = Path(child.source_file).read_text(encoding="utf-8")
            except OSError:
                texts[child.source_file] = ""
        lines = [n.where.line for n in (*child.steps, *(h for _, h in child.handlers.items())) if n.where]
        if not lines:
            return []  # nothing to place a comment at
        return document_comments(texts[child.source_file], lines[0])

    try:
        return module_source(wf, comments=document_comments(text, None), target_dir=str(target_dir),
                             params_where=_params_where(doc, wf), keys=_keys(doc, wf), comments_of=comments_of)
    except Unexpressible as exc:
        where = exc.where or Where(checked.file, 0, 0)
        mark = Mark(where.file, where.line, where.col)
        raise SourceError([Problem(f"cannot export: {exc}", mark, (), exc.hint, kind="unsupported")],
                          {checked.file: text}) from None


def document_comments(text: str, line: int | None) -> list[Comment]:
    """The comments of the document holding `line` (None: the first document). Documents
    are split at their `---` lines; comments above a leading `---` belong to the first."""
    separators = [i for i, row in enumerate(text.splitlines(), start=1) if re.match(r"---(\s|$)", row)]
    starts = [1] + [n + 1 for n in separators]
    if separators and not any(row.strip() and not row.lstrip().startswith("#")
                              for row in text.splitlines()[:separators[0] - 1]):
        starts.pop(0)  # a leading `---` opens the first document
    ends = starts[1:] + [len(text.splitlines()) + 2]
    ranges = list(zip(starts, ends))
    if line is None:
        low, high = 1, ranges[0][1]
    else:
        low, high = next(((a, b) for a, b in ranges if a <= line < b), (0, 0))
    return [c for c in comments(text) if low <= c.line < high]


def _document(file: str, text: str) -> Document | None:
    docs = load_documents(file, text=text)
    return docs[0] if docs and isinstance(docs[0].data, dict) else None


def _params_where(doc: Document | None, wf: Workflow) -> Where | None:
    if doc is None:
        return None
    key = next((k for k in doc.data if str(k).lower() == "params"), None)
    if key is None and wf.argo is None:
        return None
    mark = doc.mark((key,) if key is not None else ("spec", "arguments"), key=True)
    return Where(mark.file, mark.line, mark.col)


# Argo spec keys that become keywords of @workflow(…): a comment on their line goes with them
_ARGO_KEYS = {"onExit": "on_exit", "hooks": "hooks", "entrypoint": "entrypoint",
              "activeDeadlineSeconds": "active_deadline", "parallelism": "parallelism"}


def _keys(doc: Document | None, wf: Workflow) -> dict[str, int]:
    if doc is None or wf.argo is None or not isinstance(doc.data.get("spec"), dict):
        return {}
    return {kw: doc.mark(("spec", key), key=True).line for key, kw in _ARGO_KEYS.items() if key in doc.data["spec"]}
