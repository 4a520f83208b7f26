"""Dagu's variable language, evaluated the way Dagu evaluates it (research/dagu.md §2.7-2.10).

Pure functions, standard library only; nothing here runs a command or reads the environment
(backticks go through a caller-supplied callable).

Sources read: dagu-org/dagu v1.17.4 ``internal/digraph/params.go``, ``internal/cmdutil/eval.go``;
v1.30.3 ``internal/core/spec/params.go``, ``internal/common/cmdutil/eval.go``; v2.6.5
``internal/cmn/eval/{pipeline,resolve,resolve_json,substitute}.go``,
``internal/core/spec/{params,dparams_runtime}.go``, ``internal/runtime/{condition,eval_options}.go``,
``internal/cmn/stringutil/matcher.go``; dagucloud/dagu v2.15 ``internal/cmn/value/template.go``.

``expand`` runs Dagu's pipeline for a *shell command* (``CommandEvalOptions`` for sh/bash):

1. V3 namespaces ``${params.x}``, ``${env.X}``, ``${context.run.status}``,
   ``${steps.build.outputs.image}`` — only when the caller passes ``namespaces``.
2. quoted references ``"${VAR}"`` / ``"${VAR.path}"``: the value is re-quoted Go-style
   (``strconv.Quote``: ``"`` and ``\\`` escaped, a newline becomes ``\\n``, …) so surrounding JSON
   stays valid. For ordinary values this is the same as plain replacement.
3. dotted references ``${NAME.path}`` / ``$NAME.path`` (step properties given by the caller as
   dotted keys such as ``"build.exitCode"``, then a JSON path into NAME's value).
4. plain ``${NAME}`` / ``$NAME`` / ``$1`` / ``${10}`` — not inside single quotes.
5. backtick command substitution (only when ``backtick`` is given).

Like Dagu, each phase works on the output of the previous one, so a value inserted by an early
phase is seen by later ones (a backtick inside a substituted value is executed).
Nothing else is done: ``$(...)``, ``${VAR:-x}`` and other POSIX forms, and undefined variables
are left for the step's shell.
"""

from __future__ import annotations

import json
import math
import re
from typing import Callable, Mapping, Sequence

__all__ = [
    "expand", "go_json", "is_select_path", "json_path", "match_expected", "parse_params",
    "resolve_params", "select_path",
]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DIGITS = re.compile(r"[0-9]+\Z")

# Phase 1: any braced reference; namespaced ones are picked out in code.
_BRACED = re.compile(r"\$\{([^}]+)\}")
# Phase 2 (Dagu's reQuotedJSONRef).
_QUOTED_REF = re.compile(r'"\$\{([A-Za-z0-9_]\w*(?:\.[^}]+)?)\}"', re.ASCII)
# Phase 3 (Dagu's reJSONPathRef): the unbraced form takes everything up to whitespace.
_DOTTED_REF = re.compile(
    r"\$\{([A-Za-z0-9_]\w*)(\.[^}]+)\}|\$([A-Za-z0-9_]\w*)(\.[^\s]+)", re.ASCII
)
# Phase 4 (Dagu V3's reVarSubstitution).
_VAR_REF = re.compile(r"\$\{([^}]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$([0-9]+)")

# One jq path step: .name  ."name"  .[0]  [0]  .["name"]  ["name"]
_PATH_STEP = re.compile(
    r'\.([A-Za-z_][A-Za-z0-9_]*)'
    r'|\."((?:[^"\\]|\\.)*)"'
    r'|\.?\[\s*(-?[0-9]+)\s*\]'
    r'|\.?\[\s*"((?:[^"\\]|\\.)*)"\s*\]'
)

_NIL = "<nil>"  # how Go's %v prints a JSON null, and what Dagu substitutes for it


# --------------------------------------------------------------------------- Go formatting


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) > 0, and the decimal point position."""
    mantissa, _, exponent = repr(abs(f)).partition("e")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = whole + frac
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0") or "0", point


def _fixed(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _sci(digits: str, point: int, min_exp_digits: int) -> str:
    exp = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{head}e{'-' if exp < 0 else '+'}{abs(exp):0{min_exp_digits}d}"


def _go_float_v(f: float) -> str:
    """Go's fmt %v of a float64: strconv 'g' with shortest digits, exponent form when the
    decimal exponent is < -4 or >= 6 (8080 -> "8080", 1234567 -> "1.234567e+06")."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    digits, point = _shortest_digits(f)
    exp = point - 1
    body = _sci(digits, point, 2) if exp < -4 or exp >= 6 else _fixed(digits, point)
    return ("-" if f < 0 else "") + body


