"""Kubernetes Secrets and ConfigMaps, as flowport keeps them in Prefect (`flowport secrets
import`): the Secret N is the Prefect Secret block N holding a JSON object of its keys, the
ConfigMap N the Prefect Variable N holding one. Read on the server in PREFECT_API_URL with
the sync client (the state hooks run inside the runner's event loop)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..model import EnvRef
from . import masking


class ObjectLookupError(Exception):
    pass


def prefect_name(name: str) -> str:
    """The Prefect block/variable name of a Kubernetes object (lowercase letters, digits,
    dashes; anything else becomes `-`)."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def secret_data(name: str) -> dict[str, str] | None:
    """The keys of Secret `name`, or None when it does not exist; every value is masked."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            doc = client.read_block_document_by_name(prefect_name(name), "secret", include_secrets=True)
        except ObjectNotFound:
            return None
    value: Any = doc.data.get("value")
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ObjectLookupError(f'secret "{name}": the Prefect Secret block {prefect_name(name)} holds no '
                                    "JSON object of keys (store it with `flowport secrets import`)") from None
    if not isinstance(value, dict):
        raise ObjectLookupError(f'secret "{name}": the Prefect Secret block {prefect_name(name)} holds no '
                                "JSON object of keys")
    data = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
    masking.register(data.values())
    return data


def config_map_data(name: str) -> dict[str, str] | None:
    """The keys of ConfigMap `name` (the Prefect Variable), or None when it does not exist."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        variable = client.read_variable_by_name(prefect_name(name))
    if variable is None:
        return None
    value = variable.value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ObjectLookupError(f'configmap "{name}": the Prefect Variable {prefect_name(name)} holds no JSON object')
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def resolve_env_refs(refs: tuple[EnvRef, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """(envFrom values, valueFrom values): the first sit below the container's `env`, the
    second are its `env` entries. A missing object or key that is not `optional` is an error
    in the kubelet's words (CreateContainerConfigError), before the container starts."""
    below: dict[str, str] = {}
    above: dict[str, str] = {}
    cache: dict[tuple[str, str], dict[str, str] | None] = {}
    for ref in refs:
        what = "secret" if ref.source == "secret" else "configmap"
        if (ref.source, ref.object) not in cache:
            read = secret_data if ref.source == "secret" else config_map_data
            try:
                cache[(ref.source, ref.object)] = read(ref.object)
            except ObjectLookupError:
                raise
            except Exception as exc:  # the server is unreachable: say which object was wanted
                raise ObjectLookupError(f'{what} "{ref.object}": cannot read it from Prefect: {exc}') from None
        data = cache[(ref.source, ref.object)]
        if data is None:
            if ref.optional:
                continue
            kind = "Prefect Secret block" if ref.source == "secret" else "Prefect Variable"
            raise ObjectLookupError(f'{what} "{ref.object}" not found (the {kind} {prefect_name(ref.object)}; '
                                    "`flowport secrets import` makes it from the manifest)")
        if ref.key is None:
            below.update({ref.prefix + k: v for k, v in data.items()})
        elif ref.key in data:
            above[ref.name or ref.key] = data[ref.key]
        elif not ref.optional:
            kind = "Secret" if ref.source == "secret" else "ConfigMap"
            raise ObjectLookupError(f"couldn't find key {ref.key} in {kind} {ref.object}")
    return below, above


def registry_auths(secret_names: tuple[str, ...]) -> dict[str, dict]:
    """The `auths` of the Docker configs in these Secrets (`.dockerconfigjson`, or the older
    `.dockercfg`), merged in order: what Argo's `imagePullSecrets` give the kubelet. A
    missing Secret gives nothing, as the kubelet then pulls without it."""
    auths: dict[str, dict] = {}
    for name in secret_names:
        data = secret_data(name) or {}
        if ".dockerconfigjson" in data:
            config = json.loads(data[".dockerconfigjson"]).get("auths") or {}
        elif ".dockercfg" in data:
            config = json.loads(data[".dockercfg"])
        else:
            continue
        for server, entry in config.items():
            auths.setdefault(server, entry)
            if isinstance(entry, dict):
                masking.register(str(v) for k, v in entry.items() if k in ("password", "auth", "identitytoken"))
    return auths
