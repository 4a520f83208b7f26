"""`retryStrategy`: limit, retryPolicy, expression, backoff."""

from __future__ import annotations

from typing import Any

from ...lang.durations import parse_duration
from ...model.argo import RetryStrategy
from ..fields import IGNORED as IGN
from ..fields import OK
from ..source import unknown_key_hint
from .document import DocReader, Path_
from .parameters import check_expr

RETRY_KEYS = {"limit": OK, "retryPolicy": OK, "expression": OK, "backoff": OK, "affinity": IGN}
BACKOFF_KEYS = {"duration": OK, "factor": OK, "cap": OK, "maxDuration": OK}
RETRY_POLICIES = ("Always", "OnFailure", "OnError", "OnTransientError")


def read_retry(d: DocReader, value: Any, path: Path_) -> RetryStrategy | None:
    if value is None:
        return None
    f = d.fields(value, path, RETRY_KEYS, "retryStrategy")
    r: dict[str, Any] = {}
    if "limit" in f:
        r["limit"] = d.string(*f["limit"])
        if r["limit"] is not None and "{{" not in r["limit"]:
            d.whole(r["limit"], f["limit"][1])
    if "retryPolicy" in f:
        pol = f["retryPolicy"][0]
        if pol not in RETRY_POLICIES:
            d.p.error(f["retryPolicy"][1], f"retryPolicy must be one of {', '.join(RETRY_POLICIES)}",
                      hint=unknown_key_hint(pol, RETRY_POLICIES))
        else:
            r["policy"] = pol
    if "expression" in f:
        r["expression"] = d.string(*f["expression"])
        check_expr(d, r["expression"], f["expression"][1])
        r.setdefault("policy", "Always") if "retryPolicy" not in f else None
    if "backoff" in f:
        b = d.fields(f["backoff"][0], f["backoff"][1], BACKOFF_KEYS, "backoff")
        for key, attr in (("duration", "backoff_duration"), ("factor", "backoff_factor"),
                          ("cap", "backoff_cap"), ("maxDuration", "backoff_max_duration")):
            if key in b:
                r[attr] = d.string(*b[key])
                if r[attr] is not None and key != "factor" and "{{" not in r[attr] and parse_duration(r[attr]) is None:
                    d.p.error(b[key][1], f"invalid duration {r[attr]!r}", hint="e.g. 10, \"10s\", \"2m\", \"1h\"")
    return RetryStrategy(**r)
