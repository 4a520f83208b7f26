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
A mount finds its volume in the template's `volumes`, then the spec's, then the claims
(workflowpod.go `addVolumeReferences`). Paths, subPaths and claim names are substituted with the
node's scope, as Argo substitutes volumes before it builds the pod.
"""

from __future__ import annotations

import contextlib
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
        try:
            out = [self._mount(tmpl, m, scope, pod, fresh) for m in tmpl.volume_mounts]
            yield out
        finally:
            for name in fresh.values():
                remove_volume(name)  # a container kept on purpose holds it: the run's end removes it

    def _mount(self, tmpl: Template, m, scope: dict[str, str], pod: str, fresh: dict[str, str]) -> dict:
        v = self._lookup(tmpl, m.name)
        target = substitute(m.mount_path, scope)
        sub = substitute(m.sub_path, scope) if m.sub_path else None
        read_only = m.read_only or v.read_only
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
