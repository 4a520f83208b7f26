"""Argo Workflows YAML (Workflow / WorkflowTemplate / CronWorkflow) → IR (`model.argo.ArgoSpec`):
the top level (`apiVersion`, `kind`, `metadata`, `spec`), `workflowTemplateRef`, the spec's
entrypoint, arguments, hooks and limits, and the load entry `translate_file`.

Keys are case-sensitive, as in Argo (JSON field names). Every key is in one of three
tables: "ok" (implemented), "ignored" (Kubernetes-only, no effect on a laptop: reported by
`plan`), "unsupported" (rejected with its location). Unknown keys are errors with a
"did you mean". `workflowTemplateRef` and `templateRef` are resolved against the other
documents of the file and the files given with `--templates`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...model import Semantics, Where, Workflow
from ...model.argo import ArgoSpec, Artifact, Hook, Parameter, Volume
from ..fields import IGNORED as IGN
from ..fields import OK, Fields, kind_of
from ..fields import UNSUPPORTED as UNS
from ..source import Document, Mark, Problem, Problems, unknown_key_hint
from .cron import cron_as_workflow, cron_schedule
from .document import DocReader, Path_, Translation, is_argo
from .artifacts import read_repository_ref
from .hooks import read_hooks
from .parameters import read_arguments, read_artifacts_of
from .refs import Library, resolve_ref_templates, resolve_refs
from .templates import read_synchronization, read_templates
from .volumes import read_claim_gc, read_claim_templates, read_volumes

TOP_KEYS = {"apiVersion": OK, "kind": OK, "metadata": OK, "spec": OK, "status": IGN}
METADATA_KEYS = {
    "name": OK, "generateName": OK, "namespace": OK, "labels": OK, "annotations": OK,
    "uid": IGN, "creationTimestamp": IGN, "resourceVersion": IGN, "generation": IGN,
    "managedFields": IGN, "ownerReferences": IGN, "finalizers": IGN, "selfLink": IGN,
    "deletionTimestamp": IGN, "deletionGracePeriodSeconds": IGN,
}
SPEC_KEYS = {
    "entrypoint": OK, "templates": OK, "arguments": OK, "onExit": OK, "hooks": OK,
    "activeDeadlineSeconds": OK, "parallelism": OK, "workflowTemplateRef": OK,
    "templateDefaults": OK, "serviceAccountName": OK, "priority": OK,
    "nodeSelector": IGN, "tolerations": IGN, "affinity": IGN, "automountServiceAccountToken": IGN,
    "executor": IGN, "podGC": IGN, "ttlStrategy": IGN, "ttlSecondsAfterFinished": IGN,
    "podMetadata": IGN, "podDisruptionBudget": IGN, "dnsConfig": IGN, "dnsPolicy": IGN,
    "hostAliases": IGN, "securityContext": IGN, "priorityClassName": IGN, "podPriority": IGN,
    "podPriorityClassName": IGN, "archiveLogs": IGN, "archiveLocation": IGN,
    "workflowMetadata": IGN, "schedulerName": IGN, "imagePullSecrets": OK, "hostNetwork": IGN,
    "metrics": IGN, "artifactGC": IGN, "executorPlugins": IGN, "podResources": IGN, "resourceClaims": IGN, "podSpecPatch": UNS, "shutdown": IGN, "suspend": IGN,
    "volumes": OK, "volumeClaimTemplates": OK, "volumeClaimGC": OK,
    "artifactRepositoryRef": OK, "synchronization": OK, "retryStrategy": UNS,
}
WORKFLOW_TEMPLATE_REF_KEYS = {"name": OK, "clusterScope": OK}
RUNNABLE_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


def translate_file(path: str, docs: list[Document], templates: Iterable[str | Path] = ()) -> tuple[Workflow | None, list[Problem], list[str], dict[str, str]]:
    library = Library()
    for t in templates:
        library.add_path(t)
    wf, problems, ignored = translate(docs, source_file=path, library=library)
    found = list(problems)  # an unreadable templates file is its own error, not this workflow's
    texts = {d.file: d.text for d in docs[:1]}
    texts.update(library.texts)
    return (wf if not found else None), found, ignored, texts


def translate(docs: list[Document], *, source_file: str, library: Library | None = None) -> tuple[Workflow | None, Problems, list[str]]:
    """The first Workflow document of the file (else the first WorkflowTemplate) becomes the
    workflow; the other WorkflowTemplates of the file join the template library."""
    library = library or Library()
    main_doc = next((doc for doc in docs if is_argo(doc.data) and doc.data.get("kind") == "Workflow"), None)
    if main_doc is None:
        main_doc = next((doc for doc in docs if is_argo(doc.data) and doc.data.get("kind") in RUNNABLE_KINDS), docs[0])
    for doc in docs:
        if doc is not main_doc:
            library.add(doc)
    cx = Translation(main_doc, library)
    d = DocReader(cx, main_doc)
    data = main_doc.data
    if not isinstance(data, dict):
        d.p.error((), f"an Argo workflow is a mapping, got {kind_of(data)}")
        return None, cx.problems, []
    kind = data.get("kind")
    if kind not in RUNNABLE_KINDS:
        d.p.unsupported(("kind",), f"Argo kind {kind!r}" if kind else "an Argo document without `kind`",
                        hint="flowport runs Workflow, WorkflowTemplate and CronWorkflow documents")
        return None, cx.problems, []
    cron: tuple[tuple[str, ...], bool] | None = None
    if kind == "CronWorkflow":
        cron = cron_schedule(d, data)
        main_doc = cron_as_workflow(main_doc)
        found, ignored = list(cx.problems), cx.ignored
        cx = Translation(main_doc, library)
        for problem in found:  # the schedule's problems, already placed in the file
            cx.problems.add(problem)
        cx.ignored += ignored
        d = DocReader(cx, main_doc)
        data = main_doc.data
    top, meta, spec = _doc_parts(d, data)
    s = _read_spec(cx, d, top, spec)
    volumes = _read_volumes(cx, s)
    refs = _read_templates(cx, s)
    _check_local_refs(cx, refs)
    entrypoint = _entrypoint(cx, s)
    arguments: dict[str, Parameter] = {}
    artifacts: dict[str, Artifact] = {}
    for src, fields_ in s.sources():
        if "arguments" in fields_:
            for p in read_arguments(src, *fields_["arguments"]):
                arguments[p.name] = p
            for a in read_artifacts_of(src, *fields_["arguments"], role="argument"):
                artifacts[a.name] = a
    cx.artifacts = tuple(artifacts.values())
    ref = s.pick("artifactRepositoryRef")
    cx.repository_ref = read_repository_ref(*ref) if ref else None
    exit_hook, hooks = _workflow_hooks(cx, s)
    _check_unresolved(cx)
    return _finish(cx, s, meta, str(kind), entrypoint, arguments, (exit_hook, hooks), cron, source_file, volumes)


def _doc_parts(d: DocReader, data: dict) -> tuple[dict, dict, dict]:
    top = d.fields(data, (), TOP_KEYS, "top-level")
    meta = d.fields(top["metadata"][0], top["metadata"][1], METADATA_KEYS, "metadata") if "metadata" in top else {}
    spec = top.get("spec", ({}, ("spec",)))[0]
    if "spec" not in top:
        d.p.error((), "an Argo workflow needs a `spec`")
    return top, meta, spec if isinstance(spec, dict) else {}


@dataclass
class _Spec:
    """This document's spec and, under it, the spec of its `workflowTemplateRef` (this one wins)."""

    d: DocReader
    fields: Fields
    base: DocReader | None
    base_fields: Fields

    def pick(self, key: str) -> tuple[DocReader, Any, Path_] | None:
        if key in self.fields:
            return self.d, *self.fields[key]
        if key in self.base_fields:
            assert self.base is not None
            return self.base, *self.base_fields[key]
        return None

    def sources(self) -> list[tuple[DocReader, Fields]]:
        """The referenced spec first, so that this document's keys override it."""
        out = [(self.base, self.base_fields)] if self.base is not None else []
        return [*out, (self.d, self.fields)]


