"""Dagu `secrets:` resolved when a run starts (Agent.resolveSecrets: once per attempt, before
anything else; a failure fails the run before any step and runs no handler). Values go into
the run's environment above the DAG's `env` and params, and into the masking list."""

from __future__ import annotations

import json
from pathlib import Path

from ...model import SecretRef
from .. import masking


class SecretLookupError(Exception):
    pass


def resolve_secrets(refs: tuple[SecretRef, ...], env: dict[str, str], workdir: str,
                    dag_dir: str) -> dict[str, str]:
    values = {ref.name: _value(ref, env, workdir, dag_dir) for ref in refs}
    masking.register(values.values())
    return values


def _value(ref: SecretRef, env: dict[str, str], workdir: str, dag_dir: str) -> str:
    if ref.provider == "env":  # the DAG's env and dotenv first, then the process environment
        if ref.key not in env:
            raise SecretLookupError(f"secret {ref.name}: environment variable {ref.key!r} is not set")
        return env[ref.key]
    if ref.provider == "file":  # relative: the working directory, then the DAG file's folder
        candidates = [Path(ref.key)] if Path(ref.key).is_absolute() else [Path(workdir, ref.key),
                                                                           Path(dag_dir, ref.key)]
        for path in candidates:
            if path.is_file():
                return path.read_text(encoding="utf-8")  # verbatim, trailing newline included
        raise SecretLookupError(f"secret {ref.name}: file {ref.key!r} not found "
                                f"(looked in {', '.join(str(c.parent) for c in candidates)})")
    return prefect_secret(ref.key, dict(ref.options).get("field"), what=f"secret {ref.name}")


def prefect_secret(block: str, field: str | None = None, *, what: str = "secret") -> str:
    """The value of Prefect Secret block `block` (PREFECT_API_URL); with `field`, that key
    of a JSON-object value (how `flowport secrets import` stores a Kubernetes Secret)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            doc = client.read_block_document_by_name(block, "secret", include_secrets=True)
    except ObjectNotFound:
        raise SecretLookupError(f"{what}: Prefect Secret block {block!r} not found") from None
    except Exception as exc:
        raise SecretLookupError(f"{what}: cannot read Prefect Secret block {block!r}: {exc}") from None
    value = doc.data.get("value")
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if field is None:
        return value if isinstance(value, str) else json.dumps(value)
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        raise SecretLookupError(f"{what}: Prefect Secret block {block!r} holds no JSON object, so no key {field!r}")
    if field not in data:
        raise SecretLookupError(f"{what}: Prefect Secret block {block!r} has no key {field!r}")
    item = data[field]
    return item if isinstance(item, str) else json.dumps(item)
