"""Artifacts: `inputs.artifacts`, `outputs.artifacts`, `arguments.artifacts` (Argo's `Artifact`
and the `ArtifactLocation` it inlines), checked as Argo's validator does
(`workflow/validate/validate.go` `validateInputs`, `validateOutputs`, `validateArgumentsValues`,
`validateDAGTaskArgumentDependency`) and `artifactRepositoryRef`."""

from __future__ import annotations

import re
from typing import Any

from ...model.argo import Artifact, Call, RepositoryRef, S3Location, clean_artifact_path
from ..fields import IGNORED as IGN
from ..fields import OK, kind_of
from ..fields import UNSUPPORTED as UNS
from ..source import Mark, Problem
from .document import DocReader, Path_

ARTIFACT_KEYS = {
    "name": OK, "path": OK, "mode": OK, "from": OK, "fromExpression": OK, "archive": OK, "globalName": OK,
    "subPath": OK, "optional": OK, "recurseMode": OK, "raw": OK, "http": OK, "s3": OK,
    "archiveLogs": IGN, "artifactGC": IGN, "deleted": IGN,
    "git": UNS, "hdfs": UNS, "oss": UNS, "artifactory": UNS, "gcs": UNS, "azure": UNS, "plugin": UNS,
}
ARCHIVE_KEYS = {"tar": OK, "none": OK, "zip": OK}
TAR_KEYS = {"compressionLevel": OK}
RAW_KEYS = {"data": OK}
HTTP_KEYS = {"url": OK, "headers": OK, "auth": UNS, "saveStreamViaFile": IGN}  # flowport always streams
HEADER_KEYS = {"name": OK, "value": OK}
SECRET_REF_KEYS = {"name": OK, "key": OK, "optional": IGN}
S3_KEYS = {
    "key": OK, "bucket": OK, "endpoint": OK, "region": OK, "insecure": OK, "accessKeySecret": OK,
    "secretKeySecret": OK, "sessionTokenSecret": OK,
    "addressingStyle": OK,
    "useSDKCreds": IGN, "createBucketIfNotPresent": IGN, "encryptionOptions": UNS, "caSecret": UNS, "roleARN": UNS,
}
REPOSITORY_REF_KEYS = {"configMap": OK, "key": OK}
# an artifact reference as `from` takes it (Argo resolves these from the node's scope)
FROM_TAG = re.compile(r"^\{\{\s*(steps|tasks|workflow|inputs)\.([^.}\s]+)(?:\.outputs)?\.artifacts\.([^}\s]+?)\s*\}\}$")


def read_artifacts(d: DocReader, value: Any, path: Path_, *, role: str, leaf: bool = True) -> tuple[Artifact, ...]:
    """`role`: input | output | argument; `leaf`: a container or script template."""
    if value is None:
        return ()
    if not isinstance(value, list):
        d.p.error(path, f"{role} artifacts must be a list of {{name, …}} mappings, got {kind_of(value)}")
        return ()
    out, seen = [], set()
    for i, item in enumerate(value):
        art = _artifact(d, item, (*path, i), role, leaf)
        if art is None:
            continue
        if art.name in seen:
            d.p.error((*path, i, "name"), f"artifact {art.name!r} is declared twice",
                      hint="artifact names are unique within inputs, outputs and arguments")
        seen.add(art.name)
        out.append(art)
    return tuple(out)


def _artifact(d: DocReader, item: Any, path: Path_, role: str, leaf: bool) -> Artifact | None:
    f = d.fields(item, path, ARTIFACT_KEYS, "artifact")
    if "name" not in f:
        if isinstance(item, dict):
            d.p.error(path, "an artifact needs a `name`")
        return None
    name = d.string(*f["name"])
    if not name:
        return None
    a: dict[str, Any] = {"name": name, "where": d.where(path)}
    for key, attr in (("path", "path"), ("from", "from_"), ("fromExpression", "from_expression"),
                      ("globalName", "global_name"), ("subPath", "sub_path")):
        if key in f:
            a[attr] = d.string(*f[key])
    if "mode" in f:
        a["mode"] = d.whole(*f["mode"])
    for key, attr in (("optional", "optional"), ("recurseMode", "recurse_mode")):
        if key in f:
            a[attr] = d.boolean(*f[key])
    if "archive" in f:
        a["archive"], a["compression_level"] = _archive(d, *f["archive"])
    if "raw" in f:
        g = d.fields(f["raw"][0], f["raw"][1], RAW_KEYS, "raw")
        if "data" not in g:
            d.p.error(f["raw"][1], "raw needs `data`")
        a["raw"] = d.string(*g["data"]) if "data" in g else ""
    if "http" in f:
        a["http_url"], a["http_headers"] = _http(d, *f["http"])
    if "s3" in f:
        a["s3"] = read_s3(d, *f["s3"])
    art = Artifact(**a)
    _check(d, art, f, path, role, leaf)
    return art


