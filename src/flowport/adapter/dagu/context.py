"""Per-run state: variables, outputs, node records, log files, the stop token."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections import ChainMap
from datetime import datetime
from pathlib import Path
from typing import Any

from ...lang import dagu_vars
from ...model import HANDLER_NODE_NAMES, SmtpConfig, Step, Workflow
from ..options import RunOptions
from ..runners.base import StopToken
from ..records import NodeRecord, now
from ..runfiles import FileNames, data_root, run_dir, safe_name

# OS variables may be overridden by the workflow, but never these (they are the run's own).
_BUILTIN_PREFIXES = ("DAG_", "DAGU_")

# `expand(step=HANDLER)`: a handler sees every step's `${id.stdout}`-style properties but no
# V3 `${steps.…}` outputs (Dagu: TestRunner_EventHandlerStepIDAccess, namespace_handler.yaml).
HANDLER = "\0handler"


def parse_dotenv(path: Path) -> list[tuple[str, str]]:
    """KEY=VALUE lines; `export` prefixes, comments and surrounding quotes allowed."""
    pairs = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        pairs.append((key.strip(), value))
    return pairs


class RunContext:
    """Everything one run of a workflow knows. Thread-safe where steps touch it."""

    def __init__(
        self,
        wf: Workflow,
        *,
        run_id: str,
        params: list[tuple[str, str]] | None = None,
        stop: StopToken | None = None,
        options: RunOptions | None = None,
        log_dir: Path | None = None,
    ) -> None:
        from .containers import DagContainer

        self.wf = wf
        self.options = options or RunOptions()
        self.dag_container = DagContainer()
        self.run_id = run_id
        self.cli_params = list(params or [])
        self.stop = stop or StopToken(grace=wf.semantics.stop_grace_seconds)
        self.lock = threading.Lock()
        self.started_at = now()
        self.finished_at: datetime | None = None
        self.nodes: dict[str, NodeRecord] = {
            s.name: NodeRecord(name=s.name, display_name=s.name) for s in wf.steps
        }
        self.handler_nodes: dict[str, NodeRecord] = {}
        self.outputs: dict[str, str] = {}  # output variable -> value
        self.output_owner: dict[str, str] = {}  # output variable -> step name
        self.step_outputs: dict[str, dict[str, str]] = {}  # V3 `outputs:` by step name
        self.step_ids = {s.name: s.id for s in wf.steps if s.id}
        # `${id.stdout|stderr|exitCode|output|outputs}` of finished steps that have an `id`
        self.step_properties: dict[str, dict[str, str]] = {}
        self.artifacts_dir: Path | None = None
        self.status: str | None = None  # final source status once known
        self.message: str | None = None
        self.notify_errors: list[str] = []  # mails that could not be sent (never the status)
        self.timed_out = False
        self.run_child: Any = None  # (child workflow, params, inline run id, logger) -> RunReport
        self.log_dir = log_dir or run_dir(wf.name, run_id)
        self.file_names = FileNames([*(s.name for s in wf.steps), *HANDLER_NODE_NAMES.values()])
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.log_dir / "run.log"
        self._log = open(self.log_file, "a", buffering=1)
        self.workdir = wf.workdir
        self.params: list[tuple[str, str]] = []
        self.base_env: dict[str, str] = {}
        self._deps = {s.name: s.depends for s in wf.steps}
        self._ancestors: dict[str, frozenset[str]] = {}
        self._resolve_variables()

    # ------------------------------------------------------------ variables

    def backtick(self, env: dict[str, str]):
        if not self.wf.semantics.run_backticks:
            return None

        def run(cmd: str) -> str:
            done = subprocess.run(
                [*self.shell(), "-c", cmd],
                env=env,
                cwd=self.workdir,
                capture_output=True,
                text=True,
                timeout=60,
            )
            return done.stdout.strip()

        return run

    def shell(self) -> tuple[str, ...]:
        from ..runners.shell import default_shell

        return self.wf.shell or self.wf.semantics.default_shell or default_shell()

    def _resolve_variables(self) -> None:
        """dotenv < DAG env < params, each evaluated in order (Dagu)."""
        env = dict(os.environ)
        env.update(
            DAG_NAME=self.wf.name,
            DAG_RUN_ID=self.run_id,
            DAG_RUN_LOG_FILE=str(self.log_file),
            DAG_RUN_WORK_DIR=self.workdir,
            # names used before Dagu 1.17
            DAG_REQUEST_ID=self.run_id,
            DAG_EXECUTION_LOG_PATH=str(self.log_file),
        )
        if self.wf.artifacts_dir is not None:
            self.artifacts_dir = self._artifacts_folder(env)
            env["DAG_RUN_ARTIFACTS_DIR"] = str(self.artifacts_dir)
        for name in self.wf.dotenv:
            path = Path(self.workdir, self.expand(name, env))
            if path.is_file():
                env.update(parse_dotenv(path))
        for key, value in self.wf.env:
            env[key] = self.expand(value, env)
        self.params = self._resolve_params(env)
        for key, value in self.params:
            env[key] = value
        self.secret_error: str | None = None  # the run then fails before any step, no handler
        if self.wf.secrets:  # secrets > DAG env > params (Dagu exec/context.go)
            from .secrets import SecretLookupError, resolve_secrets

            try:
                env.update(resolve_secrets(self.wf.secrets, env, self.workdir,
                                           str(Path(self.wf.source_file).parent)))
            except SecretLookupError as exc:
                self.secret_error = str(exc)
        named = {k: v for k, v in self.params if not k.isdigit()}
        env["DAGU_PARAMS_JSON"] = env["DAG_PARAMS_JSON"] = json.dumps(named)
        self.base_env = env

    def _artifacts_folder(self, env: dict[str, str]) -> Path:
        """<dir>/<DAG name>/dag-run_<UTC time>_<run id>, as Dagu lays it out; a relative `dir`
        is taken from the DAG's working directory, no `dir` means flowport's data folder."""
        configured = os.path.expanduser(self.expand(self.wf.artifacts_dir or "", env))
        base = Path(self.workdir, configured) if configured else data_root() / "artifacts"
        stamp = self.started_at.strftime("%Y%m%d_%H%M%SZ")
        folder = (base / safe_name(self.wf.name) / f"dag-run_{stamp}_{self.run_id}").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def artifact_file(self, relative: str) -> Path:
        """Where a step's `stdout/stderr: {artifact: …}` goes: inside the artifacts folder."""
        if self.artifacts_dir is None:
            raise ValueError("DAG_RUN_ARTIFACTS_DIR is not set; enable artifacts for this DAG")
        target = (self.artifacts_dir / relative).resolve()
        if not target.is_relative_to(self.artifacts_dir) or target == self.artifacts_dir:
            raise ValueError(f"artifact path {relative!r} escapes the artifacts folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _resolve_params(self, env: dict[str, str]) -> list[tuple[str, str]]:
        overrides = [(k or None, v) for k, v in self.cli_params]
        if self.wf.params_text is not None:
            tokens = dagu_vars.parse_params(self.wf.params_text)
            return dagu_vars.resolve_params(
                tokens, overrides=overrides, env=env, backtick=self.backtick(env)
            )
        resolved: list[tuple[str, str]] = []
        scope = dict(env)
        given = {k: v for k, v in overrides if k}
        positional = [v for k, v in overrides if not k]
        for p in self.wf.params:
            if p.name in given:
                value = given.pop(p.name)
            elif p.name.isdigit() and positional and int(p.name) <= len(positional):
                value = positional[int(p.name) - 1]
            elif p.default is None:
                continue  # declared without a value: references stay literal (Dagu V3)
            else:
                value = self.expand(p.default, scope)
            resolved.append((p.name, value))
            scope[p.name] = value
        resolved.extend(given.items())
        count = sum(1 for k, _ in resolved if k.isdigit())
        for i, value in enumerate(positional[count:], start=count + 1):
            resolved.append((str(i), value))
        return resolved

    def namespaces(self, env: dict[str, str], *, status: str | None = None, step: str | None = None) -> dict[str, dict[str, str]]:
        context = {"run.id": self.run_id, "run.name": self.wf.name}
        if self.artifacts_dir is not None:
            context["paths.artifacts_dir"] = str(self.artifacts_dir)
        if status:
            context["run.status"] = status
        spaces = {
            "params": {k: v for k, v in self.params if not k.isdigit()},
            "env": env,
            "context": context,
        }
        if step is not None and step != HANDLER and self.step_outputs:
            # V3 `${steps.<id>.outputs.<name>}` (exactly these four parts; Dagu's step map
            # knows steps by their `id` only): upstream steps only; handlers get none
            mine = self.ancestors(step)
            spaces["steps"] = {
                f"{self.step_ids[owner]}.outputs.{key}": value
                for owner, values in self.step_outputs.items()
                if owner in mine and owner in self.step_ids
                for key, value in values.items()
            }
        return spaces

    def expand(self, text: str, env: dict[str, str], *, status: str | None = None, step: str | None = None) -> str:
        """Dagu's evaluation of `text`. `step`: the step whose upstream outputs and properties
        are visible (HANDLER: a handler's view); None for DAG-level values."""
        if not text or ("$" not in text and "`" not in text):
            return text
        properties = self.visible_properties(step) if step is not None else None
        return dagu_vars.expand(
            text,
            ChainMap(env, properties) if properties else env,
            backtick=self.backtick(env),
            namespaces=self.namespaces(env, status=status, step=step),
        )

    def visible_properties(self, step: str) -> dict[str, str]:
        """`${id.stdout}`-style keys of the steps `step` may see: its upstream steps (all steps
        for a handler), those with an `id` only (Dagu's step map)."""
        with self.lock:
            if not self.step_properties:
                return {}
            owners = self.step_properties.keys() if step == HANDLER else self.ancestors(step) & self.step_properties.keys()
            return {f"{self.step_ids[owner]}.{key}": value
                    for owner in owners for key, value in self.step_properties[owner].items()}

    def record_properties(self, step: Step, properties: dict[str, str]) -> None:
        if step.id:
            with self.lock:
                self.step_properties[step.name] = properties

    def step_env(self, step: Step, *, handler: str | None = None, status: str | None = None) -> dict[str, str]:
        """Environment a step (or a handler) runs with, its own `env:` evaluated in order."""
        env = dict(self.base_env)
        with self.lock:
            if handler is None:
                visible = {}
                if self.outputs:
                    mine = self.ancestors(step.name)
                    visible = {k: v for k, v in self.outputs.items() if self.output_owner[k] in mine}
            else:
                visible = dict(self.outputs)
        env.update(visible)
        if handler is not None:
            env["DAG_RUN_STEP_NAME"] = HANDLER_NODE_NAMES[handler]
            if status:
                env["DAG_RUN_STATUS"] = status
        else:
            env["DAG_RUN_STEP_NAME"] = step.name
            env["DAG_STEP_NAME"] = step.name
        viewer = HANDLER if handler is not None else step.name  # step env sees what the command sees
        for key, value in step.env:
            env[key] = self.expand(value, env, status=status, step=viewer)
        for key, value in self.cli_params:
            if key:  # runtime params win over step env (Dagu precedence)
                env[key] = value
        return env

    def smtp(self) -> SmtpConfig | None:
        """The DAG's `smtp:` with `${VAR}` references resolved (credentials often live in env)."""
        smtp = self.wf.mail.smtp
        if smtp is None:
            return None
        env = self.base_env
        return SmtpConfig(
            host=self.expand(smtp.host, env),
            port=self.expand(smtp.port, env),
            username=self.expand(smtp.username, env) if smtp.username else None,
            password=self.expand(smtp.password, env) if smtp.password else None,
        )

    def record_output(self, step: Step, value: str) -> None:
        if step.output:
            with self.lock:
                self.outputs[step.output] = value
                self.output_owner[step.output] = step.name

    # ------------------------------------------------------------ nodes and logs

    def handler_record(self, key: str) -> NodeRecord:
        name = HANDLER_NODE_NAMES[key]
        rec = self.handler_nodes.get(name)
        if rec is None:
            rec = self.handler_nodes[name] = NodeRecord(name=name, kind="handler", display_name=name)
        return rec

    def reset_node(self, name: str) -> None:
        """A step a DAG retry runs again: a fresh record, and none of its outputs linger."""
        with self.lock:
            self.nodes[name] = NodeRecord(name=name, display_name=name)
            for var in [v for v, owner in self.output_owner.items() if owner == name]:
                del self.outputs[var], self.output_owner[var]
            self.step_outputs.pop(name, None)
            self.step_properties.pop(name, None)

    def log(self, line: str) -> None:
        with self.lock:
            self._log.write(f"{now().isoformat(timespec='milliseconds')} {line}\n")

    def step_log_paths(self, name: str) -> tuple[Path, Path]:
        """`<stem>.out`, `<stem>.err`: one pair per step, inside the run's log folder."""
        out, err = self.file_names.paths(self.log_dir, name, ".out", ".err")
        return out, err

    def close(self) -> None:
        with self.lock:
            self._log.close()

    def ancestors(self, name: str) -> frozenset[str]:
        """Transitive dependencies of a step: its outputs' audience (computed on demand)."""
        found = self._ancestors.get(name)
        if found is None:
            stack, seen = [name], set()
            while stack:
                for dep in self._deps.get(stack.pop(), ()):
                    if dep not in seen:
                        seen.add(dep)
                        stack.append(dep)
            found = self._ancestors[name] = frozenset(seen)
        return found

    def all_records(self) -> list[NodeRecord]:
        return [*self.nodes.values(), *self.handler_nodes.values()]
