"""A deployed workflow's YAML, kept in a Prefect block: the deployment's `source` parameter
is then one short line (`flowport-workflow:<block name>`) instead of the whole file as one
escaped string, and the Blocks page of the UI shows the text as written.

The text stored is the one `flowport deploy` registers: its literal secrets are already
placeholders (secrets.py). A re-deploy overwrites the block, as it updates the deployment.
"""

from __future__ import annotations

import asyncio
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


async def save_sources(client: Any, items: list[tuple[str, str, str]],
                       gate: asyncio.Semaphore | None = None) -> list[tuple[str, bool]]:
    """Store each (deployment, text, path) in that deployment's block through the async
    `client`: the block type once, the type's blocks read at once, then one request per
    new or changed block (POST, or PATCH by id), at most `gate` at a time; a block already
    holding the text is left alone. Returns (reference, written) in order."""
    from prefect.client.schemas.actions import BlockDocumentCreate, BlockDocumentUpdate
    from prefect.exceptions import ObjectAlreadyExists

    if not items:
        return []
    gate = gate or asyncio.Semaphore(8)
    await FlowportWorkflow.aregister_type_and_schema(client=client)
    slug = FlowportWorkflow.get_block_type_slug()
    block_type = await client.read_block_type_by_slug(slug)
    schema = await client.get_most_recent_block_schema_for_block_type(block_type.id)
    # every block of the type, one request (the server's endpoint has no paging)
    stored = {doc.name: doc for doc in await client.read_block_documents_by_type(slug)}

    async def create(name: str, data: dict[str, str]) -> None:
        await client.create_block_document(BlockDocumentCreate(
            name=name, data=data, block_type_id=block_type.id, block_schema_id=schema.id))

    async def update(doc_id: Any, data: dict[str, str]) -> None:
        await client.update_block_document(doc_id, BlockDocumentUpdate(
            block_schema_id=schema.id, data=data, merge_existing_data=False))

    async def save(deployment: str, text: str, path: str) -> tuple[str, bool]:
        name, data = block_name(deployment), {"yaml": text, "path": path}
        doc = stored.get(name)
        if doc is not None and doc.data == data and doc.block_schema_id == schema.id:
            return REFERENCE + name, False
        async with gate:
            if doc is not None:
                await update(doc.id, data)
            else:
                try:
                    await create(name, data)
                except ObjectAlreadyExists:  # made since the read (another deploy)
                    await update((await client.read_block_document_by_name(name, slug)).id, data)
        return REFERENCE + name, True

    # The first write alone: a server's first block document creates its encryption key,
    # and concurrent first writes collide on it (409 from PostgreSQL's unique key).
    first = await save(*items[0])
    return [first, *await asyncio.gather(*(save(*item) for item in items[1:]))]


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
