"""Execute one node (a step or a handler): preconditions, the action, the phase it ends in."""

from __future__ import annotations

import json
import logging
import os
import signal
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from ...lang.dagu_vars import go_json, match_expected
from ...lang.errors import ExpressionError
from ...model import Container, Http, Mail, Noop, Precondition, PythonCall, Shell, Sql, Step, SubDag
from .calls import CallStep
from .containers import run_container_step
from .context import HANDLER, RunContext, now
from .outputs import OutputError, evaluate_structured, expand_strings
from ..runners.base import LineSink, RunResult, StopToken
from ..runners.http import run_http
from ..runners.mail import send_mail_step
from ..runners.python import run_python
from ..runners.shell import run_process, run_shell, shell_argv
from ..runners.sqlite import run_sqlite
from .status import CANCELED, FAILED, PARTIALLY_SUCCEEDED, SKIPPED, SUCCEEDED, NodeRecord, failure_continues


def _signal_number(name: str | None) -> int:
    if not name:
        return signal.SIGTERM
    name = name.upper()
    return int(getattr(signal, name if name.startswith("SIG") else f"SIG{name}", signal.SIGTERM))


def check_preconditions(
    ctx: RunContext, conditions: tuple[Precondition, ...], env: dict[str, str], cwd: str, status: str | None = None,
    viewer: str | None = None,
) -> str | None:
    """None when all are met, else a description of the first unmet one. All are evaluated
    (Dagu does not short-circuit: side effects of every condition happen). `viewer`: the
    step (or HANDLER) whose upstream step properties the conditions may use."""
    unmet = None
    for cond in conditions:
        if cond.expected is not None:
            actual = ctx.expand(cond.condition, env, status=status, step=viewer)
            met = match_expected(actual, cond.expected)  # Dagu does not expand `expected`
            what = f"{cond.condition!r} is {actual!r}, expected {cond.expected!r}"
        else:
            command = ctx.expand(cond.condition, env, status=status, step=viewer)
            result = run_process(
                [*ctx.shell(), "-c", command], env=env, cwd=cwd, sink=lambda s, l: None, stop=None
            )
            met = result.exit_code == 0
            what = f"command {cond.condition.strip()!r} exited {result.exit_code}"
        if cond.negate:
            met = not met
        if not met and unmet is None:
            unmet = what
    return unmet


def resolve_dir(ctx: RunContext, raw: str | None, env: dict[str, str]) -> str:
    if not raw:
        return ctx.workdir
    path = Path(os.path.expanduser(ctx.expand(raw, env)))
    if not path.is_absolute():
        path = Path(ctx.workdir, path)
    path.mkdir(parents=True, exist_ok=True)  # Dagu's command executor creates it too
    return str(path)


