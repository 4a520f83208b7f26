"""The Argo program: what an Argo workflow run means (DESIGN.md §4, Argo table).

The executor (executor.py) walks the template tree; leaves (leaf.py) run as the core's leaf
task runs. Signals, cancel, the deadline (`activeDeadlineSeconds`), the stop ladder (`argo
stop`, then `argo terminate`) and Prefect states are the core's (adapter/core.py).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

from ...model import Workflow
from ..artifact_repos import RepositoryError, load_repository_config
from ..core import Outcome, PendingRetry, RunControl
from ..options import RunOptions, config_path
from ..records import NodeRecord
from ..runfiles import FileNames, claim
from .executor import ERROR, FAILED, Executor
from .leaf import run_leaf
from .volumes import RunVolumes


def _uses_artifacts(spec) -> bool:
    return bool(spec.artifacts) or any(t.input_artifacts or t.output_artifacts for t in spec.templates.values())


class ArgoProgram:
    attempt = 0  # Argo has no workflow-level retry: a run is one attempt

    def __init__(self, wf: Workflow, *, run_id: str, params: list[tuple[str, str]] | None, options: RunOptions,
                 control: RunControl, leaves: Any, folder: Path, name: str) -> None:
        spec = wf.argo
        self.wf = wf
        self.run_id = run_id
        self.leaves = leaves
        self.images = options.images
        self.grace = wf.semantics.stop_grace_seconds
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.file_names = FileNames(tail=True)  # node names end with what tells them apart
        self.name = name
        self.deadline = spec.active_deadline
        named = {k: v for k, v in (params or []) if k}
        self.executor = Executor(spec, workflow_name=self.name, uid=run_id, params=named, run_leaf=run_leaf,
                                 control=control, claim=lambda what: claim(folder, what))
        self.executor.program = self  # the leaves find the run's leaf runner, images, log folder
        self._registry_auths: dict[str, dict] | None = None
        if _uses_artifacts(spec) or spec.repository_ref is not None:
            try:
                self.executor.repo_config = options.artifact_repositories if options.artifact_repositories is not None \
                    else load_repository_config(config_path())
            except RepositoryError as exc:  # an unreadable config file: the run ends Error, saying why
                self.executor.repo_config_error = str(exc)
        self.volumes = RunVolumes(spec, workflow=wf.name, run_id=run_id, keep=options.keep_volumes)

    @staticmethod
    def run_name(wf: Workflow) -> str:
        """`metadata.name`, or `generateName` + 5 random lowercase letters and digits (the
        controller's rand.String(5))."""
        spec = wf.argo
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
        return spec.name or f"{spec.generate_name or 'argo-'}{suffix}"

    def registry_auths(self) -> dict[str, dict]:
        """Registry credentials of `imagePullSecrets`, read once per run (a failure to read
        them pulls without, as the kubelet does)."""
        if self._registry_auths is None:
            from ..k8s_objects import registry_auths

            try:
                self._registry_auths = registry_auths(self.wf.argo.image_pull_secrets)
            except Exception:  # the server is unreachable, a Secret is no Docker config
                self._registry_auths = {}
        return self._registry_auths

    # ------------------------------------------------------------------ the run

    def run_main(self) -> None:
        if any(v.source == "claimTemplate" for v in self.wf.argo.volumes):
            from ..runners.volumes import VolumeError

            try:
                self.volumes.create_claims()  # before the entrypoint, as operator.go createPVCs
            except VolumeError as exc:
                self.executor.status, self.executor.message = ERROR, f"pvc create error: {exc}"
                return
        self.executor.run_main()

    def run_lifecycle(self) -> None:
        self.executor.run_exit_handler()

    def retry_pending(self) -> PendingRetry | None:
        return None  # retryStrategy retries nodes, inside the run; never the whole workflow

    def replay_lifecycle(self, reason: str, logger: Any) -> list[str]:
        """From a Prefect hook, after the flow process is gone: the exit handler, if the
        body did not claim it. Argo's controller runs it whatever happened to the pods."""
        ex = self.executor
        if reason == "canceled":
            ex.status, ex.message = FAILED, f"Stopped with strategy '{ex.shutdown or 'Stop'}'"
        else:
            ex.status, ex.message = ERROR, "the flow process died (killed or out of memory)"
        before = set(ex.nodes)
        ex.run_exit_handler()
        ran = [n.label for name, n in ex.nodes.items() if name not in before]
        for n in (ex.nodes[name] for name in ex.nodes if name not in before):
            logger.info("flowport: %s ended %s", n.label, n.phase)
        return ran

    def stop_requested(self, source: str) -> None:
        pass  # the executor reads the core's stop ladder (shutdown) where it decides

    def deadline_passed(self) -> None:
        pass  # the executor reads deadline_exceeded

    def internal_error(self, exc: BaseException) -> None:
        """Reported as Argo reports a controller error."""
        self.executor.status, self.executor.message = ERROR, f"internal error: {exc!r}"

    # ------------------------------------------------------------------ what the core reports

    def records(self) -> list[NodeRecord]:
        return self.executor.records()

    def public_outputs(self, n: NodeRecord) -> dict[str, Any]:
        out = {k: v for k, v in n.outputs.items() if k in ("result", "parameters", "exitCode", "artifacts")
               and v is not None}
        if n.node_type not in ("Pod", "Retry") and out.get("result") == "":
            out.pop("result")
        return out

    def spare_containers(self) -> list[str]:
        return []

    def outcome(self) -> Outcome:
        ex = self.executor
        return Outcome(status=ex.status, message=ex.message,
                       params={k: v for k, v in ex.arguments.items() if v is not None},
                       outputs={**ex.global_outputs, **{f"artifacts.{k}": json.loads(v)
                                                        for k, v in ex.global_artifacts.items()}})

    def log_paths(self, node: NodeRecord) -> tuple[Path, Path]:
        out, err = self.file_names.paths(self.folder, node.name, ".out", ".err")
        return out, err

    def close(self) -> None:
        """Containers still there after the run (a crash in a task run): gone."""
        try:
            from ..runners.docker import stop_run_containers

            stop_run_containers(self.run_id, grace=0)
        except Exception:
            pass