def _go_json_float(f: float) -> str:
    """encoding/json's rendering of a float64."""
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    digits, point = _shortest_digits(f)
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        body = _sci(digits, point, 1)
    else:
        body = _fixed(digits, point)
    return ("-" if f < 0 else "") + body


_JSON_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_json_string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    if any(c in s for c in _JSON_HTML):
        out = "".join(_JSON_HTML.get(c, c) for c in out)
    return out


def _go_json(v: object) -> str:
    """encoding/json.Marshal of a decoded JSON value (keys sorted, compact, HTML-escaped)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return _go_json_float(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _go_json_string(v)
    if isinstance(v, list):
        return "[" + ",".join(_go_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(_go_json_string(k) + ":" + _go_json(v[k]) for k in sorted(v)) + "}"
    return _go_json_string(str(v))


go_json = _go_json  # public name: step outputs are published as Go would marshal them


def _go_v(v: object) -> str:
    """fmt.Sprintf("%v") of a decoded JSON value."""
    if v is None:
        return _NIL
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return _go_float_v(v)
    if isinstance(v, list):
        return "[" + " ".join(_go_v(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_go_v(v[k])}" for k in sorted(v)) + "]"
    return str(v)


_GO_QUOTE_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_quote(s: str) -> str:
    """Go's strconv.Quote."""
    out = ['"']
    for c in s:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c.isprintable():  # same classes as Go's unicode.IsPrint
            out.append(c)
        elif c in _GO_QUOTE_ESC:
            out.append(_GO_QUOTE_ESC[c])
        else:
            o = ord(c)
            if o < 0x20 or o == 0x7F:
                out.append(f"\\x{o:02x}")
            elif 0xDC80 <= o <= 0xDCFF:  # an undecodable byte (surrogateescape)
                out.append(f"\\x{o - 0xDC00:02x}")
            elif 0xD800 <= o <= 0xDFFF:
                out.append("\\ufffd")
            elif o < 0x10000:
                out.append(f"\\u{o:04x}")
            else:
                out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_UNQUOTE_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


