"""The Argo part of the IR: a template tree, kept close to Argo's own structure.

Argo runs a *tree* of templates (steps groups, DAG tasks, nested templates, loops, exit
handlers and hooks), not a flat step graph, so `Workflow.argo` carries an `ArgoSpec` and the
Argo engine (`adapter/argo/`) walks it. Frozen dataclasses, no YAML, no Prefect. Texts keep
their `{{…}}` tags: they are resolved at run time, when the values exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .common import Container, EnvRef, Http, Where


@dataclass(frozen=True)
class Parameter:
    """`inputs.parameters[]`, `arguments.parameters[]`, `spec.arguments.parameters[]`."""

    name: str
    value: str | None = None
    default: str | None = None
    enum: tuple[str, ...] = ()
    config_map: EnvRef | None = None  # valueFrom.configMapKeyRef: the ConfigMap's key (a Prefect Variable)


@dataclass(frozen=True)
class OutputParameter:
    """`outputs.parameters[]`: where the value comes from once the node has run."""

    name: str
    path: str | None = None  # valueFrom.path (a file in the container)
    default: str | None = None  # valueFrom.default
    expression: str | None = None  # valueFrom.expression (expr-lang, steps/dag templates)
    parameter: str | None = None  # valueFrom.parameter (a `{{…}}` reference)
    value: str | None = None  # a literal value (may hold tags)
    supplied: bool = False  # valueFrom.supplied (suspend templates)
    global_name: str | None = None  # exported as workflow.outputs.parameters.<globalName>


@dataclass(frozen=True)
class S3Location:
    """`s3:` on an artifact or in an artifact repository (Argo's `S3Bucket` + `key`). The
    secret fields name Kubernetes secrets (`name`, `key`); flowport reads their values from
    the environment or Prefect Secret blocks at run time, never from the file."""

    key: str | None = None
    bucket: str | None = None
    endpoint: str | None = None
    region: str | None = None
    insecure: bool | None = None
    access_key_secret: tuple[str, str] | None = None
    secret_key_secret: tuple[str, str] | None = None
    session_token_secret: tuple[str, str] | None = None
    addressing_style: str | None = None  # Auto | Path | Virtual


@dataclass(frozen=True)
class Artifact:
    """An artifact of `inputs`, `outputs` or `arguments` (Argo's `Artifact`); texts keep
    their tags. Locations: at most one of raw / http / s3 (`s3` may hold only a `key`)."""

    name: str
    path: str | None = None
    mode: int | None = None
    recurse_mode: bool = False
    optional: bool = False
    archive: str | None = None  # tar | none | zip; None: unset (tar.gz out, auto-detect in)
    compression_level: int | None = None  # archive.tar.compressionLevel
    sub_path: str | None = None
    from_: str | None = None  # `from`: a `{{steps|tasks|workflow|inputs….artifacts.X}}` tag
    from_expression: str | None = None
    global_name: str | None = None
    raw: str | None = None  # raw.data
    http_url: str | None = None
    http_headers: tuple[tuple[str, str], ...] = ()
    s3: S3Location | None = None
    where: Where | None = None

    @property
    def has_location(self) -> bool:
        return self.raw is not None or self.http_url is not None or self.s3 is not None


def clean_artifact_path(path: str) -> str | None:
    """Argo's `Artifact.CleanPath` (workflow_types.go): the cleaned path, or None when a `..`
    climbs out of the folder written before it (`/tmp/safe/../../etc`)."""
    import posixpath

    safe = ""
    if "/../" in path:
        safe = path.split("/../", 1)[0]
    elif path.endswith("/.."):
        safe = path[:-3]
    cleaned = posixpath.normpath(path)
    if safe and (not cleaned.startswith(safe + "/") or len(cleaned) <= len(safe) + 1):
        return None
    return cleaned


@dataclass(frozen=True)
class RepositoryRef:
    """`spec.artifactRepositoryRef`: a key of an `artifact-repositories`-like ConfigMap."""

    config_map: str = "artifact-repositories"
    key: str | None = None  # None: the ConfigMap's default-artifact-repository annotation


@dataclass(frozen=True)
class Hook:
    """A lifecycle hook: `onExit`/`hooks.exit` (name "exit") or a named hook with an
    expr-lang `expression` that fires it at most once."""

    name: str
    template: str  # a key of ArgoSpec.templates
    arguments: tuple[Parameter, ...] = ()
    expression: str | None = None
    where: Where | None = None
    artifacts: tuple[Artifact, ...] = ()  # arguments.artifacts


@dataclass(frozen=True)
class Sequence:
    """`withSequence`; every field may hold tags, so they stay text."""

    count: str | None = None
    start: str | None = None
    end: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Loop:
    items: tuple[Any, ...] | None = None  # withItems (JSON-like values)
    param: str | None = None  # withParam (a JSON list once resolved)
    sequence: Sequence | None = None  # withSequence


@dataclass(frozen=True)
class Call:
    """A step of a `steps` group or a task of a `dag`: which template it runs, how."""

    name: str
    template: str  # a key of ArgoSpec.templates
    arguments: tuple[Parameter, ...] = ()
    when: str | None = None
    loop: Loop | None = None
    continue_failed: bool = False
    continue_error: bool = False
    exit_hook: Hook | None = None
    hooks: tuple[Hook, ...] = ()  # named hooks, in the order written
    depends: str | None = None  # DAG: `depends` text (legacy `dependencies` rewritten to it)
    where: Where | None = None
    artifacts: tuple[Artifact, ...] = ()  # arguments.artifacts


@dataclass(frozen=True)
class RetryStrategy:
    limit: str | None = None  # None: unlimited (`retryStrategy: {}`); may hold tags
    policy: str = "OnFailure"  # Always | OnFailure | OnError | OnTransientError
    expression: str | None = None
    backoff_duration: str | None = None
    backoff_factor: str | None = None
    backoff_cap: str | None = None
    backoff_max_duration: str | None = None


@dataclass(frozen=True)
class Volume:
    """A volume of `spec.volumes`, a template's `volumes` or a `volumeClaimTemplates` claim."""

    name: str
    source: str  # emptyDir | hostPath | persistentVolumeClaim | claimTemplate | secret | configMap
    path: str | None = None  # hostPath.path / persistentVolumeClaim.claimName / the Secret's or ConfigMap's name
    host_type: str = ""  # hostPath.type ("" = no check)
    read_only: bool = False  # persistentVolumeClaim.readOnly: every mount is read-only
    where: Where | None = None
    # secret / configMap: (key, file path, mode or None) to project (none: every key), the
    # files' mode (Kubernetes' default 0644), and whether a missing object is an empty volume
    items: tuple[tuple[str, str, int | None], ...] = ()
    default_mode: int = 0o644
    optional: bool = False


@dataclass(frozen=True)
class VolumeMount:
    """A container's `volumeMounts[]` entry; `name` names a Volume."""

    name: str
    mount_path: str  # may hold tags
    sub_path: str | None = None  # relative, may hold tags
    read_only: bool = False
    where: Where | None = None


@dataclass(frozen=True)
class Template:
    name: str
    kind: str  # container | script | steps | dag | suspend | http
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[OutputParameter, ...] = ()
    container: Container | None = None  # container and script templates
    steps: tuple[tuple[Call, ...], ...] = ()
    tasks: tuple[Call, ...] = ()
    target: str | None = None  # dag.target
    fail_fast: bool = True  # dag.failFast / template failFast (with parallelism)
    parallelism: int | None = None
    retry: RetryStrategy | None = None
    timeout: str | None = None  # `timeout` (duration text)
    active_deadline: str | None = None  # activeDeadlineSeconds
    suspend_duration: str | None = None
    http: Http | None = None
    mutexes: tuple[str, ...] = ()  # synchronization.mutexes (local locks)
    volumes: tuple[Volume, ...] = ()  # the template's own `volumes` (looked up first)
    volume_mounts: tuple[VolumeMount, ...] = ()  # container/script `volumeMounts`
    where: Where | None = None
    input_artifacts: tuple[Artifact, ...] = ()
    output_artifacts: tuple[Artifact, ...] = ()


@dataclass(frozen=True)
class ArgoSpec:
    entrypoint: str
    templates: dict[str, Template] = field(hash=False)
    kind: str = "Workflow"  # or WorkflowTemplate (run as `argo submit --from`)
    generate_name: str | None = None
    name: str | None = None
    namespace: str = "default"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    service_account: str = ""
    arguments: tuple[Parameter, ...] = ()
    exit_hook: Hook | None = None  # spec.onExit / spec.hooks.exit
    hooks: tuple[Hook, ...] = ()  # spec.hooks.<name> with expressions
    active_deadline: float | None = None
    parallelism: int | None = None
    priority: int | None = None
    artifacts: tuple[Artifact, ...] = ()  # spec.arguments.artifacts (the entrypoint's)
    repository_ref: RepositoryRef | None = None  # spec.artifactRepositoryRef
    volumes: tuple[Volume, ...] = ()  # spec.volumes, then one per volumeClaimTemplates claim
    volume_claim_gc: str = "OnWorkflowSuccess"  # volumeClaimGC.strategy (Argo's default)
    image_pull_secrets: tuple[str, ...] = ()  # Secrets holding registry credentials (.dockerconfigjson)
