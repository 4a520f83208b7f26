"""Dagu's variable language (``${…}``, ``$NAME``, backticks, ``params:``), evaluated the way Dagu evaluates it (research/dagu.md §2.7-2.10).

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

import re
from typing import Any, Callable, Mapping, Sequence

from flowport.lang import gofmt
from flowport.lang.errors import ExpressionError
from flowport.lang.paths import json_path
from flowport.lang.regex import compile_go

__all__ = ["expand", "go_json", "match_expected", "output_matches", "parse_params", "resolve_params"]

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


def go_json(v: Any) -> str:
    """A step output published as Go's ``json.Marshal`` writes it (keys sorted, compact,
    HTML-escaped); values JSON has no form for (dates read from YAML…) as their text."""
    return gofmt.json_marshal(v, default=str)


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
    return m.group(0) if value is None else gofmt.quote(value)


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
        try:
            data = gofmt.json_unmarshal(stripped)
        except ValueError:
            data = None
        if isinstance(data, (dict, list)):
            return _json_params(data)
    tokens: list[tuple[str | None, str]] = []
    for m in _PARAM.finditer(stripped):
        key, value = m.group(1), m.group(2)
        if value.startswith('"'):
            unquoted = gofmt.unquote(value)
            value = unquoted if unquoted is not None else value.strip('"').replace('\\"', '"')
        tokens.append((key or None, value))
    return tokens


def numbered_params(text: str) -> list[tuple[str, str]]:
    """``parse_params`` with the names Dagu gives: a positional param is named by its place
    among ALL params, 1-based (spec/params.go parseParams ``strconv.Itoa(index + 1)``), so
    ``a K=v b`` gives ``1``, ``K``, ``3``, the names ``$1``/``$3`` and overrides use."""
    return [(key or str(i), value) for i, (key, value) in enumerate(parse_params(text), start=1)]


def _json_params(data: dict | list) -> list[tuple[str | None, str]]:
    def scalar(v: object) -> str:
        return v if isinstance(v, str) else gofmt.format_v(v)

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
    matches (Dagu logs it and goes on). Patterns run on RE2, as Go's ``regexp``.
    """
    lines = actual.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if expected.startswith("re:"):
        try:
            pattern = compile_go(expected[3:])
        except ExpressionError:
            return False
        if not lines:
            return pattern.search("")
        return any(pattern.search(line) for line in lines)
    if not lines:
        return expected == ""
    return expected in lines


def output_matches(pattern: str, log_text: str) -> bool:
    """``continueOn.output`` test of one pattern against a step's log: a substring, or for
    ``re:PATTERN`` an RE2 search with ``^``/``$`` at line breaks. An invalid pattern never
    matches (Dagu's MatchPattern logs it and goes on)."""
    if not pattern.startswith("re:"):
        return pattern in log_text
    try:
        return compile_go(pattern[3:], multiline=True).search(log_text)
    except ExpressionError:
        return False