# Over 80 lines on purpose: one attempt of a node reads top to bottom in Dagu's order (env,
# preconditions, action, outputs, continueOn, phase), as its node.go Execute does.
def execute_node(
    ctx: RunContext,
    step: Step,
    rec: NodeRecord,
    *,
    logger: logging.Logger | logging.LoggerAdapter,
    stop: StopToken | None,
    handler: str | None = None,
    status: str | None = None,
) -> RunResult | None:
    """Run the node once; leave its phase in `rec`. Returns the runner result (None if skipped)."""
    if rec.started_at is None:
        rec.started_at = now()
    rec.attempts += 1
    rec.phase = "running"
    try:
        env = ctx.step_env(step, handler=handler, status=status)
        cwd = resolve_dir(ctx, step.workdir, env)
    except ExpressionError as exc:  # a value the languages cannot evaluate fails the step
        return _finish(ctx, step, rec, RunResult(None, error=str(exc)), handler=handler)
    if handler is None:
        out_path, err_path = ctx.step_log_paths(step.name)
        env["DAG_RUN_STEP_STDOUT_FILE"] = str(out_path)
        env["DAG_RUN_STEP_STDERR_FILE"] = str(err_path)
        env["DAG_STEP_LOG_PATH"] = str(out_path)
    else:
        out_path, err_path = ctx.step_log_paths(rec.name)
    ctx.log(f"{rec.name}: started (attempt {rec.attempts})")
    viewer = HANDLER if handler else step.name

    if step.preconditions:
        try:
            unmet = check_preconditions(ctx, step.preconditions, env, cwd, status, viewer)
        except ExpressionError as exc:
            return _finish(ctx, step, rec, RunResult(None, error=f"precondition: {exc}"), handler=handler)
        if unmet is not None:
            rec.phase, rec.message = SKIPPED, f"precondition not met: {unmet}"
            rec.finished_at = now()
            ctx.log(f"{rec.name}: skipped ({rec.message})")
            logger.info("skipped: %s", rec.message)
            return None

    try:
        out_path = _redirect(ctx, step.stdout_path, step.stdout_artifact, env, cwd, status) or out_path
        err_path = _redirect(ctx, step.stderr_path, step.stderr_artifact, env, cwd, status) or err_path
    except ValueError as exc:
        return _finish(ctx, step, rec, RunResult(None, error=str(exc)), handler=handler)
    keep_log = bool(step.continue_on.output)
    if keep_log:
        rec.log.clear()

    def sink(stream: str, line: str) -> None:
        if keep_log:
            rec.log.append(line)
        if stream == "stdout":
            logger.info(line)
        else:
            logger.info("[stderr] %s", line)

    outputs_file = None
    if step.declared_outputs and handler is None:
        outputs_file = ctx.step_log_paths(step.name)[0].with_suffix(".outputs")
        outputs_file.write_text("")
        env["DAGU_OUTPUT_FILE"] = str(outputs_file)
    with ExitStack() as files:
        out_file = files.enter_context(open(out_path, "w"))
        err_file = files.enter_context(open(err_path, "w"))
        try:
            if isinstance(step.action, SubDag):
                def expand_with(text: str, extra: dict[str, str]) -> str:
                    return ctx.expand(text, {**env, **extra}, status=status, step=viewer)

                result = CallStep(ctx, step, step.action, rec, stop, expand_with, logger).run(sink, out_file)
            else:
                result = run_action(ctx, step, env, cwd, sink, stop, out_file, err_file, status, viewer, rec.name)
        except ExpressionError as exc:  # expanding the action's values
            result = RunResult(None, error=str(exc))
    properties = {"stdout": str(out_path), "stderr": str(err_path)}
    if outputs_file is not None:
        values = _read_outputs_file(outputs_file, step.declared_outputs)
        with ctx.lock:
            ctx.step_outputs[step.name] = values
        rec.outputs.update(values)
        properties["outputs"] = go_json(values)  # strings only: json.Marshal cannot refuse them
    if step.output:
        ctx.record_output(step, result.stdout.strip())
        rec.outputs[step.output] = properties["output"] = result.stdout.strip()
    if step.structured_output and not result.stopped:
        try:
            fields, published = evaluate_structured(
                step.structured_output, stdout=result.stdout, stderr_file=err_path, cwd=cwd,
                expand=lambda text: ctx.expand(text, env, status=status, step=viewer))
        except OutputError as exc:
            if result.ok:  # Dagu: an output that cannot be evaluated fails the step
                result = RunResult(result.exit_code, result.stdout, str(exc))
        else:
            properties["output"] = published
            rec.outputs.update((k, v if isinstance(v, str) else go_json(v)) for k, v in fields.items())
    if handler is None:
        code = result.exit_code if result.exit_code is not None else (0 if result.ok else 1)
        ctx.record_properties(step, {**properties, "exitCode": str(code), "exit_code": str(code)})
    return _finish(ctx, step, rec, result, handler=handler)


def _redirect(ctx: RunContext, path: str | None, artifact: str | None, env: dict[str, str], cwd: str,
              status: str | None) -> Path | None:
    """Where a `stdout:`/`stderr:` redirect sends the stream: a file (relative to the step's
    directory) or an artifact (inside the run's artifacts folder)."""
    if artifact:
        return ctx.artifact_file(ctx.expand(artifact, env, status=status))
    if path:
        return Path(cwd, ctx.expand(path, env, status=status))
    return None


