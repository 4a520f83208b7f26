"""How a run is carried out, beyond the workflow itself (CLI flags, config file, env)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..notifiers.policy import NotifyConfig
from .runners.images import ImageMap, load_image_map


@dataclass(frozen=True)
class RunOptions:
    # image -> mirror, for air-gapped hosts; by default what $FLOWPORT_IMAGES says
    images: ImageMap = field(default_factory=lambda: load_image_map(None))
    notify: NotifyConfig | None = None  # --notify / config `notify:` alerts (Prefect state hooks)
    on_cancel: str = "stop"  # Argo: first cancel request = `argo stop` ("stop") or `argo terminate`
