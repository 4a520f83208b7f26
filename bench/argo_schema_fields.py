"""Derive the (object, field) names flowport checks its Argo key tables against.

    python bench/argo_schema_fields.py ARGO_CHECKOUT > tests/data/argo_schema_fields.txt

ARGO_CHECKOUT is a git directory of github.com/argoproj/argo-workflows; the field names are read
from its `api/jsonschema/schema.json` at HEAD (the version and commit go into the header). Only
the names are written: one `Object field` pair a line, for the objects a workflow file spells.
"""

from __future__ import annotations

import json
import subprocess
import sys

V1 = "io.argoproj.workflow.v1alpha1."
OBJECTS = {  # name in the list -> schema definition
    "Workflow": V1 + "Workflow",
    "ObjectMeta": "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "WorkflowSpec": V1 + "WorkflowSpec",
    "WorkflowTemplateRef": V1 + "WorkflowTemplateRef",
    "Template": V1 + "Template",
    "Metadata": V1 + "Metadata",
    "Container": "io.k8s.api.core.v1.Container",
    "ScriptTemplate": V1 + "ScriptTemplate",
    "SuspendTemplate": V1 + "SuspendTemplate",
    "HTTP": V1 + "HTTP",
    "DAGTemplate": V1 + "DAGTemplate",
    "DAGTask": V1 + "DAGTask",
    "WorkflowStep": V1 + "WorkflowStep",
    "TemplateRef": V1 + "TemplateRef",
    "ContinueOn": V1 + "ContinueOn",
    "Sequence": V1 + "Sequence",
    "LifecycleHook": V1 + "LifecycleHook",
    "Inputs": V1 + "Inputs",
    "Outputs": V1 + "Outputs",
    "Arguments": V1 + "Arguments",
    "Parameter": V1 + "Parameter",
    "ValueFrom": V1 + "ValueFrom",
    "RetryStrategy": V1 + "RetryStrategy",
    "Backoff": V1 + "Backoff",
    "Synchronization": V1 + "Synchronization",
    "Mutex": V1 + "Mutex",
    "CronWorkflowSpec": V1 + "CronWorkflowSpec",
    "Artifact": V1 + "Artifact",
    "ArchiveStrategy": V1 + "ArchiveStrategy",
    "TarStrategy": V1 + "TarStrategy",
    "RawArtifact": V1 + "RawArtifact",
    "HTTPArtifact": V1 + "HTTPArtifact",
    "Header": V1 + "Header",
    "S3Artifact": V1 + "S3Artifact",
    "ArtifactRepositoryRef": V1 + "ArtifactRepositoryRef",
    "Volume": "io.k8s.api.core.v1.Volume",
    "VolumeMount": "io.k8s.api.core.v1.VolumeMount",
    "EmptyDirVolumeSource": "io.k8s.api.core.v1.EmptyDirVolumeSource",
    "HostPathVolumeSource": "io.k8s.api.core.v1.HostPathVolumeSource",
    "PersistentVolumeClaimVolumeSource": "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
    "PersistentVolumeClaim": "io.k8s.api.core.v1.PersistentVolumeClaim",
    "VolumeClaimGC": V1 + "VolumeClaimGC",
}


def main(checkout: str) -> None:
    git = ["git", "--git-dir", checkout] if not checkout.endswith("/.git") else ["git", "-C", checkout]
    commit = subprocess.check_output([*git, "rev-parse", "HEAD"], text=True).strip()
    version = subprocess.run([*git, "describe", "--tags", "HEAD"], text=True, capture_output=True).stdout.strip()
    schema = json.loads(subprocess.check_output([*git, "show", "HEAD:api/jsonschema/schema.json"], text=True))
    defs = schema["definitions"]
    print(f"# argoproj/argo-workflows {version or '?'} ({commit}) api/jsonschema/schema.json")
    print("# field names only, written by bench/argo_schema_fields.py; one `Object field` a line")
    for name, ref in OBJECTS.items():
        for field in sorted(defs[ref].get("properties", {})):
            print(name, field)


if __name__ == "__main__":
    main(sys.argv[1])
