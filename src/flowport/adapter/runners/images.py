"""Which image a container step really uses, and making sure the Docker Engine has it.

Air-gapped users point the images that workflows name (`python:3.11`) at a mirror with an
override map; pulling follows the step's pull policy but asks the daemon at most once per
image per process, because a per-step inspect/pull would dominate short steps.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping

import yaml

IMAGES_ENV = "FLOWPORT_IMAGES"
_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/")


def split_reference(ref: str) -> tuple[str, str]:
    """`repo[:tag|@digest]` -> (repo, ":tag" / "@digest" / ""). A registry port is not a tag."""
    if "@" in ref:
        repo, digest = ref.split("@", 1)
        return repo, "@" + digest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon:]
    return ref, ""


def _canonical_repo(repo: str) -> str:
    """Docker Hub spellings of one repository compare equal (`docker.io/library/busybox` = `busybox`)."""
    for prefix in _HUB_PREFIXES:
        if repo.startswith(prefix):
            repo = repo[len(prefix):]
            break
    if repo.startswith("library/"):
        repo = repo[len("library/"):]
    return repo


class ImageMap:
    """Image overrides, e.g. {"python:3.11": "mirror.local/python:3.11", "busybox": "mirror.local/busybox"}.

    Resolution, first match wins:
      1. the exact reference (`busybox` and `busybox:latest` are the same reference);
      2. the repository alone: a key without tag or digest covers every tag of that
         repository. If its mirror has no tag either, the workflow's tag is kept
         (`busybox=mirror/busybox` turns `busybox:1.36` into `mirror/busybox:1.36`);
         a mirror with a tag is used as written.
    Docker Hub prefixes are ignored when comparing (`docker.io/library/busybox` = `busybox`).
    Images the map does not name are used unchanged.
    """

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self._exact: dict[str, str] = {}
        self._by_repo: dict[str, str] = {}
        for name, mirror in (mapping or {}).items():
            self.add(name, mirror)

    def add(self, name: str, mirror: str) -> None:
        name, mirror = name.strip(), mirror.strip()
        if not name or not mirror:
            raise ValueError(f"image override {name!r}={mirror!r}: both sides must be non-empty")
        repo, tag = split_reference(name)
        repo = _canonical_repo(repo)
        if tag:
            self._exact[repo + tag] = mirror
        else:
            self._by_repo[repo] = mirror
            self._exact[repo + ":latest"] = mirror

    def resolve(self, image: str) -> str:
        repo, tag = split_reference(image)
        repo = _canonical_repo(repo)
        exact = self._exact.get(repo + (tag or ":latest"))
        if exact is not None:
            return exact
        mirror = self._by_repo.get(repo)
        if mirror is None:
            return image
        return mirror if split_reference(mirror)[1] else mirror + tag

    def merged(self, other: ImageMap) -> ImageMap:
        """A new map where `other`'s entries win over this one's."""
        result = ImageMap()
        for source in (self, other):
            result._exact.update(source._exact)
            result._by_repo.update(source._by_repo)
        return result

    def __bool__(self) -> bool:
        return bool(self._exact)


def parse_pairs(pairs: Iterable[str], origin: str) -> dict[str, str]:
    """["name=mirror", ...] -> dict; `origin` names the source in error messages."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        pair = pair.strip()
        if not pair:
            continue
        name, sep, mirror = pair.partition("=")
        if not sep or not name.strip() or not mirror.strip():
            raise ValueError(f"{origin}: expected NAME=MIRROR, got {pair!r}")
        mapping[name.strip()] = mirror.strip()
    return mapping


