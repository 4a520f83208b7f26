"""Templates: the key table, the one body each template has (container, script, steps, dag,
suspend, http), and what every kind shares (inputs, outputs, retryStrategy, timeouts,
parallelism, synchronization)."""

from __future__ import annotations

from typing import Any

from ...model.argo import Template
from ..fields import IGNORED as IGN
from ..fields import OK, kind_of
from ..fields import UNSUPPORTED as UNS
from .container import read_container
from .dag import read_dag
from .document import DocReader, Path_, template_target
from .http_template import read_http
from .parameters import read_artifacts_of, read_inputs, read_outputs
from .retry import read_retry
from .steps import read_steps
from .tags import check_expression_tags
from .volumes import check_mount_names, read_volume_mounts, read_volumes

TEMPLATE_KEYS = {
    "name": OK, "inputs": OK, "outputs": OK, "container": OK, "script": OK, "steps": OK,
    "dag": OK, "suspend": OK, "http": OK, "retryStrategy": OK, "activeDeadlineSeconds": OK,
    "timeout": OK, "parallelism": OK, "failFast": OK, "synchronization": OK, "templateRef": OK,
    "metadata": IGN, "annotations": IGN, "nodeSelector": IGN, "affinity": IGN, "tolerations": IGN,
    "serviceAccountName": IGN, "automountServiceAccountToken": IGN, "securityContext": IGN,
    "priorityClassName": IGN, "priority": IGN, "schedulerName": IGN, "archiveLocation": IGN,
    "metrics": IGN, "hostAliases": IGN, "pendingTimeout": IGN, "podResources": IGN, "resourceClaims": IGN, "podSpecPatch": UNS, "executor": IGN,
    "hooks": IGN,  # Argo's Template has no `hooks` field: it drops them (see docs/argo.md)
    "resource": UNS, "data": UNS, "plugin": UNS, "containerSet": UNS, "sidecars": UNS,
    "initContainers": UNS, "daemon": UNS, "memoize": UNS, "volumes": OK, "artifactLocation": UNS,
    "outputsFrom": UNS,
}
SUSPEND_KEYS = {"duration": OK}
SYNCHRONIZATION_KEYS = {"mutex": OK, "mutexes": OK, "semaphore": UNS, "semaphores": UNS}
MUTEX_KEYS = {"name": OK, "namespace": IGN, "database": IGN}
KINDS = ("container", "script", "steps", "dag", "suspend", "http", "resource", "data", "plugin",
         "containerSet")
UNSUPPORTED_KINDS = {
    "resource": "resource templates (they need a Kubernetes API)",
    "data": "data templates (they need an artifact repository)",
    "plugin": "plugin templates (executor plugins run in a cluster)",
    "containerSet": "containerSet templates",
}


# Argo's template-type fields (`TemplateType`): `templateDefaults` keeps only the one of the
# template's own type (operator.go `mergedTemplateDefaultsInto`)
_TYPE_FIELDS = ("container", "containerSet", "steps", "script", "resource", "dag", "suspend", "data", "http",
                "plugin")
# lists that a strategic merge patch merges by key (Kubernetes `patchMergeKey`) instead of replacing
_MERGE_KEYS = {"env": "name", "volumeMounts": "mountPath", "ports": "containerPort", "volumes": "name",
               "sidecars": "name", "initContainers": "name", "tolerations": "key", "hostAliases": "ip",
               "volumeDevices": "devicePath"}


def merge_defaults(defaults: dict, template: dict) -> dict:
    """`templateDefaults` under one template, as Argo merges them: the defaults' body of another
    template type is dropped, then the template is a strategic merge patch over the rest
    (mappings merge key by key, keyed lists merge by their key, other lists are replaced)."""
    own = next((k for k in _TYPE_FIELDS if k in template), None)
    base = {k: v for k, v in defaults.items() if k not in _TYPE_FIELDS or k == own}
    return _patch(base, template)


