"""Dagu `secrets:` (internal/core/spec/builder.go parseSecretRefs): a list of
`{name, provider, key, options}`; `name` is the environment variable to set, unique; `key`
and `options` are taken literally. Providers `env` and `file` as Dagu has them, `prefect`
(a Prefect Secret block) for teams that moved their secrets there; Dagu's other providers
(vault, kubernetes, aws, gcp, azure, alibaba) are not supported yet."""

from __future__ import annotations

import re
from typing import Any

from ..model import SecretRef
from .fields import kind_of
from .source import format_path

KEYS = {"name": "ok", "provider": "ok", "key": "ok", "options": "ok", "ref": "unsupported"}
PROVIDERS = ("env", "file", "prefect")
NOT_YET = ("vault", "kubernetes", "aws", "gcp", "azure", "alibaba")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def secret_refs(cx: Any, value: Any, path: tuple) -> tuple[SecretRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        cx.problems.error(path, f"secrets must be a list, got {kind_of(value)}")
        return ()
    out: list[SecretRef] = []
    seen: dict[str, tuple] = {}
    for i, item in enumerate(value):
        ipath = (*path, i)
        f = cx.fields(item, ipath, KEYS, "secret")
        missing = [k for k in ("name", "provider", "key") if k not in f]
        for key in missing:
            cx.problems.error(ipath, f"a secret needs `{key}`")
        if missing:
            continue
        name, provider, key = (cx.string(*f[k]) for k in ("name", "provider", "key"))
        if name is None or provider is None or key is None:
            continue
        if not _ENV_NAME.match(name):
            cx.problems.error(f["name"][1], f"secret name {name!r} is not an environment variable name")
        elif name.startswith("DAGU_"):
            cx.problems.error(f["name"][1], f"secret name {name!r} starts with the reserved DAGU_")
        elif name in seen:
            cx.problems.error(f["name"][1], f"secret {name!r} repeats {format_path(seen[name])}")
        seen[name] = ipath
        options: list[tuple[str, str]] = []
        if "options" in f:
            raw, opath = f["options"]
            if not isinstance(raw, dict):
                cx.problems.error(opath, f"secret options must be a mapping, got {kind_of(raw)}")
            else:
                options = [(str(k), str(v)) for k, v in raw.items()]
        kind = provider.strip().lower()
        if kind in NOT_YET:
            cx.problems.unsupported(f["provider"][1], f"secret provider {provider!r}",
                                    hint="providers here: env, file, prefect (a Prefect Secret block; "
                                         "`flowport secrets import` turns Kubernetes Secrets into blocks)")
            continue
        if kind not in PROVIDERS:
            cx.problems.error(f["provider"][1], f"unknown secret provider {provider!r}",
                              hint="env, file or prefect")
            continue
        out.append(SecretRef(name=name, provider=kind, key=key, options=tuple(options)))
    return tuple(out)
