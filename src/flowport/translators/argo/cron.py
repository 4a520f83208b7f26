"""CronWorkflow: the schedule (kept for `flowport deploy`) around a `workflowSpec` that runs
like a Workflow's spec."""

from __future__ import annotations

from ..fields import IGNORED as IGN
from ..fields import OK
from ..source import Document
from .document import DocReader


# CronWorkflow spec keys around `workflowSpec`: the schedule is kept for `flowport deploy`,
# the rest is Kubernetes CronJob-style bookkeeping that a Prefect deployment does its own way.
CRON_KEYS = {"schedule": OK, "schedules": OK, "timezone": OK, "suspend": OK, "workflowSpec": OK,
             "workflowMetadata": IGN, "concurrencyPolicy": IGN, "startingDeadlineSeconds": IGN,
             "successfulJobsHistoryLimit": IGN, "failedJobsHistoryLimit": IGN, "stopStrategy": IGN,
             "when": IGN}


def cron_schedule(d: DocReader, data: dict) -> tuple[tuple[str, ...], bool]:
    """A CronWorkflow's schedules (`CRON_TZ=<timezone> ` prefixed, the form `flowport
    deploy` reads) and whether it is suspended."""
    spec = data.get("spec")
    if not isinstance(spec, dict):
        d.p.error(("spec",), "a CronWorkflow needs a `spec` with `schedule(s)` and `workflowSpec`")
        return (), False
    f = d.fields(spec, ("spec",), CRON_KEYS, "CronWorkflow spec")
    if "workflowSpec" not in f:
        d.p.error(("spec",), "a CronWorkflow needs `spec.workflowSpec`")
    crons: list[str] = []
    for key in ("schedule", "schedules"):
        if key in f:
            value, path = f[key]
            crons += [str(v) for v in (value if isinstance(value, list) else [value])]
    if not crons:
        d.p.error(("spec",), "a CronWorkflow needs `schedule` or `schedules`")
    tz = d.string(*f["timezone"]) if "timezone" in f else None
    suspended = bool(f["suspend"][0]) if "suspend" in f else False
    return tuple(f"CRON_TZ={tz} {c}" if tz else c for c in crons), suspended


def cron_as_workflow(doc: Document) -> Document:
    """The CronWorkflow's `spec.workflowSpec` as the spec of a Workflow document; positions
    move along, so messages still point into the file as written."""
    def moved(marks: dict) -> dict:
        out = {p: m for p, m in marks.items() if p[:1] != ("spec",)}
        for p, m in marks.items():
            if p[:2] == ("spec", "workflowSpec"):
                out[("spec", *p[2:])] = m
        return out

    data = dict(doc.data)
    data["kind"] = "Workflow"
    spec = doc.data.get("spec")  # cron_schedule() reported a missing or wrong `spec`
    data["spec"] = (spec.get("workflowSpec") if isinstance(spec, dict) else None) or {}
    return Document(doc.file, doc.text, data, doc.index, moved(doc._values), moved(doc._keys))
