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
    EnvRef,
    Http,
    Mail,
    Noop,
    Pairs,
    Param,
    PythonCall,
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
    Fanout,
    Handlers,
    MailBlock,
    MailSettings,
    OutputField,
    Precondition,
    Repeat,
    Retry,
    SecretRef,
    SmtpConfig,
    Step,
    SubDag,
)
from .workflow import Workflow

__all__ = [
    "DAG_CONTAINER", "HANDLER_NODE_NAMES", "Action", "Approval", "ArgoSpec", "Container", "ContinueOn", "DagRetry", "EnvRef", "Handlers",
    "Fanout", "Http", "Mail", "MailBlock", "MailSettings", "Noop", "OutputField", "Pairs", "Param", "Precondition", "PythonCall",
    "Repeat", "Retry", "SecretRef", "Semantics", "Shell", "SmtpConfig", "Sql", "Step", "SubDag", "Where", "Workflow",
]
