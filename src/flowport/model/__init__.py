"""The IR: what a translated workflow means, free of YAML and of Prefect.

common    positions, actions, parameters, the semantics that differ by source
dagu      the Dagu step graph, handlers and run mail
argo      the Argo template tree (ArgoSpec)
workflow  Workflow: the common fields and the dialect's program
"""

from .argo import ArgoSpec
from .common import (
    DAG_CONTAINER,
    Action,
    Container,
    Http,
    Mail,
    Noop,
    Pairs,
    Param,
    Semantics,
    Shell,
    Sql,
    Where,
)
from .dagu import (
    HANDLER_NODE_NAMES,
    Approval,
    ContinueOn,
    DagRetry,
    Handlers,
    MailBlock,
    MailSettings,
    OutputField,
    Precondition,
    Repeat,
    Retry,
    SmtpConfig,
    Step,
)
from .workflow import Workflow

__all__ = [
    "DAG_CONTAINER", "HANDLER_NODE_NAMES", "Action", "Approval", "ArgoSpec", "Container", "ContinueOn", "DagRetry", "Handlers",
    "Http", "Mail", "MailBlock", "MailSettings", "Noop", "OutputField", "Pairs", "Param", "Precondition",
    "Repeat", "Retry", "Semantics", "Shell", "SmtpConfig", "Sql", "Step", "Where", "Workflow",
]
