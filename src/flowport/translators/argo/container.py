"""Container and script templates: `container`, `script` (the script source is mounted and run)."""

from __future__ import annotations

from typing import Any

from ...model import Container, EnvRef
from ..fields import IGNORED as IGN
from ..fields import OK, kind_of
from ..fields import UNSUPPORTED as UNS
from ..source import unknown_key_hint
from .document import DocReader, Path_

CONTAINER_KEYS = {
    "image": OK, "command": OK, "args": OK, "env": OK, "workingDir": OK, "imagePullPolicy": OK,
    "name": IGN, "resources": IGN, "securityContext": IGN, "ports": IGN, "livenessProbe": IGN,
    "readinessProbe": IGN, "startupProbe": IGN, "lifecycle": IGN, "terminationMessagePath": IGN,
    "terminationMessagePolicy": IGN, "tty": IGN, "stdin": IGN, "stdinOnce": IGN,
    "resizePolicy": IGN, "restartPolicy": IGN, "restartPolicyRules": IGN,
    "volumeMounts": OK,  # read by templates.read_template (translators/argo/volumes.py)
    "envFrom": OK, "volumeDevices": UNS,
}
VALUE_FROM_KEYS = {"secretKeyRef": OK, "configMapKeyRef": OK, "fieldRef": UNS, "resourceFieldRef": UNS}
KEY_REF_KEYS = {"name": OK, "key": OK, "optional": OK}
ENV_FROM_KEYS = {"secretRef": OK, "configMapRef": OK, "prefix": OK}
OBJECT_REF_KEYS = {"name": OK, "optional": OK}
_REF_SOURCE = {"secretKeyRef": "secret", "configMapKeyRef": "configMap", "secretRef": "secret",
               "configMapRef": "configMap"}
SCRIPT_KEYS = {**CONTAINER_KEYS, "source": OK}
PULL_POLICIES = {"Always": "always", "IfNotPresent": "missing", "Never": "never"}


def read_container(d: DocReader, value: Any, path: Path_, *, script: bool) -> Container | None:
    f = d.fields(value, path, SCRIPT_KEYS if script else CONTAINER_KEYS, "script" if script else "container")
    if "image" not in f:
        if isinstance(value, dict):
            d.p.error(path, f"a {'script' if script else 'container'} needs an `image`")
        return None
    image = d.string(*f["image"])
    entrypoint = d.str_list(*f["command"]) if "command" in f else None
    cmd = d.str_list(*f["args"]) if "args" in f else None
    env: list[tuple[str, str]] = []
    refs: list[EnvRef] = [*_env_from(d, *f["envFrom"])] if "envFrom" in f else []
    if "env" in f:
        items, epath = f["env"]
        if not isinstance(items, list):
            d.p.error(epath, f"env must be a list of {{name, value}} mappings, got {kind_of(items)}")
        else:
            for i, item in enumerate(items):
                g = d.fields(item, (*epath, i), {"name": OK, "value": OK, "valueFrom": OK}, "env")
                if "name" in g:
                    n = d.string(*g["name"])
                    if "valueFrom" in g and n is not None:
                        ref = _value_from(d, n, *g["valueFrom"])
                        if ref is not None:
                            refs.append(ref)
                        continue
                    v = d.string(*g["value"]) if "value" in g and g["value"][0] is not None else ""
                    if n is not None and v is not None:
                        env.append((n, v))
    workdir = d.string(*f["workingDir"]) if "workingDir" in f else None
    pull = "missing"
    if "imagePullPolicy" in f:
        raw = f["imagePullPolicy"][0]
        if raw not in PULL_POLICIES:
            d.p.error(f["imagePullPolicy"][1], f"imagePullPolicy must be one of {', '.join(PULL_POLICIES)}, got {raw!r}",
                      hint=unknown_key_hint(raw, PULL_POLICIES))
        else:
            pull = PULL_POLICIES[raw]
    source = None
    if script:
        # Argo runs a script without `source` (an empty script file; e2e
        # TestExitHandlerWithParameterizedGlobalArtifacts relies on it)
        source = d.string(*f["source"]) if "source" in f else ""
    if image is None:
        return None
    return Container(image=image, entrypoint=entrypoint, cmd=cmd, env=tuple(env), env_refs=tuple(refs),
                     workdir=workdir, pull_policy=pull, script=source)


def _value_from(d: DocReader, name: str, value: Any, path: Path_) -> EnvRef | None:
    """`valueFrom: {secretKeyRef|configMapKeyRef: {name, key, optional}}`."""
    f = d.fields(value, path, VALUE_FROM_KEYS, "valueFrom")
    kinds = [k for k in ("secretKeyRef", "configMapKeyRef") if k in f]
    if len(kinds) != 1:
        if not any(k in f for k in ("fieldRef", "resourceFieldRef")):
            d.p.error(path, "valueFrom needs one of secretKeyRef, configMapKeyRef")
        return None
    g = d.fields(*f[kinds[0]], KEY_REF_KEYS, kinds[0])
    for key in ("name", "key"):
        if key not in g:
            d.p.error(f[kinds[0]][1], f"{kinds[0]} needs `{key}`")
    if "name" not in g or "key" not in g:
        return None
    return EnvRef(source=_REF_SOURCE[kinds[0]], object=d.string(*g["name"]) or "", key=d.string(*g["key"]),
                  name=name, optional=d.boolean(*g["optional"]) if "optional" in g else False)


def _env_from(d: DocReader, value: Any, path: Path_) -> list[EnvRef]:
    """`envFrom: [{secretRef|configMapRef: {name, optional}, prefix}]`: every key, prefixed."""
    if not isinstance(value, list):
        d.p.error(path, f"envFrom must be a list, got {kind_of(value)}")
        return []
    out = []
    for i, item in enumerate(value):
        f = d.fields(item, (*path, i), ENV_FROM_KEYS, "envFrom")
        kinds = [k for k in ("secretRef", "configMapRef") if k in f]
        if len(kinds) != 1:
            d.p.error((*path, i), "an envFrom entry needs one of secretRef, configMapRef")
            continue
        g = d.fields(*f[kinds[0]], OBJECT_REF_KEYS, kinds[0])
        if "name" not in g:
            d.p.error(f[kinds[0]][1], f"{kinds[0]} needs `name`")
            continue
        out.append(EnvRef(source=_REF_SOURCE[kinds[0]], object=d.string(*g["name"]) or "",
                          prefix=d.string(*f["prefix"]) or "" if "prefix" in f else "",
                          optional=d.boolean(*g["optional"]) if "optional" in g else False))
    return out