def _patch(base: Any, patch: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _patch(base[k], v, k) if k in base else v
        return out
    mk = _MERGE_KEYS.get(key or "")
    if mk and isinstance(base, list) and isinstance(patch, list) and \
            all(isinstance(x, dict) and mk in x for x in [*base, *patch]):
        given = {x[mk]: x for x in patch}
        merged = [_patch(x, given.pop(x[mk])) if x[mk] in given else x for x in base]
        return merged + [x for x in patch if x[mk] in given]
    return patch


def read_template(d: DocReader, value: Any, path: Path_, refs: list, defaults: dict | None) -> Template | None:
    if isinstance(value, dict) and defaults:
        value = merge_defaults(defaults, value)
    f = d.fields(value, path, TEMPLATE_KEYS, "template")
    check_expression_tags(d, value, path)
    if "name" not in f:
        if isinstance(value, dict):
            d.p.error(path, "a template needs a `name`")
        return None
    name = d.string(*f["name"])
    kinds = [k for k in KINDS if k in (value if isinstance(value, dict) else {})]
    if "templateRef" in f:
        # a template that is only a reference to another one (Argo allows it)
        target = template_target(d, {"templateRef": f["templateRef"]}, path, refs)
        return Template(name=d.name_of(name or ""), kind="ref:" + (target or ""), where=d.where(path)) if name else None
    for k in kinds:
        if k in UNSUPPORTED_KINDS:  # reported by fields(); kept so that references resolve
            return Template(name=d.name_of(name or ""), kind="unsupported:" + k, where=d.where(path)) if name else None
    if not kinds:
        d.p.error(path, f"template {name!r} has no body",
                  hint="give it one of container, script, steps, dag, suspend, http")
        return None
    if len(kinds) > 1:
        d.p.error((*path, kinds[1]), f"template {name!r} has more than one body: {', '.join(kinds)}", key=True)
        return None
    kind = kinds[0]
    t: dict[str, Any] = dict(name=d.name_of(name or ""), kind=kind, where=d.where(path))
    t["inputs"] = read_inputs(d, *f["inputs"]) if "inputs" in f else ()
    t["outputs"] = read_outputs(d, *f["outputs"], kind) if "outputs" in f else ()
    leaf = kind in ("container", "script")
    if "inputs" in f:
        t["input_artifacts"] = read_artifacts_of(d, *f["inputs"], role="input", leaf=leaf)
    if "outputs" in f:
        t["output_artifacts"] = read_artifacts_of(d, *f["outputs"], role="output", leaf=leaf)
    if (t.get("input_artifacts") or t.get("output_artifacts")) and kind not in ("container", "script", "steps", "dag"):
        d.p.unsupported(path, f"artifacts on a {kind} template", hint="artifacts go on container, script, steps and dag templates")
    body, bpath = f[kind]
    if "volumes" in f:
        t["volumes"] = read_volumes(d, *f["volumes"], what="template volumes")
    if kind in ("container", "script"):
        t["container"] = read_container(d, body, bpath, script=kind == "script")
        if isinstance(body, dict) and "volumeMounts" in body:
            mpath = (*bpath, "volumeMounts")
            t["volume_mounts"] = read_volume_mounts(d, body["volumeMounts"], mpath, name or "")
            check_mount_names(d, t["volume_mounts"], mpath, t.get("volumes", ()), d.cx.volume_names)
    elif kind == "steps":
        t["steps"] = read_steps(d, body, bpath, refs)
    elif kind == "dag":
        t["tasks"], t["target"], t["fail_fast"] = read_dag(d, body, bpath, refs)
    elif kind == "suspend":
        g = d.fields(body or {}, bpath, SUSPEND_KEYS, "suspend")
        if "duration" not in g:
            d.p.unsupported(bpath, "suspend without `duration` (waiting for `argo resume`)",
                            hint="give it a duration, e.g. duration: \"20s\"")
        else:
            t["suspend_duration"] = d.string(*g["duration"])
    elif kind == "http":
        t["http"] = read_http(d, body, bpath)
    if "retryStrategy" in f:
        t["retry"] = read_retry(d, *f["retryStrategy"])
    if "timeout" in f:
        t["timeout"] = d.string(*f["timeout"])
    if "activeDeadlineSeconds" in f:
        t["active_deadline"] = d.string(*f["activeDeadlineSeconds"])
    if "parallelism" in f:
        t["parallelism"] = d.whole(*f["parallelism"], minimum=1)
    if "failFast" in f:
        t["fail_fast"] = d.boolean(*f["failFast"])
    if "synchronization" in f:
        t["mutexes"] = _mutexes(d, *f["synchronization"])
    return Template(**t)


def _mutexes(d: DocReader, value: Any, path: Path_) -> tuple[str, ...]:
    f = d.fields(value, path, SYNCHRONIZATION_KEYS,
                 "synchronization")
    names = []
    items = []
    if "mutex" in f:
        items.append((f["mutex"][0], f["mutex"][1]))
    if "mutexes" in f and isinstance(f["mutexes"][0], list):
        items.extend((m, (*f["mutexes"][1], i)) for i, m in enumerate(f["mutexes"][0]))
    for m, mpath in items:
        g = d.fields(m, mpath, MUTEX_KEYS, "mutex")
        if "name" in g:
            n = d.string(*g["name"])
            if n:
                names.append(n)
    return tuple(names)


def read_templates(d: DocReader, value: Any, path: Path_, refs: list, defaults: dict | None) -> list[Template]:
    if not isinstance(value, list):
        d.p.error(path, f"templates must be a list, got {kind_of(value)}")
        return []
    out = []
    seen: dict[str, Path_] = {}
    for i, item in enumerate(value):
        t = read_template(d, item, (*path, i), refs, defaults)
        if t is None:
            continue
        if t.name in seen:
            d.p.error((*path, i, "name"), f"template {t.name!r} is defined twice")
            continue
        seen[t.name] = (*path, i)
        out.append(t)
    return out
