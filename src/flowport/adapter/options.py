"""How a run is carried out, beyond the workflow itself (CLI flags, config file, env)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .runners.images import ImageMap, load_image_map

if TYPE_CHECKING:  # importing the notifiers loads Apprise: only when alerts are configured
    from ..notifiers.policy import NotifyConfig


@dataclass(frozen=True)
class RunOptions:
    # image -> mirror, for air-gapped hosts; by default what $FLOWPORT_IMAGES says
    images: ImageMap = field(default_factory=lambda: load_image_map(None))
    notify: NotifyConfig | None = None  # --notify / config `notify:` alerts (Prefect state hooks)
    on_cancel: str = "stop"  # Argo: first cancel request = `argo stop` ("stop") or `argo terminate`
    # Argo artifact repositories (config `artifactRepository:` / `artifactRepositories:`);
    # None: read from the config file when a workflow moves artifacts
    artifact_repositories: dict | None = None
    keep_volumes: bool = False  # keep the volumes a run creates for its claims (Argo volumeClaimTemplates)


def config_path(given: str | Path | None = None) -> Path | None:
    """The flowport config file: the one given, $FLOWPORT_CONFIG, or ~/.flowport/config.yaml
    ($FLOWPORT_HOME/config.yaml) when it exists."""
    if given or os.environ.get("FLOWPORT_CONFIG"):
        return Path(given or os.environ["FLOWPORT_CONFIG"])
    default = Path(os.environ.get("FLOWPORT_HOME", "~/.flowport")).expanduser() / "config.yaml"
    return default if default.is_file() else None


def load_run_options(config: str | Path | None = None, images: Iterable[str] = (),
                     notify: Iterable[str] = (), **more) -> RunOptions:
    """Options from the config file (`images:`, `notify:`), the environment and CLI values.
    Raises OSError/ValueError with a message naming what is wrong."""
    path = config_path(config)
    notify = list(notify)
    alerts = None
    if path is not None or notify:
        from ..notifiers.policy import NotifyConfig, load_notify_config, parse_notify_option

        found = load_notify_config(path) if path else NotifyConfig()
        rules = found.rules + tuple(parse_notify_option(n) for n in notify)
        alerts = NotifyConfig(rules=rules, config_files=found.config_files) if rules else None
    if path is not None and "keep_volumes" not in more:
        more["keep_volumes"] = _keep_volumes(path)
    return RunOptions(images=load_image_map(str(path) if path else None, images), notify=alerts, **more)


def _keep_volumes(path: Path) -> bool:
    """The config file's `keep_volumes: true|false` (default false)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the config file: {exc}") from None
    value = data.get("keep_volumes", False) if isinstance(data, dict) else False
    if not isinstance(value, bool):
        raise ValueError(f"{path}: keep_volumes must be true or false, got {value!r}")
    return value