def _read_spec(cx: Translation, d: DocReader, top: dict, spec: dict) -> _Spec:
    if "spec" in top and not isinstance(top["spec"][0], dict):
        d.p.error(("spec",), f"spec must be a mapping, got {kind_of(top['spec'][0])}")
    base_spec: dict = {}
    base_doc: DocReader | None = None
    if isinstance(spec, dict) and "workflowTemplateRef" in spec:
        ref = spec["workflowTemplateRef"]
        g = d.fields(ref, ("spec", "workflowTemplateRef"), WORKFLOW_TEMPLATE_REF_KEYS, "workflowTemplateRef")
        wt = d.string(*g["name"]) if "name" in g else None
        if wt is None:
            d.p.error(("spec", "workflowTemplateRef"), "workflowTemplateRef needs a `name`")
        elif wt not in cx.library.docs:
            d.p.error(("spec", "workflowTemplateRef", "name"), f"WorkflowTemplate {wt!r} not found",
                      hint=cx.library.not_found_hint(wt))
        else:
            wdoc = cx.library.docs[wt]
            base_doc = DocReader(cx, wdoc)
            bspec = wdoc.data.get("spec")
            base_spec = bspec if isinstance(bspec, dict) else {}
    spec_f = d.fields(spec, ("spec",), SPEC_KEYS, "spec") if isinstance(spec, dict) else {}
    base_f = base_doc.fields(base_spec, ("spec",), SPEC_KEYS, "spec") if base_doc else {}
    return _Spec(d, spec_f, base_doc, base_f)


