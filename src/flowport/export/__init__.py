"""`flowport export`: a workflow file as a Python module in the `flowport.sdk` API."""

from __future__ import annotations

from pathlib import Path

from ..model import Workflow
from ..model.common import Where
from ..translators import Checked
from ..translators.source import Mark, Problem, SourceError
from .comments import comments
from .python import Unexpressible, module_source

__all__ = ["export_checked", "module_source", "Unexpressible"]


def export_checked(checked: Checked, target_dir: str | Path) -> str:
    """The module for a file `check` accepted; SourceError (file:line:col) when the sdk cannot
    express something it uses."""
    wf = checked.workflow
    assert wf is not None
    text = Path(checked.file).read_text(encoding="utf-8")
    try:
        return module_source(wf, yaml_text=text, comments=comments(text), target_dir=str(target_dir),
                             params_where=_params_where(checked.file, text, wf))
    except Unexpressible as exc:
        where = exc.where or Where(checked.file, 0, 0)
        mark = Mark(where.file, where.line, where.col)
        raise SourceError([Problem(f"cannot export: {exc}", mark, (), exc.hint, kind="unsupported")],
                          {checked.file: text}) from None


def _params_where(file: str, text: str, wf: Workflow) -> Where | None:
    from ..translators.source import load_documents

    docs = load_documents(file, text=text)
    if not docs or not isinstance(docs[0].data, dict):
        return None
    key = next((k for k in docs[0].data if str(k).lower() == "params"), None)
    if key is None and wf.argo is not None:
        path: tuple = ("spec", "arguments")
    elif key is None:
        return None
    else:
        path = (key,)
    mark = docs[0].mark(path, key=True)
    return Where(mark.file, mark.line, mark.col)
