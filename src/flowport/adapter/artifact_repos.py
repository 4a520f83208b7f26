"""Artifact repositories: where Argo artifacts are stored between steps.

Chosen as Argo chooses them (`workflow/artifactrepositories/artifactrepositories.go`): the
workflow's `artifactRepositoryRef` names a key of an `artifact-repositories`-like ConfigMap;
without one, that ConfigMap's default key, then the controller's `artifactRepository`. On a
laptop both live in flowport's config file, under Argo's own field names:

    artifactRepository:            # the controller config's artifactRepository
      s3: {endpoint: 127.0.0.1:9000, bucket: art, insecure: true, keyFormat: "…",
           accessKeySecret: {name: minio, key: accesskey}, secretKeySecret: {name: minio, key: secretkey}}
    artifactRepositories:          # ConfigMaps by name, for artifactRepositoryRef
      artifact-repositories:
        workflows.argoproj.io/default-artifact-repository: my-repo
        my-repo: {s3: {…}}

With neither, the embedded default is a folder under the flowport home
(`$FLOWPORT_HOME/artifacts`, `~/.flowport/artifacts`). S3-compatible stores go through boto3.
Secret references are read from the environment (`<NAME>_<KEY>`, upper case, `_` for other
characters) or a Prefect Secret block `<name>-<key>`; values never leave this module.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

import yaml

DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}"  # Argo's DefaultArchivePattern
DEFAULT_ANNOTATION = "workflows.argoproj.io/default-artifact-repository"
NOT_YET = ("artifactory", "hdfs", "oss", "gcs", "azure", "plugin", "git")
_CHUNK = 1 << 20


class RepositoryError(Exception):
    """The repository cannot be chosen, reached or written (`failed to resolve artifact repository`)."""


class ArtifactNotFound(RepositoryError):
    """No object under that key (Argo's driver NotFound: an optional artifact is skipped)."""


def flowport_home() -> Path:
    return Path(os.environ.get("FLOWPORT_HOME", "~/.flowport")).expanduser()


# ---------------------------------------------------------------- secrets

def secret_env_name(name: str, key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", f"{name}_{key}").upper()


def secret_value(ref: tuple[str, str] | dict | None) -> str | None:
    """A Kubernetes secret reference read from the environment, else a Prefect Secret block."""
    if ref is None:
        return None
    name, key = (ref.get("name", ""), ref.get("key", "")) if isinstance(ref, dict) else ref
    env = secret_env_name(name, key)
    if os.environ.get(env) is not None:
        return os.environ[env]
    block = re.sub(r"[^a-z0-9-]+", "-", f"{name}-{key}".lower()).strip("-")
    try:
        from prefect.blocks.system import Secret

        return str(Secret.load(block).get())
    except Exception:
        raise RepositoryError(f"secret {name}/{key} not found: set ${env} or create the Prefect Secret block "
                              f"{block!r}") from None


# ---------------------------------------------------------------- repositories

class LocalRepository:
    """A folder; a key is a relative path inside it (a directory key holds a tree)."""

    kind = "local"

    def __init__(self, root: str | Path, key_format: str = DEFAULT_KEY_FORMAT) -> None:
        self.root = Path(root).expanduser().resolve()
        self.key_format = key_format

    def describe(self) -> dict[str, Any]:
        return {"type": "local", "path": str(self.root), "keyFormat": self.key_format}

    def _path(self, key: str) -> Path:
        clean = posixpath.normpath("/" + key).lstrip("/")
        if not clean or clean == ".":
            raise RepositoryError(f"artifact key {key!r} names no object")
        return self.root / clean

    def url(self, key: str) -> str:
        return self._path(key).as_uri()

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def put_tree(self, key: str, folder: Path) -> None:
        final = self._path(key)
        if final.exists():
            shutil.rmtree(final) if final.is_dir() else final.unlink()
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, final, symlinks=True)

    def is_tree(self, key: str) -> bool:
        return self._path(key).is_dir()

    @contextlib.contextmanager
    def reader(self, key: str) -> Iterator[IO[bytes]]:
        path = self._path(key)
        if not path.is_file():
            raise ArtifactNotFound(f"{self.url(key)}: no such file or directory")
        with open(path, "rb") as fh:
            yield fh

    def get_tree(self, key: str, folder: Path) -> None:
        shutil.copytree(self._path(key), folder, symlinks=True)


class S3Repository:
    """An S3-compatible bucket through boto3 (path-style addressing for custom endpoints, as
    MinIO and other S3-compatible servers expect)."""

    kind = "s3"

    def __init__(self, s3: dict[str, Any], key_format: str = DEFAULT_KEY_FORMAT) -> None:
        self.conf = s3
        self.bucket = s3.get("bucket") or ""
        if not self.bucket:
            raise RepositoryError("s3 artifact repository needs a `bucket`")
        self.key_format = key_format
        self._client = None

    def describe(self) -> dict[str, Any]:  # references to secrets only, never their values
        keep = ("endpoint", "bucket", "region", "insecure", "accessKeySecret", "secretKeySecret", "sessionTokenSecret",
                "addressingStyle")
        return {"type": "s3", **{k: self.conf[k] for k in keep if self.conf.get(k) is not None},
                "keyFormat": self.key_format}

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            c = self.conf
            endpoint = c.get("endpoint")
            url = None
            if endpoint:
                url = endpoint if "://" in endpoint else f"{'http' if c.get('insecure') else 'https'}://{endpoint}"
            # Argo's addressingStyle; unset: path-style for a custom endpoint (MinIO & co.)
            style = (c.get("addressingStyle") or ("Path" if endpoint else "Auto")).lower()
            self._client = boto3.client(
                "s3", endpoint_url=url, region_name=c.get("region") or "us-east-1",
                aws_access_key_id=secret_value(c.get("accessKeySecret")),
                aws_secret_access_key=secret_value(c.get("secretKeySecret")),
                aws_session_token=secret_value(c.get("sessionTokenSecret")),
                config=Config(s3={"addressing_style": style}, retries={"max_attempts": 3}))
        return self._client

    def url(self, key: str) -> str:
        endpoint = self.conf.get("endpoint")
        return f"s3://{self.bucket}/{key}" + (f" ({endpoint})" if endpoint else "")

    def _errors(self, key: str):
        from botocore.exceptions import BotoCoreError, ClientError

        return BotoCoreError, ClientError

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        with tempfile.TemporaryFile() as tmp:  # upload_fileobj wants a seekable file for multipart
            yield tmp
            tmp.seek(0)
            try:
                self.client.upload_fileobj(tmp, self.bucket, key)
            except self._errors(key) as exc:
                raise RepositoryError(f"{self.url(key)}: {exc}") from None

    def put_tree(self, key: str, folder: Path) -> None:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            try:
                self.client.upload_file(str(path), self.bucket, f"{key.rstrip('/')}/{rel}")
            except self._errors(key) as exc:
                raise RepositoryError(f"{self.url(key)}: {exc}") from None

    def _tree_keys(self, key: str) -> list[str]:
        prefix = key.rstrip("/") + "/"
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def is_tree(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return False
        except ClientError:
            return bool(self._tree_keys(key))

    @contextlib.contextmanager
    def reader(self, key: str) -> Iterator[IO[bytes]]:
        """The object in a temporary file (boto3 downloads it in parallel ranges; callers seek)."""
        from botocore.exceptions import ClientError

        with tempfile.TemporaryFile() as tmp:
            try:
                self.client.download_fileobj(self.bucket, key, tmp)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                    raise ArtifactNotFound(f"{self.url(key)}: the key does not exist") from None
                raise RepositoryError(f"{self.url(key)}: {exc}") from None
            except self._errors(key) as exc:
                raise RepositoryError(f"{self.url(key)}: {exc}") from None
            tmp.seek(0)
            yield tmp

    def get_tree(self, key: str, folder: Path) -> None:
        prefix = key.rstrip("/") + "/"
        for k in self._tree_keys(key):
            dest = folder / posixpath.normpath(k[len(prefix):])
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, k, str(dest))


Repository = LocalRepository | S3Repository


def repository_from(conf: Any, where: str) -> Repository:
    """One ArtifactRepository mapping (Argo's field names; `local: {path}` is flowport's)."""
    if isinstance(conf, str):  # a ConfigMap value is YAML text
        conf = yaml.safe_load(conf)
    if not isinstance(conf, dict):
        raise RepositoryError(f"{where}: an artifact repository is a mapping, e.g. s3: {{bucket: …}}")
    for kind in NOT_YET:
        if kind in conf:
            raise RepositoryError(f"{where}.{kind}: not supported yet: {kind} artifact repositories "
                                  "(flowport stores artifacts in a local folder or an S3-compatible bucket)")
    if "s3" in conf:
        s3 = dict(conf["s3"] or {})
        key_format = s3.pop("keyFormat", None) or posixpath.join(s3.pop("keyPrefix", "") or "", DEFAULT_KEY_FORMAT)
        return S3Repository(s3, key_format)
    local = conf.get("local") or {}
    root = local.get("path") or flowport_home() / "artifacts"
    return LocalRepository(root, local.get("keyFormat") or DEFAULT_KEY_FORMAT)


def load_repository_config(path: str | Path | None) -> dict[str, Any]:
    """The `artifactRepository` / `artifactRepositories` sections of the config file."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RepositoryError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in ("artifactRepository", "artifactRepositories") if k in data}


def resolve_repository(config: dict[str, Any], ref: Any = None, source: str = "config") -> Repository:
    """Argo's choice: the ref's ConfigMap key (an error when absent), else the default
    ConfigMap's annotated key, else `artifactRepository`, else the local folder."""
    maps = config.get("artifactRepositories") or {}
    if ref is not None:
        cm = maps.get(ref.config_map)
        key = ref.key or (cm or {}).get(DEFAULT_ANNOTATION)
        if not isinstance(cm, dict) or not key or key not in cm:
            what = f"key {key!r} of " if key else ""
            raise RepositoryError(f"failed to resolve artifact repository: {what}ConfigMap {ref.config_map!r} not "
                                  f"found in {source}: artifactRepositories")
        return repository_from(cm[key], f"{source}: artifactRepositories.{ref.config_map}.{key}")
    cm = maps.get("artifact-repositories")
    if isinstance(cm, dict) and cm.get(DEFAULT_ANNOTATION) in cm:
        key = cm[DEFAULT_ANNOTATION]
        return repository_from(cm[key], f"{source}: artifactRepositories.artifact-repositories.{key}")
    if config.get("artifactRepository"):
        return repository_from(config["artifactRepository"], f"{source}: artifactRepository")
    return LocalRepository(flowport_home() / "artifacts")


def copy_stream(src: IO[bytes], dst: IO[bytes]) -> int:
    n = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            return n
        dst.write(chunk)
        n += len(chunk)


def repository_of(desc: dict[str, Any]) -> Repository:
    """The repository a saved artifact's record names (`describe()` of the one that saved it)."""
    if desc.get("type") == "s3":
        conf = {k: v for k, v in desc.items() if k not in ("type", "keyFormat")}
        return S3Repository(conf, desc.get("keyFormat") or DEFAULT_KEY_FORMAT)
    return LocalRepository(desc.get("path") or flowport_home() / "artifacts", desc.get("keyFormat") or DEFAULT_KEY_FORMAT)
