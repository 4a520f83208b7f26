"""Volumes: `spec.volumes`, a template's `volumes`, `volumeClaimTemplates`, `volumeClaimGC` and
a container's `volumeMounts`, checked the way Kubernetes and Argo's validator check them
(names unique, a mount names a declared volume, `mountPath` given and not mounted twice,
`subPath` relative and inside its volume)."""

from __future__ import annotations

import posixpath
from typing import Any

from ...model.argo import Volume, VolumeMount
from ..fields import IGNORED as IGN
from ..fields import OK, kind_of
from ..fields import UNSUPPORTED as UNS
from ..source import unknown_key_hint
from .document import DocReader, Path_

# Kubernetes' VolumeSource: what the Docker Engine can give a container locally is handled;
# configMap/secret are files written from Prefect Variables / Secret blocks; the cluster
# storage drivers have no local meaning
_CLUSTER_SOURCES = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "downwardAPI", "ephemeral",
    "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "image", "iscsi", "nfs",
    "photonPersistentDisk", "portworxVolume", "projected", "quobyte", "rbd", "scaleIO", "storageos",
    "vsphereVolume",
)
VOLUME_KEYS = {"name": OK, "emptyDir": OK, "hostPath": OK, "persistentVolumeClaim": OK,
               "configMap": OK, "secret": OK, **{k: UNS for k in _CLUSTER_SOURCES}}
SECRET_SOURCE_KEYS = {"secretName": OK, "items": OK, "defaultMode": OK, "optional": OK}
CONFIG_MAP_SOURCE_KEYS = {"name": OK, "items": OK, "defaultMode": OK, "optional": OK}
ITEM_KEYS = {"key": OK, "path": OK, "mode": OK}
EMPTY_DIR_KEYS = {"medium": IGN, "sizeLimit": IGN}
HOST_PATH_KEYS = {"path": OK, "type": OK}
PVC_SOURCE_KEYS = {"claimName": OK, "readOnly": OK}
VOLUME_MOUNT_KEYS = {"name": OK, "mountPath": OK, "subPath": OK, "readOnly": OK,
                     "mountPropagation": IGN, "recursiveReadOnly": IGN, "subPathExpr": UNS}
CLAIM_TEMPLATE_KEYS = {"metadata": OK, "spec": IGN, "apiVersion": IGN, "kind": IGN, "status": IGN}
CLAIM_METADATA_KEYS = {"name": OK, "labels": IGN, "annotations": IGN, "namespace": IGN}
VOLUME_CLAIM_GC_KEYS = {"strategy": OK}
GC_STRATEGIES = ("OnWorkflowSuccess", "OnWorkflowCompletion")
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                   "BlockDevice")
SOURCES = ("emptyDir", "hostPath", "persistentVolumeClaim", "secret", "configMap")


def _has_tags(text: str) -> bool:
    return "{{" in text


def read_volumes(d: DocReader, value: Any, path: Path_, what: str = "volumes") -> tuple[Volume, ...]:
    """A `volumes` list (spec or template); duplicate names are an error, as in a pod spec."""
    if not isinstance(value, list):
        d.p.error(path, f"{what} must be a list, got {kind_of(value)}")
        return ()
    out: list[Volume] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        v = _read_volume(d, item, (*path, i))
        if v is None:
            continue
        if v.name in seen:
            d.p.error((*path, i, "name"), f"volume {v.name!r} is declared twice in {what}",
                      hint="volume names are unique within a list")
            continue
        seen.add(v.name)
        out.append(v)
    return tuple(out)