def _check(d: DocReader, art: Artifact, f: dict, path: Path_, role: str, leaf: bool) -> None:
    """Argo's validator on one artifact (messages as validate.go words them, located)."""
    where = "inputs" if role == "input" else "outputs" if role == "output" else "arguments"
    locations = [k for k in ("raw", "http", "s3") if k in f]
    if len(locations) > 1:
        d.p.error(f[locations[1]][1], f"artifact {art.name!r} has more than one location: {', '.join(locations)}",
                  key=True)
    if role in ("input", "output"):
        if "from" in f and role == "input":
            d.p.error(f["from"][1], f"{where}.artifacts.{art.name}.from not valid in inputs", key=True,
                      hint="pass it from the step or task that calls this template: arguments.artifacts[].from")
        if leaf:
            if role == "input" or not (art.from_ or art.from_expression):
                _check_path(d, art, f, path, where)
        elif "path" in f:
            d.p.error(f["path"][1], f"{where}.artifacts.{art.name}.path only valid in container/script templates",
                      key=True)
        if role == "output" and art.raw is not None:
            d.p.error(f["raw"][1], "raw output artifacts are not supported (as in Argo)", key=True)
        if role == "output" and not leaf and not (art.from_ or art.from_expression):
            d.p.error(path, f"output artifact {art.name!r} of a steps or dag template needs `from` or `fromExpression`")
    if role == "argument":
        if not (art.from_ or art.from_expression or art.has_location):
            d.p.error(path, f"{art.name}.from, artifact location, or key is required",
                      hint='e.g. from: "{{steps.STEP.outputs.artifacts.NAME}}"')
    if art.from_ and art.from_expression:
        d.p.error(f["fromExpression"][1], f"{art.name} shouldn't have both `from` and `fromExpression` in Artifact",
                  key=True)
    if art.from_ is not None and not FROM_TAG.match(art.from_) and "{{" not in art.from_[2:-2]:
        d.p.error(f["from"][1], f"`from` must be one artifact reference, got {art.from_!r}",
                  hint='e.g. "{{steps.STEP.outputs.artifacts.NAME}}" or "{{workflow.outputs.artifacts.NAME}}"')
    if art.from_expression is not None:
        from .parameters import check_expr

        check_expr(d, art.from_expression, f["fromExpression"][1])


def _check_path(d: DocReader, art: Artifact, f: dict, path: Path_, where: str) -> None:
    """`Artifact.CleanPath` (workflow_types.go): a path is required and may not climb out."""
    if not art.path:
        d.p.error(f["path"][1] if "path" in f else path,
                  f"error in {where}.artifacts.{art.name}: Artifact '{art.name}' did not specify a path",
                  hint="give it the file or folder in the container, e.g. path: /tmp/out.txt")
    elif "{{" not in art.path and clean_artifact_path(art.path) is None:
        d.p.error(f["path"][1], f"error in {where}.artifacts.{art.name}: Artifact '{art.name}' attempted to use "
                  f"a path containing '..'. Directory traversal is not permitted")


def _archive(d: DocReader, value: Any, path: Path_) -> tuple[str | None, int | None]:
    g = d.fields(value, path, ARCHIVE_KEYS, "archive")
    kinds = [k for k in ("tar", "none", "zip") if k in g]
    if len(kinds) > 1:
        d.p.error(g[kinds[1]][1], f"archive takes one strategy, got {', '.join(kinds)}", key=True)
    if not kinds:
        return None, None
    level = None
    if kinds[0] == "tar" and g["tar"][0] is not None:
        t = d.fields(g["tar"][0], g["tar"][1], TAR_KEYS, "archive.tar")
        if "compressionLevel" in t:
            level = d.whole(*t["compressionLevel"])
            if level is not None and level > 9:
                d.p.error(t["compressionLevel"][1], "compressionLevel is 0 to 9 (gzip)")
    return kinds[0], level