def _finish(ctx: RunContext, step: Step, rec: NodeRecord, result: RunResult, *, handler: str | None) -> RunResult:
    """Record how the node ended: its phase, exit code and message."""
    rec.exit_code = result.exit_code
    rec.finished_at = now()
    if result.stopped:
        rec.phase, rec.message = CANCELED, "stopped"
    elif result.ok:
        rec.phase, rec.message = (PARTIALLY_SUCCEEDED if result.partial else SUCCEEDED), None
    else:
        rec.phase, rec.message = FAILED, result.error
        if handler is None:
            rec.continued = failure_continues(step.continue_on, result.exit_code, "\n".join(rec.log))
            if rec.continued and step.continue_on.mark_success:
                rec.phase = SUCCEEDED
    ctx.log(f"{rec.name}: {rec.phase}" + (f" ({rec.message})" if rec.message else ""))
    return result


def _read_outputs_file(path: Path, declared: tuple[str, ...]) -> dict[str, str]:
    """KEY=VALUE lines a step wrote to $DAGU_OUTPUT_FILE; only declared names count."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in declared:
            values[key.strip()] = value
    return values


def run_action(
    ctx: RunContext,
    step: Step,
    env: dict[str, str],
    cwd: str,
    sink: LineSink,
    stop: StopToken | None,
    out_file,
    err_file,
    status: str | None,
    owner: str | None = None,  # the step whose upstream outputs are visible; HANDLER in handlers
    node_name: str = "",
) -> RunResult:
    action = step.action
    grace = ctx.wf.semantics.stop_grace_seconds

    def expand(text: str) -> str:  # the step's values, evaluated as Dagu evaluates them
        return ctx.expand(text, env, status=status, step=owner)

    if isinstance(action, Shell):
        resolved = Shell(
            command=expand(action.command) if action.command is not None else None,
            argv=tuple(expand(a) for a in action.argv) if action.argv is not None else None,
            script=expand(action.script) if action.script is not None else None,
            shell=shell_argv(action.shell) if action.shell else (),
        )
        return run_shell(
            resolved,
            env=env,
            cwd=cwd,
            sink=sink,
            stop=stop,
            shell=ctx.shell(),
            timeout=step.timeout,
            stdout_file=out_file,
            stderr_file=err_file,
            signal_on_stop=_signal_number(step.signal_on_stop),
            grace=grace,
        )
    if isinstance(action, Container):
        return run_container_step(
            ctx, step, action, env,
            expand=expand,
            sink=sink, stop=stop, out_file=out_file, err_file=err_file, node_name=node_name,
        )
    if isinstance(action, Sql):
        params = json.loads(action.params_json) if action.params_json else None
        resolved = replace(
            action,
            dsn=expand(action.dsn),
            query=expand(action.query) if action.query is not None else None,
            script=expand(action.script) if action.script is not None else None,
            params_json=json.dumps(expand_strings(params, expand)) if params is not None else None,
        )
        return run_sqlite(resolved, cwd=cwd, sink=sink, stop=stop, stdout_file=out_file)
    if isinstance(action, Http):
        resolved = replace(
            action,
            url=expand(action.url),
            headers=tuple((k, expand(v)) for k, v in action.headers),
            query=tuple((k, expand(v)) for k, v in action.query),
            body=expand(action.body) if action.body is not None else None,
            output_file=expand(action.output_file) if action.output_file else None,
            timeout=action.timeout if action.timeout is not None else step.timeout,
        )
        return run_http(resolved, cwd=cwd, sink=sink, stop=stop, stdout_file=out_file)
    if isinstance(action, Mail):
        resolved = Mail(
            to=tuple(expand(t) for t in action.to),
            sender=expand(action.sender),
            subject=expand(action.subject),
            message=expand(action.message),
            attachments=tuple(str(Path(cwd, expand(a))) for a in action.attachments),
        )
        return send_mail_step(resolved, ctx.smtp(), sink, stop)
    if isinstance(action, Noop):  # flowport.sdk noop(): a step that only waits for its dependencies
        return RunResult(0)
    if isinstance(action, PythonCall):
        def value(v: object) -> object:
            return expand(v) if isinstance(v, str) else v

        return run_python(action.function, tuple(value(a) for a in action.args),
                          {k: value(v) for k, v in action.kwargs}, sink=sink, stop=stop, timeout=step.timeout,
                          stdout_file=out_file, stderr_file=err_file)
    return RunResult(exit_code=None, error=f"{type(action).__name__} steps are not supported yet")