def _read_volume(d: DocReader, item: Any, path: Path_) -> Volume | None:
    f = d.fields(item, path, VOLUME_KEYS, "volume")
    if not isinstance(item, dict):
        return None
    name = d.string(*f["name"]) if "name" in f else None
    if not name:
        d.p.error(path, "a volume needs a `name`")
        return None
    given = [k for k in SOURCES if k in f]
    if len(given) > 1:
        d.p.error((*path, given[1]), f"volume {name!r} has more than one source: {', '.join(given)}", key=True)
        return None
    if not given:
        refused = next((k for k in item if VOLUME_KEYS.get(k) == UNS), None)
        if refused is not None:  # reported by fields(); kept so that its mounts do not look undeclared
            return Volume(name, "unsupported:" + str(refused), where=d.where(path))
        d.p.error(path, f"volume {name!r} needs a source", hint="emptyDir, hostPath or persistentVolumeClaim")
        return None
    source = given[0]
    value, spath = f[source]
    where = d.where(path)
    if source == "emptyDir":
        d.fields(value if value is not None else {}, spath, EMPTY_DIR_KEYS, "emptyDir")
        return Volume(name, "emptyDir", where=where)
    if source == "hostPath":
        g = d.fields(value, spath, HOST_PATH_KEYS, "hostPath")
        hpath = d.string(*g["path"]) if "path" in g else None
        if not hpath:
            d.p.error(spath, "hostPath needs a `path`")
            return None
        if not _has_tags(hpath) and not hpath.startswith("/"):
            d.p.error(g["path"][1], f"hostPath path must be absolute, got {hpath!r}",
                      hint="Docker binds host folders by their absolute path")
        kind = d.string(*g["type"]) if "type" in g and g["type"][0] is not None else ""
        if kind not in HOST_PATH_TYPES:
            d.p.error(g["type"][1], f"hostPath type must be one of {', '.join(t for t in HOST_PATH_TYPES if t)}, "
                      f"got {kind!r}", hint=unknown_key_hint(kind or "", HOST_PATH_TYPES))
            return None
        return Volume(name, "hostPath", path=hpath, host_type=kind or "", where=where)
    if source in ("secret", "configMap"):
        return _object_volume(d, name, source, value, spath, where)
    g = d.fields(value, spath, PVC_SOURCE_KEYS, "persistentVolumeClaim")
    claim = d.string(*g["claimName"]) if "claimName" in g else None
    if not claim:
        d.p.error(spath, "persistentVolumeClaim needs a `claimName`")
        return None
    read_only = d.boolean(*g["readOnly"]) if "readOnly" in g else False
    return Volume(name, "persistentVolumeClaim", path=claim, read_only=read_only, where=where)


def _object_volume(d: DocReader, name: str, source: str, value: Any, spath: Path_, where) -> Volume | None:
    """`secret: {secretName, items, defaultMode, optional}` / `configMap: {name, …}`: files
    written from the Prefect Secret block / Variable of that name (k8s_objects)."""
    keys, name_key = (SECRET_SOURCE_KEYS, "secretName") if source == "secret" else (CONFIG_MAP_SOURCE_KEYS, "name")
    g = d.fields(value, spath, keys, source)
    obj = d.string(*g[name_key]) if name_key in g else None
    if not obj:
        d.p.error(spath, f"a {source} volume needs `{name_key}`")
        return Volume(name, "unsupported:" + source, where=where)  # reported; its mounts stay quiet
    items: list[tuple[str, str, int | None]] = []
    if "items" in g:
        raw, ipath = g["items"]
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            h = d.fields(item, (*ipath, i), ITEM_KEYS, "items")
            key, path = (d.string(*h[k]) if k in h else None for k in ("key", "path"))
            if not key or not path:
                d.p.error((*ipath, i), "an items entry needs `key` and `path`")
                continue
            if path.startswith("/") or ".." in path.split("/"):
                d.p.error(h["path"][1], f"items path {path!r} must be relative, without '..'")
                continue
            items.append((key, path, _mode(d, *h["mode"]) if "mode" in h else None))
        if not isinstance(raw, list):
            d.p.error(ipath, "items must be a list")
    mode = _mode(d, *g["defaultMode"]) if "defaultMode" in g else 0o644
    optional = d.boolean(*g["optional"]) if "optional" in g else False
    return Volume(name, source, path=obj, read_only=True, where=where, items=tuple(items),
                  default_mode=mode if mode is not None else 0o644, optional=optional)


def _mode(d: DocReader, value: Any, path: Path_) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o777:
        d.p.error(path, f"a file mode is a number from 0 to 0777 (511), got {value!r}")
        return None
    return value


