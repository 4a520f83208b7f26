"""Argo artifacts on the Docker Engine (research/argo-data.md §1–§3, §7).

An artifact travels as a *record*: a JSON-able dict naming where it lives (`repo` + `key`,
or `raw` / `http`), how it is packed (`archive`) and, once bound to a template input, its
`path` and `mode`. Records sit in the executor's scopes as JSON text under Argo's variable
names (`steps.X.outputs.artifacts.Y`, `workflow.outputs.artifacts.G`, `inputs.artifacts.N`),
so loops, hooks and exit handlers see them as they see parameters.

Outputs (`save_outputs`, Argo `executor.go` `SaveArtifacts`): after the main container
exits, whatever its exit code, each `outputs.artifacts[].path` is streamed out with
`get_archive` (a tar whose one top entry is the path's basename, the layout of Argo's
tarball) and stored as `<name>.tgz` (default / `tar`), the bare file or tree (`none`) or
`<name>.zip` (`zip`) under `<keyFormat>/…`. Inputs (`load_inputs`, `loadArtifact`): fetched,
unpacked (`unarchiveArtifact`: gzip+tar auto-detected when `archive` is unset), the single
top entry renamed to `path` (several entries: a folder at `path`), `mode` applied, and put
into the created container before it starts with `put_archive`. Nothing is read whole into
memory: tar streams are rewritten member by member through a pipe.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import os
import posixpath
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from ...lang.argo_tags import Unresolved, substitute
from ...model.argo import Artifact, S3Location, clean_artifact_path
from ..artifact_repos import (
    ArtifactNotFound,
    Repository,
    RepositoryError,
    S3Repository,
    copy_stream,
    repository_of,
)
from . import expr

_CHUNK = 1 << 20


class ArtifactError(Exception):
    """An artifact could not be saved or loaded; the message is Argo's."""


# ---------------------------------------------------------------- records in scopes

