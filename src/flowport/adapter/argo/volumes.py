"""Argo volumes on the Docker Engine (docs/argo.md, "Volumes").

- `volumeClaimTemplates` claim → one named Docker volume per run, `<workflow>-<claim>-<run>`,
  created before the entrypoint runs (operator.go `createPVCs`) and shared by every step that
  mounts it; the end of the run removes it as `volumeClaimGC` says (`deletePVCs`), unless the
  run keeps its volumes (`keep_volumes`).
- `persistentVolumeClaim.claimName` → the named volume of that name, created if absent, never
  removed (it outlives runs, as a PVC does).
- `emptyDir` → a fresh volume for each pod (each node attempt), removed when it ends: Argo
  shares an emptyDir only between the containers of one pod.
- `hostPath` → a bind mount, its `type` checked as the kubelet checks it.
- `secret` / `configMap` → the keys of the Prefect Secret block / Variable of that name
  (k8s_objects) written as files (`items` picks and renames them, `mode`/`defaultMode` as in
  Kubernetes) into a private folder for the pod, bind-mounted read-only and removed with the
  pod; a missing object is an error before the container starts, unless `optional`.
A mount finds its volume in the template's `volumes`, then the spec's, then the claims
(workflowpod.go `addVolumeReferences`). Paths, subPaths and claim names are substituted with the
node's scope, as Argo substitutes volumes before it builds the pod.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from ...lang.argo_tags import substitute
from ...model.argo import ArgoSpec, Template, Volume
from ..runners.volumes import (NEVER, ON_COMPLETION, VolumeError, create_volume, host_path, remove_volume,
                               volume_folder, volume_labels, volume_mount, volume_name)


class RunVolumes:
    """The volumes of one Argo run."""

    def __init__(self, spec: ArgoSpec, *, workflow: str, run_id: str, keep: bool) -> None:
        self.spec = spec
        self.workflow = workflow
        self.run_id = run_id
        self.keep = keep
        self.short_id = run_id.replace("-", "")[:12]

    def claim_volume(self, claim: str) -> str:
        return volume_name(self.workflow, claim, self.short_id)

    def _claim_labels(self, claim: str) -> dict[str, str]:
        gc = NEVER if self.keep else self.spec.volume_claim_gc
        return volume_labels(self.run_id, self.workflow, claim, gc)

    def create_claims(self) -> None:
        """Every claim's volume, before the entrypoint starts. Raises VolumeError."""
        for v in self.spec.volumes:
            if v.source == "claimTemplate":
                create_volume(self.claim_volume(v.name), self._claim_labels(v.name))

    def _lookup(self, tmpl: Template, name: str) -> Volume:
        for v in (*tmpl.volumes, *self.spec.volumes):
            if v.name == name:
                return v
        raise VolumeError(f"volume '{name}' not found in workflow spec")

    @contextlib.contextmanager
    def mounts(self, tmpl: Template, scope: dict[str, str], pod: str) -> Iterator[list[dict]]:
        """The Engine API `Mounts` of one pod of `tmpl`; its emptyDir volumes are created
        for it and removed when the block ends (after its container is gone). Raises
        VolumeError (unknown volume, a hostPath check, a subPath that cannot be made) and
        ExpressionError (an unresolvable tag)."""
        if not tmpl.volume_mounts:
            yield []
            return
        fresh: dict[str, str] = {}  # emptyDir name -> this pod's volume
        files: dict[str, str] = {}  # secret/configMap volume name -> this pod's folder of files
        try:
            out = [self._mount(tmpl, m, scope, pod, fresh, files) for m in tmpl.volume_mounts]
            yield out
        finally:
            for name in fresh.values():
                remove_volume(name)  # a container kept on purpose holds it: the run's end removes it
            for folder in files.values():
                shutil.rmtree(folder, ignore_errors=True)

    def _mount(self, tmpl: Template, m, scope: dict[str, str], pod: str, fresh: dict[str, str],
               files: dict[str, str]) -> dict:
        v = self._lookup(tmpl, m.name)
        target = substitute(m.mount_path, scope)
        sub = substitute(m.sub_path, scope) if m.sub_path else None
        read_only = m.read_only or v.read_only
        if v.source in ("secret", "configMap"):
            folder = files.get(v.name)
            if folder is None:
                folder = files[v.name] = object_files(v, substitute(v.path or "", scope))
            path = os.path.join(folder, sub) if sub else folder
            if sub and not os.path.exists(path):
                raise VolumeError(f"volume '{v.name}': no key {sub!r} to mount as subPath")
            return volume_mount(target, path, read_only=True, bind=True)
        if v.source == "hostPath":
            path = host_path(substitute(v.path or "", scope), v.host_type, sub)
            return volume_mount(target, path, read_only=read_only, bind=True)
        if v.source == "emptyDir":
            name = fresh.get(v.name)
            if name is None:
                name = fresh[v.name] = volume_name(self.workflow, v.name, self.short_id, pod)
                create_volume(name, volume_labels(self.run_id, self.workflow, v.name, ON_COMPLETION))
        elif v.source == "claimTemplate":
            name = self.claim_volume(v.name)
            create_volume(name, self._claim_labels(v.name))  # there already, unless a replay runs late
        elif v.source == "persistentVolumeClaim":
            name = substitute(v.path or "", scope)
            if not name or name != volume_name(name):
                raise VolumeError(f"persistentVolumeClaim claimName {name!r} is not a Docker volume name "
                                  "([a-zA-Z0-9][a-zA-Z0-9_.-]+)")
            if sub:
                create_volume(name)  # no flowport labels: nothing of flowport ever removes it
        else:
            raise VolumeError(f"volume '{v.name}': {v.source.partition(':')[2] or v.source} volumes are not "
                              "supported yet")
        if sub:
            return volume_mount(target, volume_folder(name, sub), read_only=read_only, bind=True)
        return volume_mount(target, name, read_only=read_only)


def object_files(v: Volume, name: str) -> str:
    """A private folder holding the Secret's / ConfigMap's keys as files (Kubernetes'
    projection: every key, or `items` renamed, each with its mode). Raises VolumeError when
    the object or an item's key is missing and the volume is not optional."""
    from ..k8s_objects import ObjectLookupError, config_map_data, secret_data

    what = "secret" if v.source == "secret" else "configmap"
    try:
        data = secret_data(name) if v.source == "secret" else config_map_data(name)
    except ObjectLookupError as exc:
        raise VolumeError(str(exc)) from None
    except Exception as exc:  # the server is unreachable: say which object was wanted
        raise VolumeError(f'{what} "{name}": cannot read it from Prefect: {exc}') from None
    if data is None and not v.optional:
        raise VolumeError(f'{what} "{name}" not found (volume {v.name!r}; `flowport secrets import` makes it '
                          "from the manifest)")
    data = data or {}
    chosen = v.items or tuple((key, key, None) for key in sorted(data))
    folder = tempfile.mkdtemp(prefix="flowport-volume-")
    os.chmod(folder, 0o755)
    try:
        for key, rel, mode in chosen:
            if key not in data:
                if v.optional:
                    continue
                raise VolumeError(f"configmap references non-existent config key: {key}" if what == "configmap"
                                  else f"secret references non-existent secret key: {key}")
            path = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(data[key])
            os.chmod(path, mode if mode is not None else v.default_mode)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