def read_claim_templates(d: DocReader, value: Any, path: Path_) -> tuple[Volume, ...]:
    """`volumeClaimTemplates`: one Docker volume per run and claim; only `metadata.name`
    matters (size, storage class and access modes have no meaning for a local volume)."""
    if not isinstance(value, list):
        d.p.error(path, f"volumeClaimTemplates must be a list, got {kind_of(value)}")
        return ()
    out: list[Volume] = []
    for i, item in enumerate(value):
        f = d.fields(item, (*path, i), CLAIM_TEMPLATE_KEYS, "volumeClaimTemplate")
        g = d.fields(f["metadata"][0], f["metadata"][1], CLAIM_METADATA_KEYS, "metadata") if "metadata" in f else {}
        name = d.string(*g["name"]) if "name" in g else None
        if not name:  # operator.go createPVCs
            if isinstance(item, dict):
                d.p.error((*path, i), f"volumeClaimTemplates[{i}].metadata.name is required")
            continue
        if any(v.name == name for v in out):
            d.p.error(g["name"][1], f"volume claim {name!r} is declared twice")
            continue
        out.append(Volume(name, "claimTemplate", where=d.where((*path, i))))
    return tuple(out)


def read_claim_gc(d: DocReader, value: Any, path: Path_) -> str:
    f = d.fields(value, path, VOLUME_CLAIM_GC_KEYS, "volumeClaimGC")
    if "strategy" not in f or f["strategy"][0] in (None, ""):
        return GC_STRATEGIES[0]
    strategy = d.string(*f["strategy"])
    if strategy not in GC_STRATEGIES:
        d.p.error(f["strategy"][1], f"volumeClaimGC.strategy must be one of {', '.join(GC_STRATEGIES)}, "
                  f"got {strategy!r}", hint=unknown_key_hint(strategy or "", GC_STRATEGIES))
        return GC_STRATEGIES[0]
    return strategy or GC_STRATEGIES[0]


def read_volume_mounts(d: DocReader, value: Any, path: Path_, template: str) -> tuple[VolumeMount, ...]:
    """A container's `volumeMounts`; a `mountPath` mounted twice is an error (validate.go
    `validateLeaf`)."""
    if not isinstance(value, list):
        d.p.error(path, f"volumeMounts must be a list, got {kind_of(value)}")
        return ()
    out: list[VolumeMount] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(value):
        ipath = (*path, i)
        f = d.fields(item, ipath, VOLUME_MOUNT_KEYS, "volumeMount")
        if not isinstance(item, dict):
            continue
        name = d.string(*f["name"]) if "name" in f else None
        mount = d.string(*f["mountPath"]) if "mountPath" in f else None
        if not name:
            d.p.error(ipath, "a volumeMount needs a `name`", hint="the name of a volume of the template or spec")
        if not mount:
            d.p.error(ipath, "a volumeMount needs a `mountPath`", hint="where the volume appears in the container")
        if not name or not mount:
            continue
        if not _has_tags(mount) and not mount.startswith("/"):
            d.p.error(f["mountPath"][1], f"mountPath must be an absolute path, got {mount!r}")
        if mount in seen:
            d.p.error(f["mountPath"][1], f"templates.{template}.container.volumeMounts[{i}].mountPath {mount!r} "
                      f"already mounted in container.volumeMounts.{seen[mount]}")
            continue
        seen[mount] = name
        sub = d.string(*f["subPath"]) if "subPath" in f and f["subPath"][0] not in (None, "") else None
        if sub is not None and not _has_tags(sub) and (
                sub.startswith("/") or ".." in posixpath.normpath(sub).split("/")):
            d.p.error(f["subPath"][1], f"subPath must be a relative path inside the volume, got {sub!r}")
        read_only = d.boolean(*f["readOnly"]) if "readOnly" in f else False
        out.append(VolumeMount(name, mount, sub, read_only, where=d.where(ipath)))
    return tuple(out)


def check_mount_names(d: DocReader, mounts: tuple[VolumeMount, ...], path: Path_, own: tuple[Volume, ...],
                      known: set[str]) -> None:
    """Every mount names a volume of its template, of the spec or a claim (Argo looks them up
    in that order, `addVolumeReferences`); else the pod could not be built. `path` is the
    `volumeMounts` list."""
    names = {v.name for v in own} | known
    for i, m in enumerate(mounts):
        if m.name not in names:
            d.p.error((*path, i, "name"), f"volume {m.name!r} not found in workflow spec",
                      hint=unknown_key_hint(m.name, sorted(names)) or
                      "declare it in spec.volumes, the template's volumes or spec.volumeClaimTemplates")