def _http(d: DocReader, value: Any, path: Path_) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    g = d.fields(value, path, HTTP_KEYS, "http")
    url = d.string(*g["url"]) if "url" in g else None
    if not url:
        d.p.error(path, "http needs a `url`")
    headers = []
    if "headers" in g:
        items, hpath = g["headers"]
        for i, h in enumerate(items if isinstance(items, list) else []):
            hf = d.fields(h, (*hpath, i), HEADER_KEYS, "header")
            if "name" in hf:
                headers.append((d.string(*hf["name"]) or "", d.string(*hf["value"]) or "" if "value" in hf else ""))
    return url, tuple(headers)


def _secret_ref(d: DocReader, value: Any, path: Path_) -> tuple[str, str] | None:
    g = d.fields(value, path, SECRET_REF_KEYS, "secret reference")
    if "name" not in g or "key" not in g:
        d.p.error(path, "a secret reference needs `name` and `key`")
        return None
    return d.string(*g["name"]) or "", d.string(*g["key"]) or ""


def read_s3(d: DocReader, value: Any, path: Path_, *, table: dict | None = None) -> S3Location:
    g = d.fields(value, path, table or S3_KEYS, "s3")
    s: dict[str, Any] = {}
    for key in ("key", "bucket", "endpoint", "region"):
        if key in g:
            s[key] = d.string(*g[key])
    if "addressingStyle" in g:
        style = d.string(*g["addressingStyle"])
        if style not in ("Auto", "Path", "Virtual"):
            d.p.error(g["addressingStyle"][1], f"addressingStyle is Auto, Path or Virtual, got {style!r}")
        s["addressing_style"] = style
    if "insecure" in g:
        s["insecure"] = d.boolean(*g["insecure"])
    for key, attr in (("accessKeySecret", "access_key_secret"), ("secretKeySecret", "secret_key_secret"),
                      ("sessionTokenSecret", "session_token_secret")):
        if key in g:
            s[attr] = _secret_ref(d, *g[key])
    return S3Location(**s)


def read_repository_ref(d: DocReader, value: Any, path: Path_) -> RepositoryRef:
    g = d.fields(value, path, REPOSITORY_REF_KEYS, "artifactRepositoryRef")
    config_map = d.string(*g["configMap"]) if "configMap" in g else None
    key = d.string(*g["key"]) if "key" in g else None
    return RepositoryRef(config_map or "artifact-repositories", key or None)


def check_step_references(d: DocReader, groups: tuple[tuple[Call, ...], ...], path: Path_) -> None:
    """`from: "{{steps.X.outputs.artifacts.Y}}"` names a step of an earlier group (Argo's
    validator resolves every tag of a step against the scope of the groups before it)."""
    earlier: set[str] = set()
    for group in groups:
        for call in group:
            for art in call.artifacts:
                _known(d, art, "steps", earlier, "no earlier step is named {0!r}")
            if call.exit_hook is not None:  # an exit hook sees its own step's outputs
                for art in call.exit_hook.artifacts:
                    _known(d, art, "steps", earlier | {call.name}, "no earlier step is named {0!r}")
        earlier |= {c.name for c in group}


def check_task_references(d: DocReader, tasks: tuple[Call, ...], ancestors: dict[str, set[str]]) -> None:
    """`from: "{{tasks.X…}}"` names a task this one depends on (`missing dependency`)."""
    for call in tasks:
        for art in call.artifacts:
            _known(d, art, "tasks", ancestors.get(call.name, set()),
                   "missing dependency '{0}' for artifact '" + art.name + "'")


def _known(d: DocReader, art: Artifact, prefix: str, names: set[str], message: str) -> None:
    m = FROM_TAG.match(art.from_ or "")
    if m and m.group(1) == prefix and m.group(2) not in names:
        w = art.where
        d.p.add(Problem(message.format(m.group(2)), Mark(w.file, w.line, w.col) if w else None, (),
                        f"`from` reads the outputs of a {prefix[:-1]} that has run before this one"))