def load_image_map(config_path: str | None, cli_pairs: Iterable[str] = ()) -> ImageMap:
    """The effective override map: CLI pairs > $FLOWPORT_IMAGES ("a=b,c=d") > the config
    file's `images:` mapping. A named config file must exist; it may omit `images:`."""
    result = ImageMap()
    if config_path:
        with open(config_path, encoding="utf-8") as fh:
            config = yaml.safe_load(fh) or {}
        section = config.get("images") if isinstance(config, dict) else None
        if section is not None and not isinstance(section, dict):
            raise ValueError(f"{config_path}: `images:` must be a mapping of image -> mirror")
        result = ImageMap({str(k): str(v) for k, v in (section or {}).items()})
    env_value = os.environ.get(IMAGES_ENV, "")
    result = result.merged(ImageMap(parse_pairs(env_value.split(","), IMAGES_ENV)))
    return result.merged(ImageMap(parse_pairs(cli_pairs, "--image")))


# ---------------------------------------------------------------- presence and pulls

ProgressSink = Callable[[str], None]
_present: set[tuple[str, str, str | None]] = set()  # (daemon, image, platform) known to be there
_locks: dict[tuple[str, str, str | None], threading.Lock] = {}
_locks_guard = threading.Lock()


class ImageUnavailable(Exception):
    """The image is not on the daemon and the pull policy or the registry prevents getting it."""


def _lock_for(key: tuple[str, str, str | None]) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def forget_image(api, image: str, platform: str | None = None) -> None:
    """Drop the cached presence, e.g. after the daemon said the image is gone."""
    _present.discard((api.base_url, image, platform))


def registry_of(image: str) -> str:
    """The registry host of an image reference (Docker's rule: a first path part with a `.` or
    a `:`, or `localhost`; else Docker Hub)."""
    first, sep, _rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _host(server: str) -> str:
    host = server.split("://", 1)[-1].split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def auth_for(image: str, auths: dict[str, dict] | None) -> dict | None:
    """The docker-py `auth_config` for `image` from a Docker config's `auths` (what a
    `kubernetes.io/dockerconfigjson` Secret holds: server -> {auth | username+password})."""
    if not auths:
        return None
    wanted = registry_of(image)
    for server, entry in auths.items():
        if _host(server) != wanted or not isinstance(entry, dict):
            continue
        user, password = entry.get("username"), entry.get("password")
        if (not user or password is None) and entry.get("auth"):
            import base64

            user, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        if user:
            return {"username": user, "password": password or "", "serveraddress": server}
    return None


def ensure_image(api, image: str, policy: str, platform: str | None, progress: ProgressSink,
                 auth_config: dict | None = None) -> None:
    """Make `image` available per `policy` (missing | always | never) or raise ImageUnavailable.

    Checked once per process and image: `always` therefore pulls once per process (one
    flowport run), not before every step. Concurrent steps wait for one pull instead of
    starting their own.
    """
    import docker.errors

    key = (api.base_url, image, platform)
    if key in _present:
        return
    with _lock_for(key):
        if key in _present:
            return
        if policy != "always":
            try:
                api.inspect_image(image)
                _present.add(key)
                return
            except docker.errors.ImageNotFound:
                pass
            if policy == "never":
                raise ImageUnavailable(f"image {image!r} not found locally and the pull policy is 'never'")
        try:
            _pull(api, image, platform, progress, auth_config)
        except (docker.errors.APIError, ImageUnavailable) as exc:
            reason = exc.explanation if isinstance(exc, docker.errors.APIError) and exc.explanation else exc
            raise ImageUnavailable(
                f"image {image!r} not found locally and could not be pulled: {reason}"
                if policy != "always"
                else f"image {image!r} could not be pulled (pull policy 'always'): {reason}"
            ) from None
        _present.add(key)


def _pull(api, image: str, platform: str | None, progress: ProgressSink, auth_config: dict | None = None) -> None:
    progress(f"pulling {image}" + (f" for {platform}" if platform else "")
             + (f" as {auth_config['username']}" if auth_config else ""))
    for event in api.pull(image, stream=True, decode=True, platform=platform, auth_config=auth_config):
        if "error" in event:
            raise ImageUnavailable(event.get("error"))
        if event.get("progress") or "status" not in event:
            continue  # byte-level progress bars would flood the step log
        layer = event.get("id")
        progress(f"{layer}: {event['status']}" if layer else event["status"])
