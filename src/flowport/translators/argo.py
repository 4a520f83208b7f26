"""Argo Workflows YAML (Workflow / WorkflowTemplate) → IR (`model.argo.ArgoSpec`).

Keys are case-sensitive, as in Argo (JSON field names). Every key is in one of three
tables: "ok" (implemented), "ignored" (Kubernetes-only, no effect on a laptop: reported by
`plan`), "unsupported" (rejected with its location). Unknown keys are errors with a
"did you mean". `workflowTemplateRef` and `templateRef` are resolved against the other
documents of the file and the files given with `--templates`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..model import Container, Http, Semantics, Where, Workflow
from ..model.argo import (
    ArgoSpec,
    Call,
    Hook,
    Loop,
    OutputParameter,
    Parameter,
    RetryStrategy,
    Sequence,
    Template,
)
from .graph import find_cycle
from .source import Document, Problem, Problems, SourceError, format_path, load_documents, unknown_key_hint

Path_ = tuple

OK, IGN, UNS = "ok", "ignored", "unsupported"
K8S = "Kubernetes-only, no effect on a local run"

TOP_KEYS = {"apiVersion": OK, "kind": OK, "metadata": OK, "spec": OK, "status": IGN}
METADATA_KEYS = {
    "name": OK, "generateName": OK, "namespace": OK, "labels": OK, "annotations": OK,
    "uid": IGN, "creationTimestamp": IGN, "resourceVersion": IGN, "generation": IGN,
    "managedFields": IGN, "ownerReferences": IGN, "finalizers": IGN,
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
    "workflowMetadata": IGN, "schedulerName": IGN, "imagePullSecrets": IGN, "hostNetwork": IGN,
    "metrics": IGN, "artifactGC": IGN, "podSpecPatch": UNS, "shutdown": IGN, "suspend": IGN,
    "volumes": UNS, "volumeClaimTemplates": UNS, "volumeClaimGC": UNS,
    "artifactRepositoryRef": UNS, "synchronization": UNS, "retryStrategy": UNS,
}
TEMPLATE_KEYS = {
    "name": OK, "inputs": OK, "outputs": OK, "container": OK, "script": OK, "steps": OK,
    "dag": OK, "suspend": OK, "http": OK, "retryStrategy": OK, "activeDeadlineSeconds": OK,
    "timeout": OK, "parallelism": OK, "failFast": OK, "synchronization": OK, "templateRef": OK,
    "metadata": IGN, "nodeSelector": IGN, "affinity": IGN, "tolerations": IGN,
    "serviceAccountName": IGN, "automountServiceAccountToken": IGN, "securityContext": IGN,
    "priorityClassName": IGN, "priority": IGN, "schedulerName": IGN, "archiveLocation": IGN,
    "metrics": IGN, "hostAliases": IGN, "podSpecPatch": UNS, "executor": IGN,
    "hooks": IGN,  # Argo's Template has no `hooks` field: it drops them (see docs/argo.md)
    "resource": UNS, "data": UNS, "plugin": UNS, "containerSet": UNS, "sidecars": UNS,
    "initContainers": UNS, "daemon": UNS, "memoize": UNS, "volumes": UNS, "artifactLocation": UNS,
    "outputsFrom": UNS,
}
CONTAINER_KEYS = {
    "image": OK, "command": OK, "args": OK, "env": OK, "workingDir": OK, "imagePullPolicy": OK,
    "name": IGN, "resources": IGN, "securityContext": IGN, "ports": IGN, "livenessProbe": IGN,
    "readinessProbe": IGN, "startupProbe": IGN, "lifecycle": IGN, "terminationMessagePath": IGN,
    "terminationMessagePolicy": IGN, "tty": IGN, "stdin": IGN, "stdinOnce": IGN,
    "resizePolicy": IGN, "restartPolicy": IGN,
    "volumeMounts": UNS, "envFrom": UNS, "volumeDevices": UNS,
}
SCRIPT_KEYS = {**CONTAINER_KEYS, "source": OK}
STEP_KEYS = {
    "name": OK, "template": OK, "templateRef": OK, "arguments": OK, "when": OK, "withItems": OK,
    "withParam": OK, "withSequence": OK, "continueOn": OK, "onExit": OK, "hooks": OK,
    "inline": UNS,
}
TASK_KEYS = {**STEP_KEYS, "depends": OK, "dependencies": OK}
PARAM_KEYS = {"name": OK, "value": OK, "default": OK, "enum": OK, "description": IGN,
              "globalName": IGN, "valueFrom": UNS}
OUTPUT_PARAM_KEYS = {"name": OK, "value": OK, "valueFrom": OK, "globalName": OK, "description": IGN}
VALUE_FROM_KEYS = {"path": OK, "default": OK, "expression": OK, "parameter": OK, "supplied": OK,
                   "event": UNS, "jsonPath": UNS, "jqFilter": UNS, "configMapKeyRef": UNS}
HOOK_KEYS = {"template": OK, "templateRef": OK, "arguments": OK, "expression": OK}
RETRY_KEYS = {"limit": OK, "retryPolicy": OK, "expression": OK, "backoff": OK, "affinity": IGN}
BACKOFF_KEYS = {"duration": OK, "factor": OK, "cap": OK, "maxDuration": OK}
HTTP_KEYS = {"url": OK, "method": OK, "headers": OK, "body": OK, "successCondition": OK,
             "timeoutSeconds": OK, "insecureSkipVerify": IGN, "bodyFrom": UNS}
KINDS = ("container", "script", "steps", "dag", "suspend", "http", "resource", "data", "plugin",
         "containerSet")
UNSUPPORTED_KINDS = {
    "resource": "resource templates (they need a Kubernetes API)",
    "data": "data templates (they need an artifact repository)",
    "plugin": "plugin templates (executor plugins run in a cluster)",
    "containerSet": "containerSet templates",
}
RETRY_POLICIES = ("Always", "OnFailure", "OnError", "OnTransientError")
PULL_POLICIES = {"Always": "always", "IfNotPresent": "missing", "Never": "never"}
RUNNABLE_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
# CronWorkflow spec keys around `workflowSpec`: the schedule is kept for `flowport deploy`,
# the rest is Kubernetes CronJob-style bookkeeping that a Prefect deployment does its own way.
CRON_KEYS = {"schedule": OK, "schedules": OK, "timezone": OK, "suspend": OK, "workflowSpec": OK,
             "workflowMetadata": IGN, "concurrencyPolicy": IGN, "startingDeadlineSeconds": IGN,
             "successfulJobsHistoryLimit": IGN, "failedJobsHistoryLimit": IGN, "stopStrategy": IGN,
             "when": IGN}
DEPENDS_RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned",
                   "AnySucceeded", "AllFailed")
_DEPENDS_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z]+)?)")


def is_argo(data: object) -> bool:
    return isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("argoproj.io")


# ---------------------------------------------------------------- the template library


@dataclass
class Library:
    """WorkflowTemplates that `workflowTemplateRef` / `templateRef` may name."""

    docs: dict[str, Document] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def add(self, doc: Document) -> None:
        data = doc.data
        if not is_argo(data) or data.get("kind") not in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
            return
        name = (data.get("metadata") or {}).get("name") if isinstance(data.get("metadata"), dict) else None
        if isinstance(name, str) and name not in self.docs:
            self.docs[name] = doc
            self.texts[doc.file] = doc.text

    def add_path(self, path: str | Path) -> None:
        p = Path(path)
        files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
        for f in files:
            try:
                for doc in load_documents(str(f)):
                    self.add(doc)
            except SourceError as err:
                self.problems.extend(err.problems)
                self.texts.update(err.texts)
            except OSError as err:
                self.problems.append(Problem(f"cannot read the templates file: {err.strerror or err}", None))


# ---------------------------------------------------------------- translation state


class _Ctx:
    def __init__(self, doc: Document, library: Library) -> None:
        self.doc = doc
        self.library = library
        self.problems = Problems(doc)
        self.ignored: list[str] = []
        self.templates: dict[str, Template] = {}
        self.pending_refs: list[tuple[Any, str, str, Path_]] = []  # (_Doc, wt, template, path)
        self.extra: list[Any] = []  # _Docs of other documents: their problems join at the end

    def where(self, doc: Document, path: Path_) -> Where:
        m = doc.mark(path)
        return Where(m.file, m.line, m.col)


class _Doc:
    """One document being read: its problems, and the template namespace it lives in."""

    def __init__(self, cx: _Ctx, doc: Document, prefix: str = "") -> None:
        self.cx = cx
        self.doc = doc
        self.prefix = prefix  # "" for the workflow itself, "<WorkflowTemplate>/" for imports
        self.p = cx.problems if doc is cx.doc and not prefix else Problems(doc)
        if self.p is not cx.problems:
            cx.extra.append(self)

    def where(self, path: Path_) -> Where:
        return self.cx.where(self.doc, path)

    def fields(self, obj: Any, path: Path_, table: dict[str, str], what: str) -> dict[str, tuple[Any, Path_]]:
        if not isinstance(obj, dict):
            self.p.error(path, f"{what} must be a mapping, got {_kind(obj)}")
            return {}
        out: dict[str, tuple[Any, Path_]] = {}
        for raw, value in obj.items():
            kpath = (*path, raw)
            state = table.get(str(raw)) if isinstance(raw, str) else None
            if state is None:
                hint = unknown_key_hint(str(raw), [k for k, v in table.items() if v != UNS])
                self.p.error(kpath, f"unknown {what} key {raw!r}", hint=hint, key=True)
            elif state == UNS:
                self.p.unsupported(kpath, f"{what} key {raw!r}", key=True,
                                   hint="flowport runs containers on the local Docker Engine; see docs/argo.md")
            elif state == IGN:
                note = "Argo drops `hooks` written on a template (hooks belong on steps/tasks or spec)" \
                    if raw == "hooks" and what == "template" else K8S
                self.cx.ignored.append(f"{self.doc.file}: {format_path(kpath)}: {note}")
            else:
                out[raw] = (value, kpath)
        return out

    # typed readers
    def string(self, value: Any, path: Path_) -> str | None:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return _num_text(value)
        if isinstance(value, str):
            return value
        if value is None:
            self.p.error(path, "expected a string, got nothing")
            return None
        if hasattr(value, "isoformat"):  # YAML dates
            return value.isoformat()
        self.p.error(path, f"expected a string, got {_kind(value)}")
        return None

    def str_list(self, value: Any, path: Path_) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.p.error(path, f"expected a list of strings, got {_kind(value)}")
            return None
        out = []
        for i, item in enumerate(value):
            s = self.string(item, (*path, i))
            if s is not None:
                out.append(s)
        return tuple(out)

    def whole(self, value: Any, path: Path_, minimum: int = 0) -> int | None:
        try:
            n = int(str(value)) if not isinstance(value, bool) else None
        except ValueError:
            n = None
        if n is None or n < minimum:
            self.p.error(path, f"expected a whole number ≥ {minimum}, got {value!r}")
            return None
        return n

    def boolean(self, value: Any, path: Path_) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        self.p.error(path, f"expected true or false, got {_kind(value)}")
        return False

    def name_of(self, template: str) -> str:
        return self.prefix + template


def _num_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number", float: "a number",
            str: "a string"}.get(type(value), type(value).__name__)


def _plain(value: Any) -> Any:
    """withItems values as JSON-like data (YAML dates become text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


# ---------------------------------------------------------------- pieces


def _parameters(d: _Doc, value: Any, path: Path_, *, what: str) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        d.p.error(path, f"{what} must be a list of {{name, value}} mappings, got {_kind(value)}")
        return ()
    out, seen = [], set()
    for i, item in enumerate(value):
        ipath = (*path, i)
        f = d.fields(item, ipath, PARAM_KEYS, "parameter")
        if "name" not in f:
            if isinstance(item, dict):
                d.p.error(ipath, "a parameter needs a `name`")
            continue
        name = d.string(*f["name"])
        if name is None:
            continue
        if name in seen:
            d.p.error(f["name"][1], f"parameter {name!r} is declared twice")
        seen.add(name)
        val = d.string(*f["value"]) if "value" in f and f["value"][0] is not None else None
        default = d.string(*f["default"]) if "default" in f and f["default"][0] is not None else None
        enum = d.str_list(*f["enum"]) or () if "enum" in f else ()
        out.append(Parameter(name, val, default, tuple(enum)))
    return tuple(out)


def _arguments(d: _Doc, value: Any, path: Path_) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    f = d.fields(value, path, {"parameters": OK, "artifacts": UNS}, "arguments")
    return _parameters(d, *f["parameters"], what="arguments.parameters") if "parameters" in f else ()


def _inputs(d: _Doc, value: Any, path: Path_) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    f = d.fields(value, path, {"parameters": OK, "artifacts": UNS}, "inputs")
    return _parameters(d, *f["parameters"], what="inputs.parameters") if "parameters" in f else ()


def _outputs(d: _Doc, value: Any, path: Path_, kind: str) -> tuple[OutputParameter, ...]:
    if value is None:
        return ()
    f = d.fields(value, path, {"parameters": OK, "artifacts": UNS, "result": IGN, "exitCode": IGN},
                 "outputs")
    if "parameters" not in f:
        return ()
    items, ppath = f["parameters"]
    if not isinstance(items, list):
        d.p.error(ppath, f"outputs.parameters must be a list, got {_kind(items)}")
        return ()
    out = []
    for i, item in enumerate(items):
        ipath = (*ppath, i)
        g = d.fields(item, ipath, OUTPUT_PARAM_KEYS, "output parameter")
        name = d.string(*g["name"]) if "name" in g else None
        if name is None:
            if isinstance(item, dict) and "name" not in g:
                d.p.error(ipath, "an output parameter needs a `name`")
            continue
        op = dict(name=name)
        if "value" in g:
            op["value"] = d.string(*g["value"])
        if "globalName" in g:
            op["global_name"] = d.string(*g["globalName"])
        if "valueFrom" in g:
            vf = d.fields(g["valueFrom"][0], g["valueFrom"][1], VALUE_FROM_KEYS, "valueFrom")
            for key, attr in (("path", "path"), ("default", "default"), ("expression", "expression"),
                              ("parameter", "parameter")):
                if key in vf:
                    op[attr] = d.string(*vf[key])
            if "supplied" in vf:
                op["supplied"] = True
            if "path" in vf and kind not in ("container", "script"):
                d.p.error(vf["path"][1], f"valueFrom.path needs a container or script template, this is a {kind} template")
            if "expression" in vf:
                _check_expr(d, vf["expression"][0], vf["expression"][1])
            if not ({"path", "expression", "parameter", "supplied", "default"} & set(vf)):
                d.p.error(g["valueFrom"][1], "valueFrom needs one of path, expression, parameter, default")
        elif "value" not in g:
            d.p.error(ipath, f"output parameter {name!r} needs `value` or `valueFrom`")
        out.append(OutputParameter(**op))
    return tuple(out)


def _check_expr(d: _Doc, text: Any, path: Path_) -> None:
    if not isinstance(text, str):
        return
    try:
        from ..lang.expressions import compile_expr
    except ImportError:  # pragma: no cover - the expression module is part of the package
        return
    try:
        compile_expr(text)
    except Exception as exc:  # the module raises its own ExpressionError
        d.p.error(path, f"invalid expression: {exc}")


def _container(d: _Doc, value: Any, path: Path_, *, script: bool) -> Container | None:
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
            d.p.error(epath, f"env must be a list of {{name, value}} mappings, got {_kind(items)}")
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


def _retry(d: _Doc, value: Any, path: Path_) -> RetryStrategy | None:
    if value is None:
        return None
    f = d.fields(value, path, RETRY_KEYS, "retryStrategy")
    r: dict[str, Any] = {}
    if "limit" in f:
        r["limit"] = d.string(*f["limit"])
        if r["limit"] is not None and "{{" not in r["limit"]:
            d.whole(r["limit"], f["limit"][1])
    if "retryPolicy" in f:
        pol = f["retryPolicy"][0]
        if pol not in RETRY_POLICIES:
            d.p.error(f["retryPolicy"][1], f"retryPolicy must be one of {', '.join(RETRY_POLICIES)}",
                      hint=unknown_key_hint(pol, RETRY_POLICIES))
        else:
            r["policy"] = pol
    if "expression" in f:
        r["expression"] = d.string(*f["expression"])
        _check_expr(d, r["expression"], f["expression"][1])
        r.setdefault("policy", "Always") if "retryPolicy" not in f else None
    if "backoff" in f:
        b = d.fields(f["backoff"][0], f["backoff"][1], BACKOFF_KEYS, "backoff")
        for key, attr in (("duration", "backoff_duration"), ("factor", "backoff_factor"),
                          ("cap", "backoff_cap"), ("maxDuration", "backoff_max_duration")):
            if key in b:
                r[attr] = d.string(*b[key])
                if r[attr] is not None and key != "factor" and "{{" not in r[attr] and parse_duration(r[attr]) is None:
                    d.p.error(b[key][1], f"invalid duration {r[attr]!r}", hint="e.g. 10, \"10s\", \"2m\", \"1h\"")
    return RetryStrategy(**r)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")


def parse_duration(text: str | int | float | None) -> float | None:
    """Go durations ("1m30s", "10s") or plain seconds ("10", 10) → seconds; None if invalid."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        pass
    pos, total = 0, 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
    while pos < len(s):
        m = _DURATION.match(s, pos)
        if not m:
            return None
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    return total if s else None


def _http(d: _Doc, value: Any, path: Path_) -> Http | None:
    f = d.fields(value, path, HTTP_KEYS, "http")
    if "url" not in f:
        if isinstance(value, dict):
            d.p.error(path, "an http template needs a `url`")
        return None
    headers = []
    if "headers" in f:
        items, hpath = f["headers"]
        for i, item in enumerate(items if isinstance(items, list) else []):
            g = d.fields(item, (*hpath, i), {"name": OK, "value": OK, "valueFrom": UNS}, "header")
            if "name" in g and "value" in g:
                headers.append((d.string(*g["name"]) or "", d.string(*g["value"]) or ""))
    cond = d.string(*f["successCondition"]) if "successCondition" in f else None
    if cond:
        _check_expr(d, cond, f["successCondition"][1])
    timeout = None
    if "timeoutSeconds" in f:
        timeout = d.whole(*f["timeoutSeconds"])
    return Http(url=d.string(*f["url"]) or "", method=(d.string(*f["method"]) or "GET") if "method" in f else "GET",
                headers=tuple(headers), body=d.string(*f["body"]) if "body" in f else None,
                success_condition=cond, timeout=float(timeout) if timeout else None)


def _hook(d: _Doc, name: str, value: Any, path: Path_, refs: list) -> Hook | None:
    f = d.fields(value, path, HOOK_KEYS, "hook")
    template = _template_target(d, f, path, refs)
    expr = None
    if "expression" in f:
        expr = d.string(*f["expression"])
        if name != "exit":
            _check_expr(d, expr, f["expression"][1])
    if name != "exit" and not expr:
        d.p.error(path, f"hooks.{name} needs an `expression` (only `exit` hooks run unconditionally)",
                  hint="e.g. expression: workflow.status == \"Failed\"")
    args = _arguments(d, *f["arguments"]) if "arguments" in f else ()
    if template is None:
        return None
    return Hook(name=name, template=template, arguments=args, expression=None if name == "exit" else expr,
                where=d.where(path))


def _hooks(d: _Doc, value: Any, path: Path_, refs: list) -> tuple[Hook | None, tuple[Hook, ...]]:
    if not isinstance(value, dict):
        d.p.error(path, f"hooks must be a mapping of hook name → hook, got {_kind(value)}")
        return None, ()
    exit_hook, named = None, []
    for name, spec in value.items():
        h = _hook(d, str(name), spec, (*path, name), refs)
        if h is None:
            continue
        if name == "exit":
            exit_hook = h
        else:
            named.append(h)
    return exit_hook, tuple(named)


def _template_target(d: _Doc, f: dict, path: Path_, refs: list) -> str | None:
    """`template: x` or `templateRef: {name, template}` → a template key."""
    if "template" in f and "templateRef" in f:
        d.p.error(f["templateRef"][1], "set either `template` or `templateRef`, not both", key=True)
        return None
    if "template" in f:
        t = d.string(*f["template"])
        if t is None:
            return None
        refs.append((d, t, f["template"][1]))
        return d.name_of(t)
    if "templateRef" in f:
        g = d.fields(f["templateRef"][0], f["templateRef"][1], {"name": OK, "template": OK, "clusterScope": OK},
                     "templateRef")
        if "name" not in g or "template" not in g:
            d.p.error(f["templateRef"][1], "templateRef needs `name` (a WorkflowTemplate) and `template`")
            return None
        wt, t = d.string(*g["name"]), d.string(*g["template"])
        if wt is None or t is None:
            return None
        d.cx.pending_refs.append((d, wt, t, g["name"][1]))
        return f"{wt}/{t}"
    d.p.error(path, "needs `template` (or `templateRef`)")
    return None


def _loop(d: _Doc, f: dict) -> Loop | None:
    present = [k for k in ("withItems", "withParam", "withSequence") if k in f]
    if not present:
        return None
    if len(present) > 1:
        d.p.error(f[present[1]][1], f"use one of withItems, withParam, withSequence (also has {present[0]})", key=True)
    key = present[0]
    value, vpath = f[key]
    if key == "withItems":
        if not isinstance(value, list):
            d.p.error(vpath, f"withItems must be a list, got {_kind(value)}")
            return None
        return Loop(items=tuple(_plain(v) for v in value))
    if key == "withParam":
        text = d.string(value, vpath)
        return Loop(param=text) if text is not None else None
    g = d.fields(value, vpath, {"count": OK, "start": OK, "end": OK, "format": OK}, "withSequence")
    if "count" in g and "end" in g:
        d.p.error(g["end"][1], "withSequence takes either `count` or `end`", key=True)
    return Loop(sequence=Sequence(**{k: d.string(*g[k]) for k in ("count", "start", "end", "format") if k in g}))


def _call(d: _Doc, value: Any, path: Path_, refs: list, *, dag: bool) -> Call | None:
    f = d.fields(value, path, TASK_KEYS if dag else STEP_KEYS, "task" if dag else "step")
    if "name" not in f:
        if isinstance(value, dict):
            d.p.error(path, f"a {'task' if dag else 'step'} needs a `name`")
        return None
    name = d.string(*f["name"])
    template = _template_target(d, f, path, refs)
    args = _arguments(d, *f["arguments"]) if "arguments" in f else ()
    when = d.string(*f["when"]) if "when" in f else None
    loop = _loop(d, f)
    cf = ce = False
    if "continueOn" in f:
        g = d.fields(f["continueOn"][0], f["continueOn"][1], {"failed": OK, "error": OK}, "continueOn")
        cf = d.boolean(*g["failed"]) if "failed" in g else False
        ce = d.boolean(*g["error"]) if "error" in g else False
    exit_hook, hooks = (None, ())
    if "hooks" in f:
        exit_hook, hooks = _hooks(d, *f["hooks"], refs)
    if "onExit" in f:  # deprecated form of hooks.exit; Argo checks it first
        t = d.string(*f["onExit"])
        if t is not None:
            refs.append((d, t, f["onExit"][1]))
            exit_hook = Hook("exit", d.name_of(t), where=d.where(f["onExit"][1]))
    depends = None
    if dag:
        if "depends" in f and "dependencies" in f:
            d.p.error(f["dependencies"][1], "use either `depends` or `dependencies`, not both", key=True)
        if "depends" in f:
            depends = d.string(*f["depends"])
        elif "dependencies" in f:
            names = d.str_list(*f["dependencies"]) or ()
            depends = " && ".join(names) if names else None
    if name is None or template is None:
        return None
    return Call(name=name, template=template, arguments=args, when=when, loop=loop, continue_failed=cf,
                continue_error=ce, exit_hook=exit_hook, hooks=hooks, depends=depends, where=d.where(path))


def depends_names(text: str) -> list[tuple[str, str | None]]:
    """(task, result) operands of a `depends` text; raises ValueError on bad syntax."""
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _DEPENDS_TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unexpected {text[pos:].strip()[:10]!r}")
        tok = m.group(1)
        pos = m.end()
        if tok in ("(", ")", "&&", "||", "!"):
            continue
        task, _, result = tok.partition(".")
        out.append((task, result or None))
    return out


def _steps(d: _Doc, value: Any, path: Path_, refs: list) -> tuple[tuple[Call, ...], ...]:
    if not isinstance(value, list):
        d.p.error(path, f"steps must be a list of step groups (lists), got {_kind(value)}")
        return ()
    groups = []
    names: dict[str, Path_] = {}
    for i, group in enumerate(value):
        gpath = (*path, i)
        if not isinstance(group, list):
            d.p.error(gpath, f"each entry of steps is a group: a list of steps, got {_kind(group)}",
                      hint="write `- - name: …` (a list inside the list) for a group of one step")
            continue
        calls = []
        for j, step in enumerate(group):
            c = _call(d, step, (*gpath, j), refs, dag=False)
            if c is None:
                continue
            if c.name in names:
                d.p.error((*gpath, j, "name"), f"step name {c.name!r} is used twice in this template")
            names[c.name] = (*gpath, j)
            calls.append(c)
        groups.append(tuple(calls))
    return tuple(groups)


def _dag(d: _Doc, value: Any, path: Path_, refs: list) -> tuple[tuple[Call, ...], str | None, bool]:
    f = d.fields(value, path, {"tasks": OK, "target": OK, "failFast": OK}, "dag")
    tasks: list[Call] = []
    paths: dict[str, Path_] = {}
    if "tasks" not in f:
        if isinstance(value, dict):
            d.p.error(path, "a dag needs `tasks`")
    else:
        items, tpath = f["tasks"]
        if not isinstance(items, list):
            d.p.error(tpath, f"tasks must be a list, got {_kind(items)}")
            items = []
        for i, item in enumerate(items):
            c = _call(d, item, (*tpath, i), refs, dag=True)
            if c is None:
                continue
            if c.name in paths:
                d.p.error((*tpath, i, "name"), f"task name {c.name!r} is used twice in this dag")
                continue
            paths[c.name] = (*tpath, i)
            tasks.append(c)
    # depends: names exist, results valid, no cycles
    deps: dict[str, list[str]] = {}
    for c in tasks:
        deps[c.name] = []
        if c.depends is None:
            continue
        dpath = (*paths[c.name], "depends" if "depends" in value["tasks"][paths[c.name][-1]] else "dependencies")
        try:
            operands = depends_names(c.depends)
        except ValueError as exc:
            d.p.error(dpath, f"invalid depends expression: {exc}")
            continue
        for task, result in operands:
            if task not in paths:
                d.p.error(dpath, f"depends on unknown task {task!r}", hint=unknown_key_hint(task, list(paths)))
            elif result is not None and result not in DEPENDS_RESULTS:
                d.p.error(dpath, f"unknown task result {task}.{result}",
                          hint=unknown_key_hint(result, DEPENDS_RESULTS) or f"one of {', '.join(DEPENDS_RESULTS)}")
            else:
                deps[c.name].append(task)
    cycle = find_cycle(deps)
    if cycle:
        d.p.error(paths[cycle[0]], "the tasks depend on each other in a cycle: " + " → ".join(cycle))
    target = d.string(*f["target"]) if "target" in f else None
    if target and "{{" not in target:
        for t in target.split():
            if t not in paths:
                d.p.error(f["target"][1], f"target names unknown task {t!r}", hint=unknown_key_hint(t, list(paths)))
    fail_fast = d.boolean(*f["failFast"]) if "failFast" in f else True
    return tuple(tasks), target, fail_fast


def _template(d: _Doc, value: Any, path: Path_, refs: list, defaults: dict | None) -> Template | None:
    if isinstance(value, dict) and defaults:
        value = {**defaults, **value}
    f = d.fields(value, path, TEMPLATE_KEYS, "template")
    if "name" not in f:
        if isinstance(value, dict):
            d.p.error(path, "a template needs a `name`")
        return None
    name = d.string(*f["name"])
    kinds = [k for k in KINDS if k in (value if isinstance(value, dict) else {})]
    if "templateRef" in f:
        # a template that is only a reference to another one (Argo allows it)
        target = _template_target(d, {"templateRef": f["templateRef"]}, path, refs)
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
    t["inputs"] = _inputs(d, *f["inputs"]) if "inputs" in f else ()
    t["outputs"] = _outputs(d, *f["outputs"], kind) if "outputs" in f else ()
    body, bpath = f[kind]
    if kind in ("container", "script"):
        t["container"] = _container(d, body, bpath, script=kind == "script")
    elif kind == "steps":
        t["steps"] = _steps(d, body, bpath, refs)
    elif kind == "dag":
        t["tasks"], t["target"], t["fail_fast"] = _dag(d, body, bpath, refs)
    elif kind == "suspend":
        g = d.fields(body or {}, bpath, {"duration": OK}, "suspend")
        if "duration" not in g:
            d.p.unsupported(bpath, "suspend without `duration` (waiting for `argo resume`)",
                            hint="give it a duration, e.g. duration: \"20s\"")
        else:
            t["suspend_duration"] = d.string(*g["duration"])
    elif kind == "http":
        t["http"] = _http(d, body, bpath)
    if "retryStrategy" in f:
        t["retry"] = _retry(d, *f["retryStrategy"])
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


def _mutexes(d: _Doc, value: Any, path: Path_) -> tuple[str, ...]:
    f = d.fields(value, path, {"mutex": OK, "mutexes": OK, "semaphore": UNS, "semaphores": UNS},
                 "synchronization")
    names = []
    items = []
    if "mutex" in f:
        items.append((f["mutex"][0], f["mutex"][1]))
    if "mutexes" in f and isinstance(f["mutexes"][0], list):
        items.extend((m, (*f["mutexes"][1], i)) for i, m in enumerate(f["mutexes"][0]))
    for m, mpath in items:
        g = d.fields(m, mpath, {"name": OK, "namespace": IGN, "database": IGN}, "mutex")
        if "name" in g:
            n = d.string(*g["name"])
            if n:
                names.append(n)
    return tuple(names)


def _templates(d: _Doc, value: Any, path: Path_, refs: list, defaults: dict | None) -> list[Template]:
    if not isinstance(value, list):
        d.p.error(path, f"templates must be a list, got {_kind(value)}")
        return []
    out = []
    seen: dict[str, Path_] = {}
    for i, item in enumerate(value):
        t = _template(d, item, (*path, i), refs, defaults)
        if t is None:
            continue
        if t.name in seen:
            d.p.error((*path, i, "name"), f"template {t.name!r} is defined twice")
            continue
        seen[t.name] = (*path, i)
        out.append(t)
    return out


# ---------------------------------------------------------------- documents


def _doc_parts(d: _Doc, data: dict) -> tuple[dict, dict, dict]:
    top = d.fields(data, (), TOP_KEYS, "top-level")
    meta = d.fields(top["metadata"][0], top["metadata"][1], METADATA_KEYS, "metadata") if "metadata" in top else {}
    spec = top.get("spec", ({}, ("spec",)))[0]
    if "spec" not in top:
        d.p.error((), "an Argo workflow needs a `spec`")
    return top, meta, spec if isinstance(spec, dict) else {}


def _import_template(cx: _Ctx, wt: str, template: str, seen: set[str]) -> str | None:
    """Bring template `template` of WorkflowTemplate `wt` (and what it calls) into the spec
    under the key `wt/template`. Returns an error message or None."""
    key = f"{wt}/{template}"
    if key in cx.templates or key in seen:
        return None
    doc = cx.library.docs.get(wt)
    if doc is None:
        return f"WorkflowTemplate {wt!r} not found"
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    items = spec.get("templates") if isinstance(spec, dict) else None
    if not isinstance(items, list):
        return f"WorkflowTemplate {wt!r} has no templates"
    index = next((i for i, t in enumerate(items) if isinstance(t, dict) and t.get("name") == template), None)
    if index is None:
        names = [t.get("name") for t in items if isinstance(t, dict)]
        return f"WorkflowTemplate {wt!r} has no template {template!r}" + (
            f" (did you mean {unknown_key_hint(template, names)[13:-1]}?)" if unknown_key_hint(template, names) else "")
    seen.add(key)
    d = _Doc(cx, doc, prefix=f"{wt}/")
    refs: list = []
    t = _template(d, items[index], ("spec", "templates", index), refs, spec.get("templateDefaults"))
    if t is None:
        return None
    cx.templates[key] = t
    for rd, name, rpath in refs:
        err = _import_template(cx, wt, name, seen)
        if err:
            cx.problems.add(Problem(err, rd.doc.mark(rpath), rpath))
    return None


def _resolve_refs(cx: _Ctx) -> None:
    done: set[str] = set()
    while cx.pending_refs:
        d, wt, t, path = cx.pending_refs.pop()
        err = _import_template(cx, wt, t, done)
        if err:
            hint = None
            if wt not in cx.library.docs:
                hint = "load it with --templates FILE_OR_DIR (or put it in the same file after `---`)"
            d.p.error(path, f"templateRef: {err}", hint=hint)


def _resolve_ref_templates(cx: _Ctx) -> None:
    """Templates that are only a `templateRef` become the referenced template."""
    for key, t in list(cx.templates.items()):
        seen = {key}
        target = t
        while target.kind.startswith("ref:"):
            nxt = target.kind[4:]
            if nxt in seen or nxt not in cx.templates:
                break
            seen.add(nxt)
            target = cx.templates[nxt]
        if t.kind.startswith("ref:") and not target.kind.startswith("ref:"):
            from dataclasses import replace

            cx.templates[key] = replace(target, name=key)


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
    cx = _Ctx(main_doc, library)
    d = _Doc(cx, main_doc)
    data = main_doc.data
    if not isinstance(data, dict):
        d.p.error((), f"an Argo workflow is a mapping, got {_kind(data)}")
        return None, cx.problems, []
    kind = data.get("kind")
    if kind not in RUNNABLE_KINDS:
        d.p.unsupported(("kind",), f"Argo kind {kind!r}" if kind else "an Argo document without `kind`",
                        hint="flowport runs Workflow, WorkflowTemplate and CronWorkflow documents")
        return None, cx.problems, []
    cron: tuple[tuple[str, ...], bool] | None = None
    if kind == "CronWorkflow":
        cron = _cron_schedule(d, data)
        main_doc = _cron_as_workflow(main_doc)
        found, ignored = list(cx.problems), cx.ignored
        cx = _Ctx(main_doc, library)
        for problem in found:  # the schedule's problems, already placed in the file
            cx.problems.add(problem)
        cx.ignored += ignored
        d = _Doc(cx, main_doc)
        data = main_doc.data
    top, meta, spec = _doc_parts(d, data)
    if "spec" in top and not isinstance(top["spec"][0], dict):
        d.p.error(("spec",), f"spec must be a mapping, got {_kind(top['spec'][0])}")
    # workflowTemplateRef: the referenced spec under this one (this one wins)
    base_spec: dict = {}
    base_doc: _Doc | None = None
    if isinstance(spec, dict) and "workflowTemplateRef" in spec:
        ref = spec["workflowTemplateRef"]
        g = d.fields(ref, ("spec", "workflowTemplateRef"), {"name": OK, "clusterScope": OK}, "workflowTemplateRef")
        wt = d.string(*g["name"]) if "name" in g else None
        if wt is None:
            d.p.error(("spec", "workflowTemplateRef"), "workflowTemplateRef needs a `name`")
        elif wt not in library.docs:
            d.p.error(("spec", "workflowTemplateRef", "name"), f"WorkflowTemplate {wt!r} not found",
                      hint="load it with --templates FILE_OR_DIR (or put it in the same file after `---`)")
        else:
            wdoc = library.docs[wt]
            base_doc = _Doc(cx, wdoc)
            bspec = wdoc.data.get("spec")
            base_spec = bspec if isinstance(bspec, dict) else {}
    spec_f = d.fields(spec, ("spec",), SPEC_KEYS, "spec") if isinstance(spec, dict) else {}
    base_f = base_doc.fields(base_spec, ("spec",), SPEC_KEYS, "spec") if base_doc else {}

    def pick(key: str) -> tuple[_Doc, Any, Path_] | None:
        if key in spec_f:
            return d, *spec_f[key]
        if key in base_f:
            return base_doc, *base_f[key]
        return None

    # templates: the referenced WorkflowTemplate's first, this document's override by name
    refs: list = []
    for src, fields_ in ((base_doc, base_f), (d, spec_f)):
        if src is None or "templates" not in fields_:
            continue
        defaults = None
        if "templateDefaults" in fields_ and isinstance(fields_["templateDefaults"][0], dict):
            defaults = fields_["templateDefaults"][0]
        for t in _templates(src, *fields_["templates"], refs, defaults):
            cx.templates[t.name] = t
    _resolve_refs(cx)
    _resolve_ref_templates(cx)
    # references to local templates
    for rd, name, rpath in refs:
        key = rd.name_of(name)
        if key not in cx.templates:
            rd.p.error(rpath, f"no template named {name!r}",
                       hint=unknown_key_hint(name, [k for k in cx.templates if "/" not in k]))

    entry = pick("entrypoint")
    entrypoint = None
    if entry is None:
        d.p.error(("spec",), "spec needs an `entrypoint`", hint="the name of the template to run first")
    else:
        edoc, evalue, epath = entry
        entrypoint = edoc.string(evalue, epath)
        if entrypoint is not None and entrypoint not in cx.templates:
            edoc.p.error(epath, f"entrypoint names no template: {entrypoint!r}",
                         hint=unknown_key_hint(entrypoint, list(cx.templates)))
    arguments: dict[str, Parameter] = {}
    for src, fields_ in ((base_doc, base_f), (d, spec_f)):
        if src is not None and "arguments" in fields_:
            for p in _arguments(src, *fields_["arguments"]):
                arguments[p.name] = p
    exit_hook, hooks = None, ()
    hrefs: list = []
    h = pick("hooks")
    if h is not None:
        exit_hook, hooks = _hooks(h[0], h[1], h[2], hrefs)
    o = pick("onExit")
    if o is not None:
        odoc, ovalue, opath = o
        name = odoc.string(ovalue, opath)
        if name is not None:
            hrefs.append((odoc, name, opath))
            exit_hook = Hook("exit", name, where=odoc.where(opath))  # onExit wins over hooks.exit
    _resolve_refs(cx)
    _resolve_ref_templates(cx)
    for rd, name, rpath in hrefs:
        if rd.name_of(name) not in cx.templates:
            rd.p.error(rpath, f"no template named {name!r}",
                       hint=unknown_key_hint(name, [k for k in cx.templates if "/" not in k]))
    for key, t in cx.templates.items():
        if t.kind.startswith("ref:") and not cx.problems and not any(e.p for e in cx.extra):
            cx.problems.add(Problem(f"template {key!r} refers to a template that cannot be found",
                                    None if t.where is None else _mark(t.where)))
    deadline = None
    a = pick("activeDeadlineSeconds")
    if a is not None:
        n = a[0].whole(a[1], a[2], minimum=0)
        deadline = float(n) if n is not None else None
    par = pick("parallelism")
    parallelism = par[0].whole(par[1], par[2], minimum=1) if par else None
    sa = pick("serviceAccountName")
    prio = pick("priority")
    metadata = {k: v for k, (v, _) in meta.items()}
    name = metadata.get("name")
    generate = metadata.get("generateName")
    if not name and not generate:
        if kind == "Workflow":
            d.p.error(("metadata",), "metadata needs `name` or `generateName`")
    labels = tuple((str(k), str(v)) for k, v in (metadata.get("labels") or {}).items()) \
        if isinstance(metadata.get("labels"), dict) else ()
    annotations = tuple((str(k), str(v)) for k, v in (metadata.get("annotations") or {}).items()) \
        if isinstance(metadata.get("annotations"), dict) else ()
    if kind != "Workflow" and name:  # run the way `argo submit --from workflowtemplate/<name>` does
        name, generate = None, f"{name}-"
    for extra in cx.extra:
        cx.problems.extend(extra.p)
    if cx.problems or entrypoint is None:
        return None, cx.problems, cx.ignored
    spec_ir = ArgoSpec(
        entrypoint=entrypoint,
        templates=dict(cx.templates),
        kind=str(kind),
        generate_name=str(generate) if generate and not name else None,
        name=str(name) if name else None,
        namespace=str(metadata.get("namespace") or "default"),
        labels=labels,
        annotations=annotations,
        service_account=str(sa[1]) if sa else "",
        arguments=tuple(arguments.values()),
        exit_hook=exit_hook,
        hooks=hooks,
        active_deadline=deadline,
        parallelism=parallelism,
        priority=int(prio[1]) if prio and str(prio[1]).lstrip("-").isdigit() else None,
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


def _cron_schedule(d: _Doc, data: dict) -> tuple[tuple[str, ...], bool]:
    """A CronWorkflow's schedules (`CRON_TZ=<timezone> ` prefixed, the form `flowport
    deploy` reads) and whether it is suspended."""
    spec = data.get("spec")
    if not isinstance(spec, dict):
        d.p.error(("spec",), "a CronWorkflow needs a `spec` with `schedule(s)` and `workflowSpec`")
        return (), False
    f = d.fields(spec, ("spec",), CRON_KEYS, "CronWorkflow spec")
    if "workflowSpec" not in f:
        d.p.error(("spec",), "a CronWorkflow needs `spec.workflowSpec`")
    crons: list[str] = []
    for key in ("schedule", "schedules"):
        if key in f:
            value, path = f[key]
            crons += [str(v) for v in (value if isinstance(value, list) else [value])]
    if not crons:
        d.p.error(("spec",), "a CronWorkflow needs `schedule` or `schedules`")
    tz = d.string(*f["timezone"]) if "timezone" in f else None
    suspended = bool(f["suspend"][0]) if "suspend" in f else False
    return tuple(f"CRON_TZ={tz} {c}" if tz else c for c in crons), suspended


def _cron_as_workflow(doc: Document) -> Document:
    """The CronWorkflow's `spec.workflowSpec` as the spec of a Workflow document; positions
    move along, so messages still point into the file as written."""
    def moved(marks: dict) -> dict:
        out = {p: m for p, m in marks.items() if p[:1] != ("spec",)}
        for p, m in marks.items():
            if p[:2] == ("spec", "workflowSpec"):
                out[("spec", *p[2:])] = m
        return out

    data = dict(doc.data)
    data["kind"] = "Workflow"
    data["spec"] = doc.data["spec"].get("workflowSpec") or {}
    return Document(doc.file, doc.text, data, doc.index, moved(doc._values), moved(doc._keys))


def _mark(where: Where):
    from .source import Mark

    return Mark(where.file, where.line, where.col)


def translate_file(path: str, docs: list[Document], templates: Iterable[str | Path] = ()) -> tuple[Workflow | None, list[Problem], list[str], dict[str, str]]:
    library = Library()
    for t in templates:
        library.add_path(t)
    wf, problems, ignored = translate(docs, source_file=path, library=library)
    found = list(library.problems) + list(problems)
    texts = {d.file: d.text for d in docs[:1]}
    texts.update(library.texts)
    return (wf if not found else None), found, ignored, texts
