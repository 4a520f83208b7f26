"""A deployed workflow's YAML, kept in a Prefect block: the deployment's `source` parameter
is then one short line (`flowport-workflow:<block name>`) instead of the whole file as one
escaped string, and the Blocks page of the UI shows the text as written.

The text stored is the one `flowport deploy` registers: its literal secrets are already
placeholders (secrets.py). A re-deploy overwrites the block, as it updates the deployment.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.blocks.core import Block

REFERENCE = "flowport-workflow:"


class FlowportWorkflow(Block):
    """The YAML of a workflow deployed by flowport (Dagu DAG or Argo Workflow)."""

    _block_type_name = "flowport workflow"
    _block_type_slug = "flowport-workflow"
    _description = "The YAML text of a Dagu DAG or Argo Workflow that a flowport deployment runs."

    yaml: str
    path: str = ""


def block_name(deployment: str) -> str:
    """Prefect block names: lowercase letters, digits and dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", f"flowport-{deployment}".lower()).strip("-")
    return name[:100].rstrip("-")


def is_reference(source: str) -> bool:
    return source.startswith(REFERENCE)


def save_source(deployment: str, text: str, path: str) -> str:
    """Store `text` in the deployment's block (PREFECT_API_URL); returns the reference."""
    name = block_name(deployment)
    FlowportWorkflow(yaml=text, path=path).save(name, overwrite=True)
    return REFERENCE + name


def read_source(reference: str) -> str:
    """The YAML behind a reference. The sync client, not Block.load: the state hooks call
    this inside the runner's event loop."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    name = reference[len(REFERENCE):]
    with get_client(sync_client=True) as client:
        try:
            doc: Any = client.read_block_document_by_name(name, FlowportWorkflow.get_block_type_slug())
        except ObjectNotFound:
            raise LookupError(f"Prefect block {FlowportWorkflow.get_block_type_slug()}/{name} not found on "
                              "the server: re-run flowport deploy for this workflow") from None
    return doc.data["yaml"]