def to_text(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def from_text(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    return value if isinstance(value, dict) and "name" in value else None


def _s3_conf(s3: S3Location, scope: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, key in (("bucket", "bucket"), ("endpoint", "endpoint"), ("region", "region")):
        v = getattr(s3, attr)
        if v is not None:
            out[key] = substitute(v, scope)
    if s3.insecure is not None:
        out["insecure"] = s3.insecure
    if s3.addressing_style:
        out["addressingStyle"] = s3.addressing_style
    for attr, key in (("access_key_secret", "accessKeySecret"), ("secret_key_secret", "secretKeySecret"),
                      ("session_token_secret", "sessionTokenSecret")):
        ref = getattr(s3, attr)
        if ref is not None:
            out[key] = {"name": ref[0], "key": ref[1]}
    return out


def location_record(art: Artifact, scope: dict[str, str], default_repo: Callable[[], Repository]) -> dict[str, Any] | None:
    """The record of an artifact's own location (`raw`, `http`, `s3`: "hardwired"), or None."""
    rec: dict[str, Any] = {"name": art.name, "archive": art.archive}
    if art.raw is not None:
        rec["raw"] = substitute(art.raw, scope)
    elif art.http_url is not None:
        rec["http"] = {"url": substitute(art.http_url, scope),
                       "headers": [[k, substitute(v, scope)] for k, v in art.http_headers]}
    elif art.s3 is not None:
        rec["key"] = substitute(art.s3.key or "", scope)
        rec["repo"] = s3_repo_for(art.s3, scope, default_repo).describe()
    else:
        return None
    if art.optional:
        rec["optional"] = True
    return rec


def s3_repo_for(s3: S3Location, scope: dict[str, str], default_repo: Callable[[], Repository]) -> Repository:
    """A full `s3:` location is its own repository; a key-only one uses the workflow's
    (Argo `Relocate`: bucket, endpoint and credentials come from the repository)."""
    if s3.bucket:
        return S3Repository(_s3_conf(s3, scope))
    return default_repo()


def reference(text: str, scope: dict[str, str]) -> dict[str, Any] | None:
    """`{{steps.X.outputs.artifacts.Y}}` & co. → the record it names, or None."""
    inner = text.strip()
    if inner.startswith("{{") and inner.endswith("}}"):
        inner = inner[2:-2].strip()
    return from_text(scope.get(inner))


def resolve_from(art: Artifact, scope: dict[str, str], env: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """`from` / `fromExpression` of an argument or a steps/dag output (Argo `resolveArtifact`):
    a copy of the producer's record with this artifact's name, `subPath` joined to its key.
    Raises Unresolved (Argo: `Unable to resolve: "…"`) unless the artifact is optional."""
    rec = None
    ref = ""
    if art.from_:
        ref = substitute(art.from_, {k: v for k, v in scope.items() if ".artifacts." not in k}, lenient=True)
        rec = reference(ref, scope)
    elif art.from_expression:
        ref = art.from_expression
        try:
            value = expr.evaluate(art.from_expression, env if env is not None else scope)
        except expr.ExpressionError:
            value = None
        rec = from_text(value) if isinstance(value, str) else value if isinstance(value, dict) else None
    if rec is None:
        if art.optional:
            return None
        shown = ref.strip().removeprefix("{{").removesuffix("}}").strip()
        raise Unresolved(shown, f'Unable to resolve: "{shown}"')
    rec = {**rec, "name": art.name}
    rec.pop("path", None)
    rec.pop("mode", None)
    if art.sub_path:
        if "key" not in rec:
            raise Unresolved(art.name, f"subPath of artifact {art.name!r} needs a stored artifact")
        rec["key"] = posixpath.join(rec["key"], substitute(art.sub_path, scope))
    if art.optional:
        rec["optional"] = True
    return rec


def bind_input(art: Artifact, given: dict[str, Any] | None, scope: dict[str, str],
               default_repo: Callable[[], Repository]) -> dict[str, Any] | None:
    """Argo `ProcessArgs`: a same-named argument replaces the input wholesale but for its
    `path`, `mode`, `recurseMode`; else the input's own location; None: optional and absent.
    Raises ArtifactError (`inputs.artifacts.<n> was not supplied`)."""
    rec = given if given is not None else location_record(art, scope, default_repo)
    if rec is None:
        if art.optional:
            return None
        raise ArtifactError(f"inputs.artifacts.{art.name} was not supplied")
    rec = dict(rec)
    if art.path:
        rec["path"] = _clean(art.name, substitute(art.path, scope))
    if art.mode is not None:
        rec["mode"] = art.mode
    if art.recurse_mode:
        rec["recurseMode"] = True
    if given is None and art.optional:
        rec["optional"] = True
    return rec


def export_record(rec: dict[str, Any], global_name: str) -> dict[str, Any]:
    """`globalName`: the artifact under its global name, without its path (operator.go)."""
    out = {k: v for k, v in rec.items() if k not in ("path", "mode", "recurseMode")}
    out["name"] = global_name
    return out


# ---------------------------------------------------------------- outputs

def _clean(name: str, path: str) -> str:
    cleaned = clean_artifact_path(path) if path else None
    if not path:
        raise ArtifactError(f"Artifact '{name}' did not specify a path")
    if cleaned is None:
        raise ArtifactError(f"Artifact '{name}' attempted to use a path containing '..'. "
                            "Directory traversal is not permitted")
    return cleaned


def _archive_file_name(name: str, path: str, archive: str | None) -> str:
    if archive == "none":
        return posixpath.basename(path.rstrip("/")) or name
    return f"{name}.zip" if archive == "zip" else f"{name}.tgz"


def save_outputs(api, cid: str, arts: list[Artifact], scope: dict[str, str], repo: Callable[[], Repository],
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Every output artifact is attempted (Argo ≥ 3.6); returns the saved records and the
    errors (`"<e1>; <e2>; "` joined by the caller)."""
    saved, errors = [], []
    for art in arts:
        try:
            rec = save_one(api, cid, art, scope, repo)
        except (ArtifactError, RepositoryError, Unresolved) as exc:
            errors.append(str(exc))
            continue
        if rec is not None:
            saved.append(rec)
    return saved, errors


def save_one(api, cid: str, art: Artifact, scope: dict[str, str], repo_of: Callable[[], Repository]) -> dict[str, Any] | None:
    import docker.errors

    name = substitute(art.name, scope)
    path = _clean(name, substitute(art.path or "", scope))
    try:
        stream, stat = api.get_archive(cid, path, chunk_size=_CHUNK)
        if stat.get("linkTarget"):  # Argo archives what a top-level symlink points to
            stream.close()
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), stat["linkTarget"]))
            stream, stat = api.get_archive(cid, path, chunk_size=_CHUNK)
    except docker.errors.NotFound:
        if art.optional:
            return None
        raise ArtifactError(f"open /var/run/argo/outputs/artifacts{path}.tgz: no such file or directory") from None
    if art.s3 is not None and art.s3.key:
        repo = s3_repo_for(art.s3, scope, repo_of)
        key = substitute(art.s3.key, scope)  # a given key is used verbatim (no extension)
    else:
        repo = repo_of()
        key = posixpath.join(substitute(repo.key_format, scope, lenient=True),
                             _archive_file_name(name, path, art.archive))
    size = _store(_Chunks(stream), art, repo, key, path)
    rec = {"name": name, "archive": art.archive, "repo": repo.describe(), "key": key, "size": size,
           "url": repo.url(key), "path": path}
    if art.global_name:
        rec["globalName"] = substitute(art.global_name, scope)
    return rec


class _Chunks:
    """A file-like reader over docker-py's chunk generator (for tarfile's stream mode);
    hands out slices of the current chunk without copying what is left of it."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = iter(chunks)
        self.buf = memoryview(b"")

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            rest = [bytes(self.buf), *self.chunks]
            self.buf = memoryview(b"")
            return b"".join(rest)
        if not self.buf:
            self.buf = memoryview(next(self.chunks, b""))
        out, self.buf = self.buf[:n], self.buf[n:]
        return bytes(out)


class _Counting:
    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.size = fh, 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


def _store(tar_stream: _Chunks, art: Artifact, repo: Repository, key: str, path: str) -> int:
    if art.archive in (None, "tar"):
        level = art.compression_level if art.compression_level is not None else 6  # Go's gzip default
        with repo.writer(key) as fh:
            counter = _Counting(fh)
            with gzip.GzipFile(fileobj=counter, mode="wb", compresslevel=level, mtime=0) as gz:
                copy_stream(tar_stream, gz)
            return counter.size
    with tarfile.open(fileobj=tar_stream, mode="r|", bufsize=_CHUNK) as tar:
        first = tar.next()
        if first is None:
            raise ArtifactError(f"{path}: empty archive")
        if first.isfile() and art.archive == "none":  # the bare file, streamed
            src = tar.extractfile(first)
            with repo.writer(key) as fh:
                return copy_stream(src, fh) if src else 0
        with tempfile.TemporaryDirectory(prefix="flowport-art-") as tmp:
            _extract_member(tar, first, Path(tmp))
            for m in tar:
                _extract_member(tar, m, Path(tmp))
            top = Path(tmp) / first.name.split("/")[0]
            if art.archive == "none":  # a folder: a tree of objects
                repo.put_tree(key, top)
                return sum(p.stat().st_size for p in top.rglob("*") if p.is_file())
            with repo.writer(key) as fh:
                counter = _Counting(fh)
                _zip_into(counter, top)
                return counter.size


def _extract_member(tar: tarfile.TarFile, m: tarfile.TarInfo, dest: Path) -> None:
    tar.extract(m, dest, filter="data" if hasattr(tarfile, "data_filter") else None)


def _zip_into(fh, top: Path) -> None:
    with tempfile.TemporaryFile() as tmp:  # zipfile writes seekable files best
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            if top.is_file():
                z.write(top, top.name)
            else:
                for p in sorted(top.rglob("*")):
                    z.write(p, f"{top.name}/{p.relative_to(top).as_posix()}")
        tmp.seek(0)
        copy_stream(tmp, fh)


# ---------------------------------------------------------------- inputs

@contextlib.contextmanager
def _fetched(rec: dict[str, Any]) -> Iterator[tuple[IO[bytes] | None, Path | None]]:
    """The artifact's bytes as a readable file, or a folder for a tree (`none` directories)."""
    if "raw" in rec:
        with tempfile.TemporaryFile() as tmp:
            tmp.write(str(rec["raw"]).encode())
            tmp.seek(0)
            yield tmp, None
        return
    if "http" in rec:
        import requests

        url = rec["http"]["url"]
        try:
            resp = requests.get(url, headers=dict(rec["http"].get("headers") or []), stream=True, timeout=60)
        except requests.RequestException as exc:
            raise ArtifactError(f"loading content from {url} failed: {exc}") from None
        with contextlib.closing(resp):
            if resp.status_code == 404:
                raise ArtifactNotFound(f"loading content from {url} failed with reason: 404 Not Found")
            if not 200 <= resp.status_code < 300:
                raise ArtifactError(f"loading content from {url} failed with reason: {resp.status_code} {resp.reason}")
            with tempfile.TemporaryFile() as tmp:
                for chunk in resp.iter_content(_CHUNK):
                    tmp.write(chunk)
                tmp.seek(0)
                yield tmp, None
        return
    repo = repository_of(rec["repo"])
    if rec.get("archive") == "none" and repo.is_tree(rec["key"]):
        with tempfile.TemporaryDirectory(prefix="flowport-art-") as tmp:
            folder = Path(tmp) / "tree"
            repo.get_tree(rec["key"], folder)
            yield None, folder
        return
    with repo.reader(rec["key"]) as fh:
        yield fh, None


def load_inputs(api, cid: str, records: list[dict[str, Any]]) -> None:
    """Put every bound input artifact into the created container (Argo's init container)."""
    for rec in records:
        if not any(k in rec for k in ("raw", "http", "key")):  # `loadArtifact`: no location
            if rec.get("optional"):
                continue
            raise ArtifactError(f"required artifact '{rec['name']}' not supplied")
        try:
            with _fetched(rec) as (fh, folder):
                _put(api, cid, rec, fh, folder)
        except ArtifactNotFound as exc:
            if rec.get("optional"):
                continue
            raise ArtifactError(f"artifact {rec['name']} failed to load: {exc}") from None
        except (RepositoryError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise ArtifactError(f"artifact {rec['name']} failed to load: {exc}") from None


def _kind(rec: dict[str, Any], fh: IO[bytes]) -> str:
    """How to unpack (`unarchiveArtifact`): as the archive says; unset: gzip + a valid tar
    header is a tarball (`isTarball`), anything else stays as it is."""
    archive = rec.get("archive")
    if archive in ("none", "zip"):
        return "raw" if archive == "none" else "zip"
    head = fh.read(2)
    fh.seek(0)
    if archive == "tar":
        return "tar"
    if head != b"\x1f\x8b":
        return "raw"
    try:
        with gzip.GzipFile(fileobj=fh) as gz, tarfile.open(fileobj=gz, mode="r|") as t:
            ok = t.next() is not None
    except (OSError, tarfile.TarError, EOFError):
        ok = False
    fh.seek(0)
    return "tar" if ok else "raw"


def _put(api, cid: str, rec: dict[str, Any], fh: IO[bytes] | None, folder: Path | None) -> None:
    dest = posixpath.normpath(rec["path"])
    mode, recurse = rec.get("mode"), bool(rec.get("recurseMode"))
    base = _existing_ancestor(api, cid, posixpath.dirname(dest))
    missing = posixpath.relpath(posixpath.dirname(dest), base) if posixpath.dirname(dest) != base else ""
    prefix = "" if missing in ("", ".") else missing
    target = posixpath.join(prefix, posixpath.basename(dest)) if prefix else posixpath.basename(dest)

    def write(out: tarfile.TarFile) -> None:
        if prefix:
            parts = prefix.split("/")
            for i in range(len(parts)):
                out.addfile(_dir_info("/".join(parts[: i + 1])))
        if folder is not None:
            _add_tree(out, folder, target, mode, recurse)
            return
        assert fh is not None
        kind = _kind(rec, fh)
        if kind == "raw":
            info = tarfile.TarInfo(target)
            info.size = os.fstat(fh.fileno()).st_size if hasattr(fh, "fileno") else _size(fh)
            info.mode = mode if mode is not None else 0o644
            out.addfile(info, fh)
        elif kind == "tar":
            single = not _several_tops(fh, rec)
            with _tar_reader(fh) as src:
                _rewrite(src, out, target, mode, recurse, single=single)
        else:
            with zipfile.ZipFile(fh) as z, tempfile.TemporaryDirectory(prefix="flowport-art-") as tmp:
                z.extractall(tmp)
                tops = os.listdir(tmp)
                root = Path(tmp) / tops[0] if len(tops) == 1 else Path(tmp)
                _add_tree(out, root, target, mode, recurse)

    api.put_archive(cid, base, _piped(write))


@contextlib.contextmanager
def _tar_reader(fh: IO[bytes]) -> Iterator[tarfile.TarFile]:
    """A tar stream, gunzipped by GzipFile (bounded reads: tarfile's own stream decompression
    inflates a whole read block at once, and a block of zeros inflates a thousandfold)."""
    gz = fh.read(2) == b"\x1f\x8b"
    fh.seek(fh.tell() - 2)
    with contextlib.ExitStack() as stack:
        src = stack.enter_context(gzip.GzipFile(fileobj=fh, mode="rb")) if gz else fh
        yield stack.enter_context(tarfile.open(fileobj=src, mode="r|", bufsize=_CHUNK))


def _size(fh: IO[bytes]) -> int:
    pos = fh.tell()
    fh.seek(0, os.SEEK_END)
    size = fh.tell() - pos
    fh.seek(pos)
    return size


def _several_tops(fh: IO[bytes], rec: dict[str, Any]) -> bool:
    """A tarball flowport saved has one top entry; others (http, s3) are listed first."""
    if "repo" in rec and "path" in rec and rec.get("archive") in (None, "tar") and "http" not in rec:
        return False
    pos = fh.tell()
    tops = set()
    with _tar_reader(fh) as t:
        for m in t:
            tops.add(_member_name(m.name).split("/")[0])
            if len(tops) > 1:
                break
    fh.seek(pos)
    return len(tops) > 1


def _member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return "" if name in (".", "") else name.rstrip("/")


def _dir_info(name: str, mode: int = 0o755) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, int(time.time())
    return info


def _rewrite(src: tarfile.TarFile, out: tarfile.TarFile, target: str, mode: int | None, recurse: bool,
             single: bool) -> None:
    """Members renamed under `target` (one top entry: that entry *is* target), owned by root."""
    top = None
    for m in src:
        name = _member_name(m.name)
        if single:
            first, _, rest = name.partition("/")
            top = top or first
            new = posixpath.join(target, rest) if rest else target
        else:
            new = posixpath.join(target, name) if name else target
        if m.issym() or m.islnk():
            link = posixpath.normpath(posixpath.join(posixpath.dirname(new), m.linkname))
            if not link.startswith(target):  # symlinks only if they stay inside (Argo `untar`)
                continue
        info = copy.copy(m)
        info.name = new.rstrip("/")
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if info.isdir():
            info.mode = 0o755
        if mode is not None and (recurse or info.name == target):
            info.mode = mode
        out.addfile(info, src.extractfile(m) if m.isfile() else None)
    if not single:
        out.addfile(_dir_info(target, mode if mode is not None else 0o755))


def _add_tree(out: tarfile.TarFile, folder: Path, target: str, mode: int | None, recurse: bool) -> None:
    if folder.is_file():
        info = out.gettarinfo(str(folder), target)
        info.uid = info.gid = 0
        info.mode = mode if mode is not None else info.mode
        with open(folder, "rb") as f:
            out.addfile(info, f)
        return
    out.addfile(_dir_info(target, mode if mode is not None else 0o755))
    for p in sorted(folder.rglob("*")):
        arc = posixpath.join(target, p.relative_to(folder).as_posix())
        info = out.gettarinfo(str(p), arc)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if info.isdir():
            info.mode = 0o755
        if mode is not None and recurse:
            info.mode = mode
        if info.isfile():
            with open(p, "rb") as f:
                out.addfile(info, f)
        else:
            out.addfile(info)


def _piped(write: Callable[[tarfile.TarFile], None]) -> Iterator[bytes]:
    """A tar built by `write` in a thread, yielded in chunks (requests sends them chunked)."""
    r, w = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(w, "wb", buffering=_CHUNK) as sink, \
                    tarfile.open(fileobj=sink, mode="w|", bufsize=_CHUNK) as out:
                out.copybufsize = _CHUNK  # members are copied in 1 MiB reads, not 16 KiB ones
                write(out)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading side
            failure.append(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    with os.fdopen(r, "rb", buffering=0) as source:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                break
            yield chunk
    thread.join()
    if failure:
        raise failure[0]


def _existing_ancestor(api, cid: str, folder: str) -> str:
    """The deepest existing folder at or above `folder` in the container: the target of
    put_archive (Docker needs it to exist; Argo's mount creates what is missing)."""
    while folder not in ("/", ""):
        resp = api.head(api._url("/containers/{0}/archive", cid), params={"path": folder})
        if resp.status_code == 200:
            return folder
        folder = posixpath.dirname(folder)
    return "/"
