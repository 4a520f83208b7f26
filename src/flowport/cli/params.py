"""`-p NAME=VALUE` names checked against what the workflow declares: a misspelled name
would otherwise run silently with the default."""

from __future__ import annotations

import difflib
import re

from rich.console import Console
from rich.markup import escape

from ..model import Workflow

_DAGU_NAMED = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")


def declared_names(wf: Workflow) -> set[str] | None:
    """The parameter names `wf` declares; None when it declares none by name (then any name
    may be meant: Dagu passes undeclared named params to the steps as they are)."""
    if wf.argo is not None:
        return {p.name for p in wf.argo.arguments}
    names = {p.name for p in wf.params if not p.name.isdigit()}
    if wf.params_text:  # string params, resolved at run time: their NAME= words
        names.update(_DAGU_NAMED.findall(wf.params_text))
    return names or None


def check_param_names(err: Console, wf: Workflow, params: list[tuple[str, str]], *, strict: bool) -> bool:
    """Warn (strict: report as errors) about named params the workflow does not declare,
    with the closest declared name. False when the run must not start."""
    declared = declared_names(wf)
    unknown = [name for name, _ in params if name and name not in (declared or ())]
    if declared is None and wf.argo is None:
        return True
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(declared or ()), n=1)
        hint = f"; did you mean {close[0]}?" if close else (
            f"; it declares {', '.join(sorted(declared))}" if declared else "; it declares none")
        label = "[red]error:[/red]" if strict else "[yellow]warning:[/yellow]"
        err.print(f"{label} -p {escape(name)}: {escape(wf.name)} has no parameter {escape(name)}{escape(hint)}",
                  soft_wrap=True, highlight=False)
    return not (strict and unknown)