def _read_volumes(cx: Translation, s: _Spec) -> tuple[tuple[Volume, ...], str]:
    """`spec.volumes` then the `volumeClaimTemplates` claims (a mount finds a spec volume
    first, as Argo's `addVolumeReferences`), merged by name over the referenced
    WorkflowTemplate's; and `volumeClaimGC.strategy`. Read before the templates: their
    `volumeMounts` are checked against these names."""
    by_name: dict[str, Volume] = {}
    claims: dict[str, Volume] = {}
    for src, fields_ in s.sources():
        if "volumes" in fields_:
            by_name.update((v.name, v) for v in read_volumes(src, *fields_["volumes"], what="spec.volumes"))
        if "volumeClaimTemplates" in fields_:
            claims.update((v.name, v) for v in read_claim_templates(src, *fields_["volumeClaimTemplates"]))
    gc = s.pick("volumeClaimGC")
    strategy = read_claim_gc(*gc) if gc is not None else "OnWorkflowSuccess"
    volumes = (*by_name.values(), *(v for k, v in claims.items() if k not in by_name))
    cx.volume_names = {v.name for v in volumes}
    return volumes, strategy


def _pull_secrets(d: DocReader, value: Any, path: Path_) -> tuple[str, ...]:
    """`imagePullSecrets: [{name}]`: the Secrets (kubernetes.io/dockerconfigjson) whose
    registry credentials pull the workflow's images."""
    if not isinstance(value, list):
        d.p.error(path, f"imagePullSecrets must be a list of {{name}} mappings, got {kind_of(value)}")
        return ()
    names = []
    for i, item in enumerate(value):
        f = d.fields(item, (*path, i), {"name": OK}, "imagePullSecrets")
        if "name" not in f:
            d.p.error((*path, i), "an imagePullSecrets entry needs `name`")
            continue
        name = d.string(*f["name"])
        if name:
            names.append(name)
    return tuple(names)


def _read_templates(cx: Translation, s: _Spec) -> list:
    """The referenced WorkflowTemplate's templates first, this document's override by name;
    then the `templateRef`s they make. Returns the references to local templates."""
    refs: list = []
    for src, fields_ in s.sources():
        if "templates" not in fields_:
            continue
        defaults = None
        if "templateDefaults" in fields_ and isinstance(fields_["templateDefaults"][0], dict):
            defaults = fields_["templateDefaults"][0]
        for t in read_templates(src, *fields_["templates"], refs, defaults):
            cx.templates[t.name] = t
    resolve_refs(cx)
    resolve_ref_templates(cx)
    return refs


def _check_local_refs(cx: Translation, refs: list) -> None:
    for rd, name, rpath in refs:
        if rd.name_of(name) not in cx.templates:
            rd.p.error(rpath, f"no template named {name!r}",
                       hint=unknown_key_hint(name, [k for k in cx.templates if "/" not in k]))


def _entrypoint(cx: Translation, s: _Spec) -> str | None:
    entry = s.pick("entrypoint")
    if entry is None and s.base is None and "workflowTemplateRef" in s.fields:
        return None  # the unresolved workflowTemplateRef is the error, as in Argo
    if entry is None:
        s.d.p.error(("spec",), "spec needs an `entrypoint`", hint="the name of the template to run first")
        return None
    edoc, evalue, epath = entry
    entrypoint = edoc.string(evalue, epath)
    if entrypoint is not None and entrypoint not in cx.templates:
        edoc.p.error(epath, f"entrypoint names no template: {entrypoint!r}",
                     hint=unknown_key_hint(entrypoint, list(cx.templates)))
    return entrypoint


def _workflow_hooks(cx: Translation, s: _Spec) -> tuple[Hook | None, tuple[Hook, ...]]:
    """`spec.hooks` and `spec.onExit` (which wins over `hooks.exit`), with their templates."""
    exit_hook, hooks = None, ()
    hrefs: list = []
    h = s.pick("hooks")
    if h is not None:
        exit_hook, hooks = read_hooks(h[0], h[1], h[2], hrefs)
    o = s.pick("onExit")
    if o is not None:
        odoc, ovalue, opath = o
        name = odoc.string(ovalue, opath)
        if name is not None:
            hrefs.append((odoc, name, opath))
            exit_hook = Hook("exit", name, where=odoc.where(opath))  # onExit wins over hooks.exit
    resolve_refs(cx)
    resolve_ref_templates(cx)
    _check_local_refs(cx, hrefs)
    return exit_hook, hooks


