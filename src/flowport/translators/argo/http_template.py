"""`http` templates."""

from __future__ import annotations

from typing import Any

from ...model import Http
from ..fields import IGNORED as IGN
from ..fields import OK
from ..fields import UNSUPPORTED as UNS
from .document import DocReader, Path_
from .parameters import check_expr

HTTP_KEYS = {"url": OK, "method": OK, "headers": OK, "body": OK, "successCondition": OK,
             "timeoutSeconds": OK, "insecureSkipVerify": IGN, "bodyFrom": UNS}


def read_http(d: DocReader, value: Any, path: Path_) -> Http | None:
    f = d.fields(value, path, HTTP_KEYS, "http")
    if "url" not in f:
        if isinstance(value, dict):
            d.p.error(path, "an http template needs a `url`")
        return None
    headers = []
    if "headers" in f:
        items, hpath = f["headers"]
        for i, item in enumerate(items if isinstance(items, list) else []):
            g = d.fields(item, (*hpath, i), {"name": OK, "value": OK, "valueFrom": UNS}, "header")
            if "name" in g and "value" in g:
                headers.append((d.string(*g["name"]) or "", d.string(*g["value"]) or ""))
    cond = d.string(*f["successCondition"]) if "successCondition" in f else None
    if cond:
        check_expr(d, cond, f["successCondition"][1])
    timeout = None
    if "timeoutSeconds" in f:
        timeout = d.whole(*f["timeoutSeconds"])
    return Http(url=d.string(*f["url"]) or "", method=(d.string(*f["method"]) or "GET") if "method" in f else "GET",
                headers=tuple(headers), body=d.string(*f["body"]) if "body" in f else None,
                success_condition=cond, timeout=float(timeout) if timeout else None)
