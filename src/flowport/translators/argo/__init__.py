"""Argo Workflows YAML → IR, one module per Argo concept (laid out as hera's
`src/hera/workflows/`):

workflow       top level, spec, workflowTemplateRef, arguments, hooks; `translate_file`
cron           CronWorkflow (schedule around `workflowSpec`)
templates      the template table and bodies; synchronization
container      container and script templates
steps, dag     `steps` groups and `dag` tasks; calls: one step or task (loops, continueOn)
depends        a task's `depends` / `dependencies`: read and checked (language: lang/depends)
parameters     arguments, inputs, outputs; hooks; retry (retryStrategy); http_template
refs           the WorkflowTemplate library and `templateRef` import
document       one document being read (the Argo flavour of `fields.Reader`)
"""

from .depends import DEPENDS_RESULTS
from .document import is_argo
from .refs import Library
from .workflow import translate, translate_file

__all__ = [
    "DEPENDS_RESULTS",
    "Library",
    "is_argo",
    "translate",
    "translate_file",
]
