"""Every field Argo's own JSON schema gives the objects a workflow file spells is either
handled, accepted with no effect under Prefect (`plan` lists it), or refused by `validate` as
not supported yet: never an "unknown key". The names come from `data/argo_schema_fields.txt`
(written by `bench/argo_schema_fields.py` from argo-workflows' `api/jsonschema/schema.json`)."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

from flowport.translators import check
from flowport.translators.argo import artifacts, calls, container, cron, dag, document, hooks, http_template, parameters
from flowport.translators.argo import retry, templates, volumes, workflow
from flowport.translators.fields import IGNORED, OK, UNSUPPORTED

FIELDS = Path(__file__).parent / "data" / "argo_schema_fields.txt"
TABLES = {
    "Workflow": workflow.TOP_KEYS,
    "ObjectMeta": workflow.METADATA_KEYS,
    "WorkflowSpec": workflow.SPEC_KEYS,
    "WorkflowTemplateRef": workflow.WORKFLOW_TEMPLATE_REF_KEYS,
    "Template": templates.TEMPLATE_KEYS,
    "Container": container.CONTAINER_KEYS,
    "ScriptTemplate": container.SCRIPT_KEYS,
    "SuspendTemplate": templates.SUSPEND_KEYS,
    "HTTP": http_template.HTTP_KEYS,
    "DAGTemplate": dag.DAG_KEYS,
    "DAGTask": calls.TASK_KEYS,
    "WorkflowStep": calls.STEP_KEYS,
    "TemplateRef": document.TEMPLATE_REF_KEYS,
    "ContinueOn": calls.CONTINUE_ON_KEYS,
    "Sequence": calls.SEQUENCE_KEYS,
    "LifecycleHook": hooks.HOOK_KEYS,
    "Inputs": parameters.INPUTS_KEYS,
    "Outputs": parameters.OUTPUTS_KEYS,
    "Arguments": parameters.ARGUMENTS_KEYS,
    "Parameter": parameters.PARAM_KEYS,
    "ValueFrom": parameters.VALUE_FROM_KEYS,
    "RetryStrategy": retry.RETRY_KEYS,
    "Backoff": retry.BACKOFF_KEYS,
    "Synchronization": templates.SYNCHRONIZATION_KEYS,
    "Mutex": templates.MUTEX_KEYS,
    "CronWorkflowSpec": cron.CRON_KEYS,
    "Artifact": artifacts.ARTIFACT_KEYS,
    "ArchiveStrategy": artifacts.ARCHIVE_KEYS,
    "TarStrategy": artifacts.TAR_KEYS,
    "RawArtifact": artifacts.RAW_KEYS,
    "HTTPArtifact": artifacts.HTTP_KEYS,
    "Header": artifacts.HEADER_KEYS,
    "S3Artifact": artifacts.S3_KEYS,
    "ArtifactRepositoryRef": artifacts.REPOSITORY_REF_KEYS,
    "Volume": volumes.VOLUME_KEYS,
    "VolumeMount": volumes.VOLUME_MOUNT_KEYS,
    "EmptyDirVolumeSource": volumes.EMPTY_DIR_KEYS,
    "HostPathVolumeSource": volumes.HOST_PATH_KEYS,
    "PersistentVolumeClaimVolumeSource": volumes.PVC_SOURCE_KEYS,
    "PersistentVolumeClaim": volumes.CLAIM_TEMPLATE_KEYS,
    "VolumeClaimGC": volumes.VOLUME_CLAIM_GC_KEYS,
}
# read as a whole, so its fields share its class: Template.metadata has no effect
WHOLE = {"Metadata": templates.TEMPLATE_KEYS["metadata"]}
NAMES = {OK: "handled", IGNORED: "no effect under Prefect", UNSUPPORTED: "not supported yet"}


def schema_fields() -> list[tuple[str, str]]:
    lines = FIELDS.read_text().splitlines()
    assert lines[0].startswith("# argoproj/argo-workflows v") and "api/jsonschema/schema.json" in lines[0]
    return [tuple(line.split()) for line in lines if line and not line.startswith("#")]


def classes() -> dict[tuple[str, str], str]:
    out = {}
    for obj, field in schema_fields():
        cls = WHOLE.get(obj) or (TABLES[obj].get(field))
        out[obj, field] = NAMES.get(cls, "unknown")
    return out


def test_every_argo_schema_field_has_a_class():
    unknown = sorted(k for k, v in classes().items() if v == "unknown")
    assert unknown == []
    # an output parameter is a Parameter too
    assert sorted(f for o, f in schema_fields() if o == "Parameter" and f not in parameters.OUTPUT_PARAM_KEYS) == []
    counts = Counter(classes().values())
    assert sum(counts.values()) == len(schema_fields())
    print(dict(counts))


def test_template_metadata_and_annotations_have_no_effect(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(textwrap.dedent("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: m}
        spec:
          entrypoint: t
          templates:
          - name: t
            metadata: {annotations: {a: b}, labels: {k: v}}
            annotations: {workflows.argoproj.io/display-name: T}
            container: {image: busybox}
        """).lstrip())
    r = check(p)
    assert r.ok, r.error().render()
    assert any("spec.templates[0].metadata" in i for i in r.ignored)
    assert any("spec.templates[0].annotations" in i for i in r.ignored)


def test_a_not_supported_schema_field_is_a_validate_error_naming_it(tmp_path):
    p = tmp_path / "u.yaml"
    p.write_text(textwrap.dedent("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: u}
        spec:
          entrypoint: t
          templates:
          - name: t
            container: {image: busybox}
            podSpecPatch: "{}"
        """).lstrip())
    r = check(p)
    assert not r.ok
    assert any(p.kind == "unsupported" and "podSpecPatch" in p.message and p.mark.line == 9 for p in r.problems)


def test_volume_fields_the_local_engine_gives_are_handled():
    """What a Docker Engine can give a container (a named volume, a bind, a fresh volume per
    pod, files from a Secret block / Variable) is handled; the cluster storage drivers are not
    supported yet."""
    vol = {(o, f): c for (o, f), c in classes().items() if "Volume" in o or o == "PersistentVolumeClaim"}
    handled = sorted(k for k, c in vol.items() if c == "handled")
    assert handled == sorted([
        ("Volume", "name"), ("Volume", "emptyDir"), ("Volume", "hostPath"), ("Volume", "persistentVolumeClaim"),
        ("Volume", "configMap"), ("Volume", "secret"),
        ("VolumeMount", "name"), ("VolumeMount", "mountPath"), ("VolumeMount", "subPath"),
        ("VolumeMount", "readOnly"), ("HostPathVolumeSource", "path"), ("HostPathVolumeSource", "type"),
        ("PersistentVolumeClaimVolumeSource", "claimName"), ("PersistentVolumeClaimVolumeSource", "readOnly"),
        ("PersistentVolumeClaim", "metadata"), ("VolumeClaimGC", "strategy")])
    assert vol["Volume", "nfs"] == "not supported yet"
    assert Counter(vol.values()) == {"handled": 16, "no effect under Prefect": 8, "not supported yet": 26}
    assert all(classes()[k] == "handled" for k in [("WorkflowSpec", "volumes"), ("WorkflowSpec", "volumeClaimTemplates"),
                                                  ("WorkflowSpec", "volumeClaimGC"), ("Template", "volumes"),
                                                  ("Container", "volumeMounts"), ("ScriptTemplate", "volumeMounts")])