def _check_unresolved(cx: Translation) -> None:
    for key, t in cx.templates.items():
        if t.kind.startswith("ref:") and not cx.problems and not any(e.p for e in cx.extra):
            cx.problems.add(Problem(f"template {key!r} refers to a template that cannot be found",
                                    None if t.where is None else _mark(t.where)))


def _mark(where: Where) -> Mark:
    return Mark(where.file, where.line, where.col)


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in value.items()) if isinstance(value, dict) else ()


def _finish(cx: Translation, s: _Spec, meta: dict, kind: str, entrypoint: str | None,
            arguments: dict[str, Parameter], hooks: tuple[Hook | None, tuple[Hook, ...]],
            cron: tuple[tuple[str, ...], bool] | None, source_file: str,
            volumes: tuple[tuple[Volume, ...], str] = ((), "OnWorkflowSuccess")) -> tuple[Workflow | None, Problems, list[str]]:
    d = s.d
    deadline = None
    a = s.pick("activeDeadlineSeconds")
    if a is not None:
        n = a[0].whole(a[1], a[2], minimum=0)
        deadline = float(n) if n is not None else None
    par = s.pick("parallelism")
    parallelism = par[0].whole(par[1], par[2], minimum=1) if par else None
    sync = s.pick("synchronization")
    synchronization = read_synchronization(sync[0], sync[1], sync[2]) if sync else None
    sa = s.pick("serviceAccountName")
    pull_secrets = _pull_secrets(*s.pick("imagePullSecrets")) if s.pick("imagePullSecrets") else ()
    prio = s.pick("priority")
    metadata = {k: v for k, (v, _) in meta.items()}
    for key in ("name", "generateName"):  # Kubernetes reads both into Go strings
        if metadata.get(key) is not None and not isinstance(metadata[key], str):
            d.p.error(("metadata", key), f"metadata.{key} must be a string, got {kind_of(metadata[key])}",
                      hint="quote it")
    name = metadata.get("name")
    generate = metadata.get("generateName")
    if not name and not generate:
        if kind == "Workflow":
            d.p.error(("metadata",), "metadata needs `name` or `generateName`")
    labels = _pairs(metadata.get("labels") or {}) if isinstance(metadata.get("labels"), dict) else ()
    annotations = _pairs(metadata.get("annotations") or {}) if isinstance(metadata.get("annotations"), dict) else ()
    if kind != "Workflow" and name:  # run the way `argo submit --from workflowtemplate/<name>` does
        name, generate = None, f"{name}-"
    for extra in cx.extra:
        cx.problems.extend(extra.p)
    if cx.problems or entrypoint is None:
        return None, cx.problems, cx.ignored
    spec_ir = ArgoSpec(
        entrypoint=entrypoint,
        templates=dict(cx.templates),
        kind=kind,
        generate_name=str(generate) if generate and not name else None,
        name=str(name) if name else None,
        namespace=str(metadata.get("namespace") or "default"),
        labels=labels,
        annotations=annotations,
        service_account=str(sa[1]) if sa else "",
        arguments=tuple(arguments.values()),
        exit_hook=hooks[0],
        hooks=hooks[1],
        active_deadline=deadline,
        parallelism=parallelism,
        sync=synchronization,
        priority=int(prio[1]) if prio and str(prio[1]).lstrip("-").isdigit() else None,
        artifacts=cx.artifacts,
        repository_ref=cx.repository_ref,
        volumes=volumes[0],
        volume_claim_gc=volumes[1],
        image_pull_secrets=pull_secrets,
    )
    flow_name = str(name or (generate or "argo-workflow").rstrip("-") or "argo-workflow")
    description = dict(annotations).get("workflows.argoproj.io/description")
    wf = Workflow(
        name=flow_name,
        dialect="argo",
        source_file=source_file,
        workdir=str(Path(source_file).resolve().parent),
        steps=(),
        description=description.strip() if description else None,
        semantics=Semantics(vocabulary="argo", handler_failure_fails_run=True, stop_grace_seconds=5.0,
                            stop_ladder="argo", lifecycle_after_crash=True),
        ignored=tuple(cx.ignored),
        argo=spec_ir,
        timeout=deadline,
        max_active_steps=parallelism or 0,
        schedule=cron[0] if cron else (),
        schedule_paused=cron[1] if cron else False,
    )
    return wf, cx.problems, cx.ignored