def _go_unquote(s: str) -> str | None:
    """Go's strconv.Unquote for a double-quoted literal; None where Go returns an error."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return None
    body = s[1:-1]
    if "\n" in body:
        return None
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            return None
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            return None
        e = body[i + 1]
        i += 2
        if e in _UNQUOTE_SIMPLE:
            out.append(_UNQUOTE_SIMPLE[e])
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            h = body[i:i + width]
            if len(h) != width or not all(ch in "0123456789abcdefABCDEF" for ch in h):
                return None
            i += width
            v = int(h, 16)
            if e == "x":
                out.append(v)
            elif v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                return None
            else:
                out += chr(v).encode("utf-8")
        elif e in "01234567":
            o = body[i - 1:i + 2]
            if len(o) != 3 or not all(ch in "01234567" for ch in o) or int(o, 8) > 255:
                return None
            i += 2
            out.append(int(o, 8))
        else:
            return None
    return out.decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------- JSON path


def _reject_constant(name: str) -> float:
    raise ValueError(name)  # Go's encoding/json rejects NaN / Infinity


def _load_json(value: str) -> tuple[bool, object]:
    try:
        # Go decodes every JSON number to float64.
        return True, json.loads(value, parse_int=float, parse_constant=_reject_constant)
    except (ValueError, TypeError, RecursionError):
        return False, None


def _unescape_json_str(s: str) -> str:
    return json.loads('"' + s + '"')


def json_path(value: str, path: str) -> str | None:
    """Value at a jq path (``.a.b[0].c``, ``.items.[1]``, ``."k"``, ``.["k"]``) inside the JSON
    text ``value``, rendered as Dagu renders it; None when Dagu would leave the reference as written
    (``value`` is not JSON, the path is not a supported jq path, or a step applies to the wrong type).

    Rendering (Dagu ``stringifyResolvedValue`` after gojq): strings unquoted; numbers as Go %v of
    a float64 (``8080``, ``1.5``, ``1.234567e+06``); ``true``/``false``; objects and arrays as
    compact JSON with sorted keys. A missing key or out-of-range index is jq ``null``, which
    Dagu prints as ``<nil>`` (it does NOT leave the reference untouched). A path not starting with
    ``.`` or ``[`` gets a leading ``.``. Supported jq subset: ``.name``, ``."name"``, ``.[N]``
    (negative N counts from the end), ``[N]``, ``.["name"]``, ``["name"]``."""
    ok, data = _load_json(value)
    if not ok:
        return None
    ok, data = select_path(data, path)
    return _render(data) if ok else None


def is_select_path(path: str) -> bool:
    """Whether ``path`` is in the jq subset ``json_path`` and ``select_path`` understand."""
    return select_path(None, path)[0]


def select_path(data: object, path: str) -> tuple[bool, object]:
    """The value at a jq path inside decoded JSON/YAML ``data``: ``(True, value)``, the value
    being None (jq ``null``) for a missing key or index; ``(False, None)`` when the path is not
    in the supported subset or steps into the wrong type. Subset: see ``json_path``."""
    if path and path[0] not in ".[":
        path = "." + path
    if not path or path == ".":
        return True, data
    pos = 0
    while pos < len(path):
        m = _PATH_STEP.match(path, pos)
        if m is None:
            return False, None
        pos = m.end()
        ident, qkey, index, bkey = m.groups()
        if index is not None:
            if data is None:
                continue
            if not isinstance(data, list):
                return False, None
            i = int(index)
            if i < 0:
                i += len(data)
            data = data[i] if 0 <= i < len(data) else None
        else:
            if ident is not None:
                key = ident
            else:
                try:
                    key = _unescape_json_str(qkey if qkey is not None else bkey)
                except ValueError:
                    return False, None
            if data is None:
                continue
            if not isinstance(data, dict):
                return False, None
            data = data.get(key)
    return True, data


def _render(data: object) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (dict, list)):
        return _go_json(data)
    return _go_v(data)


# --------------------------------------------------------------------------- expand helpers


def _escaped(text: str, i: int) -> bool:
    """The ``$`` at ``i`` is written ``\\$`` or is the second half of ``$$`` (left to the shell)."""
    j = i
    while j > 0 and text[j - 1] == "$":
        j -= 1
    run = i - j
    k = j
    while k > 0 and text[k - 1] == "\\":
        k -= 1
    if (j - k) % 2:
        if run == 0:
            return True
        run -= 1
    return run % 2 == 1


def _single_quoted_spans(text: str) -> list[tuple[int, int]]:
    """(open, close) indexes of shell single-quoted strings. Double quotes and backslash escapes
    outside single quotes are honoured; ``$'...'`` (ANSI-C quoting) does not count — Dagu
    expands variables there. An unterminated quote protects nothing."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    state = ""  # "", '"', "$'"
    while i < n:
        c = text[i]
        if state == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                state = ""
        elif state == "$'":
            if c == "\\":
                i += 1
            elif c == "'":
                state = ""
        elif c == "\\":
            i += 1
        elif c == '"':
            state = '"'
        elif c == "'":
            if i > 0 and text[i - 1] == "$" and not _escaped(text, i - 1):
                state = "$'"
            else:
                end = text.find("'", i + 1)
                if end < 0:
                    break
                spans.append((i, end))
                i = end
        i += 1
    return spans


def _in_spans(spans: list[tuple[int, int]], pos: int) -> bool:
    for a, b in spans:
        if a < pos < b:
            return True
        if a > pos:
            return False
    return False


def _get(variables: Mapping[str, str], key: str) -> str | None:
    try:
        return variables[key]
    except KeyError:
        return None


def _resolve_dotted(name: str, path: str, variables: Mapping[str, str]) -> str | None:
    value = _get(variables, name + path)
    if value is not None:
        return value
    prop, colon, spec = path.partition(":")
    if colon and "." not in prop[1:]:  # ${id.stdout:0:5}: a slice of a step property
        value = _get(variables, name + prop)
        return None if value is None else _slice(value, spec)
    for prop in (".output", ".outputs"):  # ${id.output.key}: a JSON path into a step property
        if path.startswith((prop + ".", prop + "[")):
            published = _get(variables, name + prop)
            if published is not None:
                value = json_path(published, path[len(prop):])
                if value is not None:
                    return value
    base = _get(variables, name)
    if base is None:
        return None
    return json_path(base, path)


def _slice(value: str, spec: str) -> str | None:
    """Dagu's `:start[:length]` on a step property (characters, not bytes); None when the
    spec is malformed (the reference then stays as written)."""
    parts = spec.split(":")
    if len(parts) > 2 or not _DIGITS.match(parts[0]) or (len(parts) == 2 and parts[1] and not _DIGITS.match(parts[1])):
        return None
    start = int(parts[0])
    if len(parts) == 2 and parts[1]:
        return value[start:start + int(parts[1])]
    return value[start:]


def _valid_var_name(key: str) -> bool:
    return bool(_IDENT.match(key) or _DIGITS.match(key))


def _substitute_backticks(text: str, backtick: Callable[[str], str]) -> str:
    """Dagu's substituteCommands: `` \\` `` is kept literally, an empty pair stays ``````,
    an unclosed backtick is kept as text."""
    out: list[str] = []
    cmd: list[str] = []
    in_cmd = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "`":
            (cmd if in_cmd else out).append("\\`")
            i += 2
            continue
        if c == "`":
            if in_cmd:
                command = "".join(cmd)
                out.append(backtick(command) if command else "``")
                cmd.clear()
                in_cmd = False
            else:
                in_cmd = True
        elif in_cmd:
            cmd.append(c)
        else:
            out.append(c)
        i += 1
    if in_cmd:
        out.append("`")
        out.extend(cmd)
    return "".join(out)


# --------------------------------------------------------------------------- expand


def expand(
    text: str,
    variables: Mapping[str, str],
    *,
    backtick: Callable[[str], str] | None = None,
    namespaces: Mapping[str, Mapping[str, str]] | None = None,
    keep_unknown: bool = True,
) -> str:
    """Replace the references Dagu would replace in ``text`` (a step command, script, condition…).

    ``variables``: everything visible as ``$NAME`` (DAG env, params with positional ones as
    ``"1"``, ``"2"``…, outputs of upstream steps, built-ins) plus, optionally, step properties as
    dotted keys (``"build.stdout"``, ``"build.stderr"``, ``"build.exitCode"``, ``"build.exit_code"``,
    ``"build.output"``, ``"build.outputs"``; ``${build.output.k}`` is a JSON path into ``"build.output"``).

    Rules:

    - ``${NAME}``, ``$NAME`` (``[A-Za-z_][A-Za-z0-9_]*``), ``$1``, ``$10``, ``${10}`` are replaced
      when the name is in ``variables``; otherwise left as written for the shell. As in Dagu,
      ``$10`` is the variable ``"10"`` (not ``${1}0``) and ``$1abc`` is never replaced.
    - Not replaced: plain references inside a shell single-quoted string (``'$1'``,
      ``'echo $X'``; ``$'...'`` is not protecting), ``\\$NAME`` and ``$$`` (left to the shell),
      ``$(...)``, POSIX forms such as ``${X:-d}`` or ``${#X}``.
    - Dotted ``${NAME.rest}`` / ``$NAME.rest`` (unbraced: ``rest`` runs to the next whitespace):
      the dotted key ``"NAME.rest"`` in ``variables`` first, else ``json_path(variables[NAME],
      ".rest")``; when neither resolves the text stays. Replaced inside single quotes too (Dagu).
    - ``"${REF}"`` exactly (double quotes around one braced reference): the value is inserted
      Go-quoted (``strconv.Quote``), e.g. a value ``a"b`` gives ``"a\\"b"``.
    - ``namespaces`` (Dagu V3 references, braced only): ``${ns.rest}`` with ``ns`` a key of
      ``namespaces`` is ``namespaces[ns][rest]`` — ``${params.x}`` -> ``namespaces["params"]["x"]``,
      ``${env.HOME}`` -> ``namespaces["env"]["HOME"]``, ``${context.run.status}`` ->
      ``namespaces["context"]["run.status"]``, ``${steps.build.outputs.image}`` ->
      ``namespaces["steps"]["build.outputs.image"]``. Blanks around the expression are ignored;
      ``${ns}`` alone is ``namespaces[ns][""]`` when that key exists. Replaced even inside single
      quotes. A missing key leaves the reference literally as written (no later phase touches
      it); an ``ns`` absent from ``namespaces`` is not a namespace reference at all.
    - Backticks: when ``backtick`` is given, each `` `cmd` `` (after the replacements above,
      quotes not considered, as in Dagu) becomes ``backtick(cmd)``; the callable runs it and
      returns stdout with surrounding whitespace trimmed (it may raise to fail the step).
      `` \\` ``, an empty pair and an unclosed backtick stay. With ``backtick=None`` backticks
      are left alone.
    - ``keep_unknown=False``: a plain reference (``$X``, ``${X}``, ``$1``) to an undefined name
      outside single quotes becomes "" (``os.ExpandEnv`` style) instead of staying.
    """
    if "$" not in text and ("`" not in text or backtick is None):
        return text
    protected: dict[str, str] = {}
    if namespaces and "${" in text:
        text = _expand_namespaces(text, namespaces, protected)
    if "$" in text:
        if '"${' in text:
            text = _QUOTED_REF.sub(lambda m: _quoted_ref(m, text, variables), text)
        if "." in text:
            text = _DOTTED_REF.sub(lambda m: _dotted_ref(m, text, variables), text)
        text = _expand_plain(text, variables, keep_unknown)
    if backtick is not None and "`" in text:
        text = _substitute_backticks(text, backtick)
    for token, original in protected.items():
        text = text.replace(token, original)
    return text


def _expand_namespaces(
    text: str, namespaces: Mapping[str, Mapping[str, str]], protected: dict[str, str]
) -> str:
    marker = "\x00"
    while marker in text:
        marker += "\x01"

    def replace(m: re.Match[str]) -> str:
        if _escaped(text, m.start()):
            return m.group(0)
        expr = m.group(1).strip()
        ns, _, rest = expr.partition(".")
        scope = namespaces.get(ns)
        if scope is None:
            return m.group(0)
        value = _get(scope, rest)
        if value is not None:
            return value
        if not rest:
            return m.group(0)  # ${ns} without a "" entry: an ordinary variable
        token = f"{marker}{len(protected)}{marker}"
        protected[token] = m.group(0)
        return token

    return _BRACED.sub(replace, text)


def _quoted_ref(m: re.Match[str], text: str, variables: Mapping[str, str]) -> str:
    if _escaped(text, m.start() + 1):
        return m.group(0)
    ref = m.group(1)
    name, dot, path = ref.partition(".")
    value = _resolve_dotted(name, "." + path, variables) if dot else _get(variables, ref)
    return m.group(0) if value is None else _go_quote(value)


def _dotted_ref(m: re.Match[str], text: str, variables: Mapping[str, str]) -> str:
    if _escaped(text, m.start()):
        return m.group(0)
    if m.group(1) is not None:
        name, path = m.group(1), m.group(2)
    else:
        name, path = m.group(3), m.group(4)
    value = _resolve_dotted(name, path, variables)
    return m.group(0) if value is None else value


def _expand_plain(text: str, variables: Mapping[str, str], keep_unknown: bool) -> str:
    spans = _single_quoted_spans(text) if "'" in text else []

    def replace(m: re.Match[str]) -> str:
        start = m.start()
        if _escaped(text, start) or (spans and _in_spans(spans, start)):
            return m.group(0)
        key = m.group(1) or m.group(2) or m.group(3)
        if m.group(1) is not None and not _valid_var_name(key):
            return m.group(0)
        if m.group(3) is not None:
            end = m.end()
            if end < len(text) and (text[end].isascii() and (text[end].isalnum() or text[end] == "_")):
                return m.group(0)  # $1abc: not a Dagu reference
        value = _get(variables, key)
        if value is not None:
            return value
        return m.group(0) if keep_unknown else ""

    return _VAR_REF.sub(replace, text)


# --------------------------------------------------------------------------- params

_WS = "\t\n\f\r "
# Dagu's paramRegex (v2.x), plus a single-quoted alternative so 'a b' stays one token.
_PARAM = re.compile(
    rf"(?:([^{_WS}=]+)=)?"
    rf"(\"(?:\\\"|[^\"])*\"|`[^`]*`|'[^']*'|[^\"{_WS}]+)"
)


def parse_params(text: str) -> list[tuple[str | None, str]]:
    """Split a Dagu ``params:`` string into ``(name or None, raw value)`` tokens, in order.
    Nothing is evaluated.

    Tokenising is Dagu's regex: ``KEY=VALUE`` (KEY = any run without blanks or ``=``) or a
    positional VALUE; VALUE is a double-quoted string (quotes removed, Go escapes such as ``\\"``
    and ``\\n`` decoded; if that fails Dagu's fallback strips the quotes and turns ``\\"`` into
    ``"``), a backtick group (kept with its backticks, blanks inside allowed), or a run without
    blanks and ``"``. Extension over Dagu: a single-quoted group ``'a b'`` is one token and KEEPS
    its quotes (Dagu keeps the quotes of ``X='a'`` too, and ``expand`` then leaves ``'$X'``
    literal). A text that is a JSON object or array (after trimming) is read as JSON: an object
    gives named params in sorted key order, an array gives a positional param per string/number
    and named ones per object; non-string values are rendered with Go's %v (``30``, ``true``).
    """
    stripped = text.strip()
    if stripped and (
        (stripped[0] == "{" and stripped[-1] == "}") or (stripped[0] == "[" and stripped[-1] == "]")
    ):
        ok, data = _load_json(stripped)
        if ok and isinstance(data, (dict, list)):
            return _json_params(data)
    tokens: list[tuple[str | None, str]] = []
    for m in _PARAM.finditer(stripped):
        key, value = m.group(1), m.group(2)
        if value.startswith('"'):
            unquoted = _go_unquote(value)
            value = unquoted if unquoted is not None else value.strip('"').replace('\\"', '"')
        tokens.append((key or None, value))
    return tokens


def _json_params(data: dict | list) -> list[tuple[str | None, str]]:
    def scalar(v: object) -> str:
        return v if isinstance(v, str) else _go_v(v)

    if isinstance(data, dict):
        return [(k, scalar(data[k])) for k in sorted(data)]
    tokens: list[tuple[str | None, str]] = []
    for item in data:
        if isinstance(item, dict):
            tokens.extend((k, scalar(item[k])) for k in sorted(item))
        else:
            tokens.append((None, scalar(item)))
    return tokens


def resolve_params(
    tokens: Sequence[tuple[str | None, str]],
    *,
    overrides: Sequence[tuple[str | None, str]] = (),
    env: Mapping[str, str],
    backtick: Callable[[str], str] | None = None,
) -> list[tuple[str, str]]:
    """Evaluate params in order and return ``(name, value)`` pairs.

    Naming: a positional token is named by its position among ALL tokens (1-based), as Dagu does
    in every version (``parseParams``: ``strconv.Itoa(index + 1)``): ``a K=v b`` gives
    ``1=a K=v 3=b``.

    Evaluation (the v1 model; v2.x keeps string params literal): each value is ``expand``-ed
    with ``env`` plus the params resolved before it, running backticks when ``backtick`` is
    given. While evaluating, ``$N`` of a named token at position N is ``"KEY=VALUE"`` (v1's
    accumulated variables), it is not returned as a param.

    Overrides (CLI ``-- ...``), applied before evaluation, their values taken literally and seen by
    later params: a named override replaces the value of the param with that name (``"2"``
    targets the second token) or is appended; the k-th positional override replaces the value of
    the k-th token whatever its kind, keeping its name (v2.x), or is appended as a positional
    param when there are fewer tokens. Dagu v2 would reject unknown named overrides; here they
    are appended.
    """
    names: list[str] = []
    raws: list[str | None] = []
    named: list[bool] = []
    given: list[str | None] = []
    for i, (key, raw) in enumerate(tokens):
        names.append(key if key else str(i + 1))
        raws.append(raw)
        named.append(bool(key))
        given.append(None)
    declared = len(names)
    position = 0
    for key, value in overrides:
        if not key:
            if position < declared:
                given[position] = value
            else:
                names.append(str(len(names) + 1))
                raws.append(None)
                named.append(False)
                given.append(value)
            position += 1
            continue
        try:
            index = names.index(key)
        except ValueError:
            names.append(key)
            raws.append(None)
            named.append(True)
            given.append(value)
        else:
            given[index] = value

    scope = dict(env)
    resolved: list[tuple[str, str]] = []
    for i, name in enumerate(names):
        value = given[i]
        if value is None:
            value = expand(raws[i] or "", scope, backtick=backtick)
        resolved.append((name, value))
        if named[i] and name != str(i + 1):
            scope[str(i + 1)] = f"{name}={value}"
        scope[name] = value
    return resolved


# --------------------------------------------------------------------------- preconditions


def match_expected(actual: str, expected: str) -> bool:
    """Precondition ``expected`` test, as Dagu's ``stringutil.MatchPattern`` with exact match.

    ``actual`` is read line by line (``\\n`` separated, a trailing ``\\r`` dropped, no empty
    last line after a final newline); the test holds when ANY line equals ``expected`` or, for
    ``re:PATTERN``, when ``re.search(PATTERN, line)`` finds a match on any line (unanchored).
    An empty ``actual`` matches ``""`` and patterns that match ``""``. An invalid pattern never
    matches. (Python ``re`` stands in for Go RE2: same syntax for the common subset.)
    """
    lines = actual.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if expected.startswith("re:"):
        try:
            pattern = re.compile(expected[3:])
        except re.error:
            return False
        if not lines:
            return pattern.search("") is not None
        return any(pattern.search(line) is not None for line in lines)
    if not lines:
        return expected == ""
    return expected in lines
