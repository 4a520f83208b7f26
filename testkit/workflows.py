"""Workflow texts for tests."""

from __future__ import annotations

import textwrap
from pathlib import Path


def argo_workflow(spec: str, metadata: str = "{generateName: t-}") -> str:
    """An Argo Workflow whose `spec:` holds `spec` (dedented, then indented under it). The
    head is 4 lines: the spec's first line is line 5 of the file."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    return f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {metadata}\nspec:\n{body}\n"


def write_argo(folder: Path, spec: str, metadata: str = "{generateName: t-}", name: str = "wf.yaml") -> Path:
    """`argo_workflow(spec, metadata)` written to `folder/name`."""
    path = folder / name
    path.write_text(argo_workflow(spec, metadata))
    return path


def check_argo(folder: Path, spec: str, metadata: str = "{generateName: t-}", name: str = "wf.yaml"):
    """What `validate` finds in `argo_workflow(spec, metadata)` written to `folder/name`."""
    from flowport.translators import check

    return check(write_argo(folder, spec, metadata, name))
