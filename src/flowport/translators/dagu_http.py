"""Dagu's http executor → IR (`type: http` + `with:`/`config:`, V3 `action: http.request`;
the command is `METHOD URL`). Config keys from dagucloud/dagu 532c512
`internal/runtime/builtin/http/http.go`; the ones flowport does not run are reported."""

from __future__ import annotations

from typing import Any

from ..model import Http

Path_ = tuple

HTTP_KEYS = {
    "method": "ok", "url": "ok", "timeout": "ok", "headers": "ok", "query": "ok", "body": "ok",
    "silent": "ok", "json": "ok", "format": "ok", "output": "ok", "skip_tls_verify": "ok",
    "debug": "ignored", "form": "unsupported", "files": "unsupported",
}


def http_action(cx: Any, config: tuple[Any, Path_] | None, where: Path_, command: tuple[Any, Path_] | None) -> Http | None:
    f: dict[str, tuple[Any, Path_]] = {}
    if config is not None:
        value, path = config
        if not isinstance(value, dict):
            cx.problems.error(path, "the http executor's config must be a mapping")
            return None
        f = cx.fields(value, path, HTTP_KEYS, "http config")
    method = url = ""
    if command is not None:
        text = (cx.string(*command) or "").strip()
        method, _, url = text.partition(" ")
        url = url.strip()
    method = method or (cx.string(*f["method"]) or "" if "method" in f else "")
    url = url or (cx.string(*f["url"]) or "" if "url" in f else "")
    if not url or not method:
        cx.problems.error(command[1] if command is not None else where,
                          "the http executor needs a method and a URL", hint="command: GET https://example.com/")
        return None
    fmt = cx.string(*f["format"]) if "format" in f else None
    if fmt not in (None, "", "json", "text"):
        cx.problems.error(f["format"][1], f"format must be json or text, got {fmt!r}")
    return Http(
        url=url,
        method=method.upper(),
        headers=_pairs(cx, f, "headers"),
        body=cx.string(*f["body"]) if "body" in f else None,
        timeout=(cx.number(*f["timeout"]) or None) if "timeout" in f else None,
        query=_pairs(cx, f, "query"),
        silent=cx.boolean(*f["silent"]) if "silent" in f else False,
        json_format=fmt == "json" or (cx.boolean(*f["json"]) if "json" in f else False),
        output_file=cx.string(*f["output"]) if "output" in f else None,
        skip_tls_verify=cx.boolean(*f["skip_tls_verify"]) if "skip_tls_verify" in f else False,
    )


def _pairs(cx: Any, f: dict, key: str) -> tuple[tuple[str, str], ...]:
    if key not in f:
        return ()
    value, path = f[key]
    if not isinstance(value, dict):
        cx.problems.error(path, f"`{key}` must be a mapping of names to values")
        return ()
    return tuple((str(k), str(v) if not isinstance(v, bool) else str(v).lower()) for k, v in value.items())
