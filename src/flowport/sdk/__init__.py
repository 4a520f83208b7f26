"""flowport.sdk: write Dagu-style and Argo-style workflows in Python, run by the same engine
as their YAML (`flowport run`). See docs/python.md.

    from flowport.sdk import workflow, sh

    @workflow(engine="dagu-v3", on_failure=sh("echo failed >&2"), on_exit=sh("echo bye"))
    def etl(day: str = "today"):
        extract = sh(f"echo extract {day}", name="extract", output="ROWS")
        sh("echo load $ROWS", name="load", after=[extract], retries=2)

    etl(day="monday")     # a Prefect flow run; etl.serve(), `prefect deploy` work as usual
    run(etl, day="monday")  # the same, returning flowport's RunReport

The value classes are the IR's own (`flowport.model`), so a declaration means exactly what
the matching YAML means.
"""

from ..model import (
    Approval,
    ContinueOn,
    DagRetry,
    EnvRef,
    Fanout,
    SecretRef,
    MailBlock,
    MailSettings,
    OutputField,
    Precondition,
    Repeat,
    Retry,
    Semantics,
    SmtpConfig,
    Where,
)
from ..model.argo import (
    Artifact,
    Hook,
    RepositoryRef,
    S3Location,
    Loop,
    OutputParameter,
    Parameter,
    RetryStrategy,
    Sequence,
    Synchronization,
    Volume,
    VolumeMount,
)
from ..model.common import Container, Http, Mail, Noop, Shell, Sql
from .flow import run, workflow
from .nodes import (call, container, dag, hook, http, mail, noop, pytask, script, sh, sql, steps, subflow, suspend,
                    task)

__all__ = [
    "Approval", "Artifact", "EnvRef", "Fanout", "RepositoryRef", "S3Location", "SecretRef",
    "Container", "ContinueOn", "DagRetry", "Hook", "Http", "Loop", "Mail", "MailBlock", "MailSettings",
    "Noop", "OutputField", "OutputParameter", "Parameter", "Precondition", "Repeat", "Retry",
    "RetryStrategy", "Semantics", "Sequence", "Shell", "SmtpConfig", "Sql", "Synchronization", "Volume",
    "VolumeMount",
    "Where", "call", "run", "container", "dag", "hook", "http", "mail", "noop", "pytask", "script", "sh", "sql",
    "steps", "subflow", "suspend", "task", "workflow",
]
