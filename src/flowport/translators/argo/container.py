"""Container and script templates: `container`, `script` (the script source is mounted and run)."""

from __future__ import annotations

from typing import Any

from ...model import Container
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
    "envFrom": UNS, "volumeDevices": UNS,
}
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
    if "env" in f:
        items, epath = f["env"]
        if not isinstance(items, list):
            d.p.error(epath, f"env must be a list of {{name, value}} mappings, got {kind_of(items)}")
        else:
            for i, item in enumerate(items):
                g = d.fields(item, (*epath, i), {"name": OK, "value": OK, "valueFrom": UNS}, "env")
                if "name" in g:
                    n = d.string(*g["name"])
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
        if "source" not in f:
            d.p.error(path, "a script needs a `source`")
        else:
            source = d.string(*f["source"])
    if image is None:
        return None
    return Container(image=image, entrypoint=entrypoint, cmd=cmd, env=tuple(env), workdir=workdir,
                     pull_policy=pull, script=source)
