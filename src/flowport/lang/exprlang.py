"""A subset of expr-lang (github.com/expr-lang/expr v1.17) as Argo Workflows uses it.

Argo evaluates ``{{=...}}`` tags, lifecycle-hook ``expression``, ``retryStrategy.expression``,
``valueFrom.expression`` and (after its own rewriting) ``depends`` with expr-lang, in an
environment of nested maps built from its flat dotted variables, plus ``asInt``, ``asFloat``,
``jsonpath``, ``toJson`` and ``sprig.<fn>`` (``util/expr/env/env.go``).

Supported: literals (ints incl. ``0x``/``0o``/``0b``/``_``, floats, ``'...'``, ``"..."`` and
backtick strings, ``true false nil``, arrays ``[..]``, maps ``{k: v}``), identifiers, member
access ``a.b``, ``a?.b``, ``a["b"]``, indexing (negative indexes), slices ``a[1:2]``; operators
``?:``, ``??``, ``or ||``, ``and &&``, ``== != < <= > >= in not in matches contains startsWith
endsWith``, ``..`` ranges, ``+ - * / % ** ^``, unary ``- + ! not``; function calls (builtins
below, ``sprig.<fn>``, and callables found in the environment).

Semantics follow expr-lang's runtime: ints and floats compare by value, values of other
different types are simply unequal, ``/`` always yields a float, ``%`` needs ints, ``and``/``or``
need bools, ``<`` etc. need two numbers or two strings.

Environment lookup (flowport's choice, see ``Expr.evaluate``): a name chain such as
``steps.x.status`` or ``tasks["step-1"].outputs.result`` is looked up first as the longest flat
dotted key present (``"steps.x.status"``, which is how Argo names its variables), then by walking
nested mappings. Missing names, missing map keys and members of nil are nil (expr-lang raises
"cannot fetch ... from <nil>" for the last; Argo hands skipped outputs to expressions as nil, and
``x ?? 'default'`` is the documented idiom).
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

__all__ = [
    "Expr",
    "ExpressionError",
    "compile_expr",
    "go_format",
    "go_json",
    "jsonpath_lookup",
]


class ExpressionError(ValueError):
    """Invalid expression, or an expression that failed to evaluate.

    ``position`` is the 0-based offset in the expression text when known.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class _RuntimeError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Go formatting


def _go_float_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) and the decimal point position."""
    r = repr(abs(f))
    if "e" in r:
        mant, exp_s = r.split("e")
        exp = int(exp_s)
    else:
        mant, exp = r, 0
    if "." in mant:
        int_part, frac = mant.split(".")
    else:
        int_part, frac = mant, ""
    digits = int_part + frac
    dp = len(int_part) + exp
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    return digits, dp


def _go_exp_format(digits: str, dp: int, neg: bool) -> str:
    exp = dp - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if exp < 0 else "+"
    return ("-" if neg else "") + f"{mant}e{sign}{abs(exp):02d}"


def _go_fixed_format(digits: str, dp: int, neg: bool) -> str:
    if dp <= 0:
        s = "0." + "0" * (-dp) + digits
    elif dp >= len(digits):
        s = digits + "0" * (dp - len(digits))
    else:
        s = digits[:dp] + "." + digits[dp:]
    return ("-" if neg else "") + s


def go_float(f: float) -> str:
    """Go's ``%v`` / ``strconv.FormatFloat(f, 'g', -1, 64)`` for a float64."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = math.copysign(1.0, f) < 0
    if f == 0:
        return "-0" if neg else "0"
    digits, dp = _go_float_digits(f)
    exp = dp - 1
    # strconv 'g' with the shortest precision decides with eprec = 6 (ftoa.go).
    if exp < -4 or exp >= 6:
        return _go_exp_format(digits, dp, neg)
    return _go_fixed_format(digits, dp, neg)


def go_format(v: Any) -> str:
    """Go ``fmt.Sprintf("%v", v)`` for the values expressions produce."""
    if v is None:
        return "<nil>"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_format(x) for x in v) + "]"
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: go_format(kv[0]))
        return "map[" + " ".join(f"{go_format(k)}:{go_format(x)}" for k, x in items) + "]"
    if isinstance(v, re.Pattern):
        return v.pattern
    return str(v)


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _go_json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        esc = _JSON_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_json_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise _RuntimeError(f"json: unsupported value: {go_float(f)}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    neg = f < 0
    digits, dp = _go_float_digits(f)
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        s = _go_exp_format(digits, dp, neg)
        # encoding/json: e-07 -> e-7
        return re.sub(r"e([+-])0(\d)$", r"e\1\2", s)
    return _go_fixed_format(digits, dp, neg)


def go_json(v: Any, indent: str | None = None, _level: int = 0) -> str:
    """Go ``json.Marshal`` (map keys sorted, HTML characters escaped); ``indent`` = MarshalIndent."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _go_json_float(v)
    if isinstance(v, str):
        return _go_json_string(v)
    nl = sep = ""
    if indent is not None:
        nl = "\n" + indent * (_level + 1)
        sep = " "
    end = "\n" + indent * _level if indent is not None else ""
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        return "[" + ",".join(nl + go_json(x, indent, _level + 1) for x in v) + end + "]"
    if isinstance(v, Mapping):
        if not v:
            return "{}"
        items = sorted(((str(k), x) for k, x in v.items()), key=lambda kv: kv[0])
        return (
            "{"
            + ",".join(f"{nl}{_go_json_string(k)}:{sep}{go_json(x, indent, _level + 1)}" for k, x in items)
            + end
            + "}"
        )
    raise _RuntimeError(f"json: unsupported type: {type(v).__name__}")


def _go_quote(s: str) -> str:
    """Go ``%q`` / ``strconv.Quote``."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif not ch.isprintable() and o > 0x7F:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_loads(s: str) -> Any:
    """Go ``json.Unmarshal`` into ``interface{}``: every number becomes a float64."""
    try:
        return json.loads(s, parse_int=float, parse_constant=_reject_constant)
    except (ValueError, TypeError) as exc:
        raise _RuntimeError(f"invalid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


# --------------------------------------------------------------------------------------------
# JSONPath (Argo's jsonpath(): json.Unmarshal then github.com/evilmonkeyinc/jsonpath Query --
# oliveagle/jsonpath in older releases); simple paths only, no filters or scripts

_JP_TOKEN = re.compile(
    r"""\.\.(?P<deep>[A-Za-z_$][\w$-]*|\*)
      | \.(?P<name>[A-Za-z_$@][\w$@-]*|\*)
      | \[\s*(?P<bracket>[^\]]*)\s*\]""",
    re.VERBOSE,
)


def jsonpath_lookup(data: Any, path: str) -> Any:
    """Evaluate a simple JSONPath (``$``, ``.a``, ``['a']``, ``[0]``, ``[-1]``, ``[*]``, ``[0:2]``,
    ``[0,2]``, ``..a``) on decoded JSON. A wildcard/slice/deep step yields a list."""
    path = path.strip()
    if not path.startswith("$"):
        raise _RuntimeError(f"jsonpath: path must start with $: {path!r}")
    pos = 1
    values: list[Any] = [data]
    multi = False
    while pos < len(path):
        m = _JP_TOKEN.match(path, pos)
        if not m:
            raise _RuntimeError(f"jsonpath: cannot parse {path[pos:]!r} in {path!r}")
        pos = m.end()
        nxt: list[Any] = []
        if m["deep"] is not None:
            multi = True
            key = m["deep"]
            for v in values:
                _jp_deep(v, key, nxt)
        elif m["name"] is not None:
            key = m["name"]
            if key == "*":
                multi = True
                for v in values:
                    nxt.extend(_jp_children(v))
            else:
                for v in values:
                    nxt.append(_jp_key(v, key))
        else:
            inner = m["bracket"].strip()
            if inner == "*":
                multi = True
                for v in values:
                    nxt.extend(_jp_children(v))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                for v in values:
                    nxt.append(_jp_key(v, inner[1:-1]))
            elif ":" in inner:
                multi = True
                parts = inner.split(":")
                try:
                    bounds = [int(p) if p.strip() else None for p in parts]
                except ValueError:
                    raise _RuntimeError(f"jsonpath: bad slice [{inner}]") from None
                for v in values:
                    if not isinstance(v, list):
                        raise _RuntimeError(f"jsonpath: object is not a list: {go_format(v)}")
                    nxt.extend(v[slice(*bounds)])
            elif "," in inner:
                multi = True
                for v in values:
                    for part in inner.split(","):
                        nxt.append(_jp_index(v, part.strip()))
            else:
                for v in values:
                    nxt.append(_jp_index(v, inner))
        values = nxt
    if multi:
        return values
    return values[0]


def _jp_key(v: Any, key: str) -> Any:
    if not isinstance(v, Mapping):
        raise _RuntimeError(f"jsonpath: object is not a map: {go_format(v)}")
    if key not in v:
        raise _RuntimeError(f"key error: {key} not found in object")
    return v[key]


def _jp_index(v: Any, text: str) -> Any:
    try:
        i = int(text)
    except ValueError:
        raise _RuntimeError(f"jsonpath: unsupported index [{text}]") from None
    if not isinstance(v, list):
        raise _RuntimeError(f"jsonpath: object is not a list: {go_format(v)}")
    if i < 0:
        i += len(v)
    if not 0 <= i < len(v):
        raise _RuntimeError("index out of range")
    return v[i]


def _jp_children(v: Any) -> list[Any]:
    if isinstance(v, list):
        return list(v)
    if isinstance(v, Mapping):
        return [v[k] for k in sorted(v)]
    return []


def _jp_deep(v: Any, key: str, out: list[Any]) -> None:
    if isinstance(v, Mapping):
        for k in sorted(v):
            if key == "*" or k == key:
                out.append(v[k])
        for k in sorted(v):
            _jp_deep(v[k], key, out)
    elif isinstance(v, list):
        for x in v:
            if key == "*":
                out.append(x)
            _jp_deep(x, key, out)


# --------------------------------------------------------------------------------------------
# Lexer

_KEYWORD_OPS = {"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"}
_PUNCT = [
    "...", "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "**", "..",
    "<", ">", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "%",
    "^", "|", "#",
]
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+"
    r"|(?:[0-9][0-9_]*)?(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?"
)
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "num", "str", "ident", "op", "eof"
    value: Any
    pos: int


def _unescape(body: str, quote: str, start: int) -> str:
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            raise ExpressionError(f"literal not terminated ({_pos_str(start)})", start)
        e = body[i]
        simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
                  "\\": "\\", "'": "'", '"': '"', "`": "`"}
        if e in simple:
            out.append(simple[e])
            i += 1
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            hexd = body[i + 1:i + 1 + width]
            if len(hexd) != width or not all(ch in "0123456789abcdefABCDEF" for ch in hexd):
                raise ExpressionError(f"invalid char escape ({_pos_str(start + i)})", start + i)
            out.append(chr(int(hexd, 16)))
            i += 1 + width
        elif e in "01234567":
            octd = body[i:i + 3]
            if len(octd) != 3 or not all(ch in "01234567" for ch in octd):
                raise ExpressionError(f"invalid char escape ({_pos_str(start + i)})", start + i)
            out.append(chr(int(octd, 8)))
            i += 3
        else:
            raise ExpressionError(f"invalid char escape ({_pos_str(start + i)})", start + i)
    return "".join(out)


def _pos_str(pos: int) -> str:
    return f"1:{pos + 1}"


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit() and not (toks and toks[-1].kind in ("ident", "num") or (toks and toks[-1].value in (")", "]")))):
            m = _NUMBER.match(text, i)
            raw = m.group(0) if m else ""
            # "1..3" is a range: do not eat the first dot
            if ".." in raw or (raw.endswith(".") and text[i + len(raw):i + len(raw) + 1] == "."):
                raw = raw.split(".")[0]
            if not raw:
                raw = c
            # a number directly followed by a member access like 1.foo is not valid anyway
            clean = raw.replace("_", "")
            try:
                low = clean.lower()
                if low.startswith("0x"):
                    val: Any = int(clean[2:], 16)
                elif low.startswith("0o"):
                    val = int(clean[2:], 8)
                elif low.startswith("0b"):
                    val = int(clean[2:], 2)
                elif any(ch in clean for ch in ".eE"):
                    val = float(clean)
                else:
                    val = int(clean)
            except ValueError:
                raise ExpressionError(f"invalid number {raw!r} ({_pos_str(i)})", i) from None
            toks.append(_Tok("num", val, i))
            i += len(raw)
            continue
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    break
                j += 1
            if j >= n or text[j] != c:
                raise ExpressionError(f"literal not terminated ({_pos_str(i)})", i)
            toks.append(_Tok("str", _unescape(text[i + 1:j], c, i + 1), i))
            i = j + 1
            continue
        if c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise ExpressionError(f"literal not terminated ({_pos_str(i)})", i)
            toks.append(_Tok("str", text[i + 1:j], i))
            i = j + 1
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m.group(0)
            toks.append(_Tok("ident", word, i))
            i = m.end()
            continue
        for p in _PUNCT:
            if text.startswith(p, i):
                toks.append(_Tok("op", p, i))
                i += len(p)
                break
        else:
            raise ExpressionError(f"unrecognized character: U+{ord(c):04X} '{c}' ({_pos_str(i)})", i)
    toks.append(_Tok("eof", None, n))
    return toks


# --------------------------------------------------------------------------------------------
# AST: tuples (tag, ...). Tags:
#   ("lit", value) ("arr", items) ("map", [(key_node, value_node)]) ("path", root, keys, pos)
#   ("name", name, pos) ("member", obj, key_node, pos) ("slice", obj, lo, hi, pos)
#   ("unary", op, operand, pos) ("bin", op, left, right, pos) ("cond", c, a, b, pos)
#   ("call", callee, args, pos) ("ptr", member|None) ("closure", body)

_BINARY = {
    "or": 10, "||": 10,
    "and": 15, "&&": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, ">=": 20, "<=": 20,
    "in": 20, "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
    "..": 25,
    "+": 30, "-": 30,
    "*": 60, "/": 60, "%": 60,
    "**": 100, "^": 100,
    "??": 500,
}
_RIGHT_ASSOC = {"**", "^"}
_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
_NORMALIZE = {"or": "||", "and": "&&", "not": "!", "^": "**"}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _lex(text)
        self.i = 0
        self.closure_depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def error(self, msg: str, tok: _Tok | None = None) -> ExpressionError:
        t = tok or self.tok
        return ExpressionError(f"{msg} ({_pos_str(t.pos)})", t.pos)

    def is_op(self, value: str, tok: _Tok | None = None) -> bool:
        t = tok or self.tok
        return t.kind == "op" and t.value == value

    def expect(self, value: str) -> _Tok:
        if not self.is_op(value):
            found = "end of expression" if self.tok.kind == "eof" else repr(self.tok.value)
            raise self.error(f"unexpected token {found}, expected {value!r}")
        t = self.tok
        self.i += 1
        return t

    def parse(self):
        if self.tok.kind == "eof":
            raise self.error("unexpected end of expression")
        node = self.expression(0)
        if self.tok.kind != "eof":
            raise self.error(f"unexpected token {self.tok.value!r}")
        return node

    def binary_op(self) -> tuple[str, int] | None:
        t = self.tok
        if t.kind == "op" and t.value in _BINARY:
            return t.value, _BINARY[t.value]
        if t.kind == "ident" and t.value in _BINARY:
            return t.value, _BINARY[t.value]
        if t.kind == "ident" and t.value == "not":
            nxt = self.toks[self.i + 1]
            if nxt.kind == "ident" and nxt.value in ("in", "matches", "contains", "startsWith", "endsWith"):
                return "not " + nxt.value, 20
        return None

    def expression(self, min_prec: int):
        node = self.unary()
        while True:
            if min_prec == 0 and self.is_op("|"):  # a | f(b) == f(a, b)
                bar = self.tok
                self.i += 1
                t = self.tok
                if t.kind != "ident" or not self.is_op("(", self.toks[self.i + 1]):
                    raise self.error("expected a function call after '|'", t)
                self.i += 1
                call = self.call(("name", t.value, t.pos), t, piped=True)
                node = ("call", call[1], [node, *call[2]], bar.pos)
                continue
            found = self.binary_op()
            if found is None or found[1] < min_prec:
                break
            op, prec = found
            op_tok = self.tok
            self.i += 2 if op.startswith("not ") else 1
            next_prec = prec if op in _RIGHT_ASSOC else prec + 1
            right = self.expression(next_prec)
            node = ("bin", _NORMALIZE.get(op, op), node, right, op_tok.pos)
        if min_prec == 0 and self.is_op("?"):
            q = self.tok
            self.i += 1
            if self.is_op(":"):  # a ?: b  (Elvis)
                self.i += 1
                other = self.expression(0)
                return ("bin", "?:", node, other, q.pos)
            yes = self.expression(0)
            self.expect(":")
            no = self.expression(0)
            return ("cond", node, yes, no, q.pos)
        return node

    def unary(self):
        t = self.tok
        if (t.kind == "op" and t.value in ("!", "-", "+")) or (t.kind == "ident" and t.value == "not"):
            self.i += 1
            operand = self.expression(_UNARY[t.value])
            return ("unary", _NORMALIZE.get(t.value, t.value), operand, t.pos)
        return self.postfix(self.primary())

    def primary(self):
        t = self.tok
        if t.kind == "num" or t.kind == "str":
            self.i += 1
            return ("lit", t.value)
        if t.kind == "ident":
            self.i += 1
            if t.value == "true":
                return ("lit", True)
            if t.value == "false":
                return ("lit", False)
            if t.value in ("nil", "null"):
                return ("lit", None)
            if t.value in _KEYWORD_OPS:
                raise self.error(f"unexpected token {t.value!r}", t)
            if self.is_op("("):
                return self.call(("name", t.value, t.pos), t)
            return ("name", t.value, t.pos)
        if t.kind == "op":
            if t.value == "(":
                self.i += 1
                node = self.expression(0)
                self.expect(")")
                return node
            if t.value == "[":
                self.i += 1
                items = []
                while not self.is_op("]"):
                    items.append(self.expression(0))
                    if not self.is_op("]"):
                        self.expect(",")
                self.i += 1
                return ("arr", items)
            if t.value == "{":
                self.i += 1
                pairs = []
                while not self.is_op("}"):
                    kt = self.tok
                    if kt.kind in ("ident", "str", "num"):
                        self.i += 1
                        key = ("lit", kt.value)
                    elif self.is_op("("):
                        self.i += 1
                        key = self.expression(0)
                        self.expect(")")
                    else:
                        raise self.error("a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses")
                    self.expect(":")
                    pairs.append((key, self.expression(0)))
                    if not self.is_op("}"):
                        self.expect(",")
                self.i += 1
                return ("map", pairs)
            if t.value == "#":
                if self.closure_depth == 0:
                    raise self.error("cannot use pointer accessor outside predicate")
                self.i += 1
                if self.tok.kind == "ident" and self.toks[self.i - 1].pos + 1 == self.tok.pos:
                    name = self.tok.value
                    self.i += 1
                    return ("ptr", name)
                return ("ptr", None)
            if t.value == "." and self.closure_depth > 0:
                # ".field" inside a predicate means "#.field"
                self.i += 1
                if self.tok.kind != "ident":
                    raise self.error("expected name")
                name = self.tok.value
                self.i += 1
                return ("member", ("ptr", None), ("lit", name), t.pos, False)
        if t.kind == "eof":
            raise self.error("unexpected end of expression")
        raise self.error(f"unexpected token {t.value!r}")

    def postfix(self, node):
        while True:
            t = self.tok
            if self.is_op(".") or self.is_op("?."):
                optional = t.value == "?."
                self.i += 1
                nt = self.tok
                if nt.kind == "ident":
                    self.i += 1
                    member = ("member", node, ("lit", nt.value), nt.pos, optional)
                    if self.is_op("("):
                        node = self.call(member, nt)
                    else:
                        node = member
                    continue
                if optional and self.is_op("["):
                    continue  # a?.[x]
                raise self.error("expected name", nt)
            if self.is_op("["):
                self.i += 1
                if self.is_op(":"):
                    lo = None
                else:
                    lo = self.expression(0)
                if self.is_op(":"):
                    self.i += 1
                    hi = None if self.is_op("]") else self.expression(0)
                    self.expect("]")
                    node = ("slice", node, lo, hi, t.pos)
                    continue
                self.expect("]")
                node = ("member", node, lo, t.pos, False)
                continue
            return node

    def call(self, callee, name_tok: _Tok, piped: bool = False):
        self.expect("(")
        args = []
        fname = callee[1] if callee[0] == "name" else None
        predicate = fname in _PREDICATE_BUILTINS
        while not self.is_op(")"):
            if predicate and len(args) == (0 if piped else 1):
                self.closure_depth += 1
                if self.is_op("{"):
                    self.i += 1
                    body = self.expression(0)
                    self.expect("}")
                else:
                    body = self.expression(0)
                self.closure_depth -= 1
                args.append(("closure", body))
            else:
                args.append(self.expression(0))
            if not self.is_op(")"):
                self.expect(",")
        self.i += 1
        return ("call", callee, args, name_tok.pos)


def _fold_paths(node):
    """Turn constant member chains rooted at a name into ("path", root, keys, pos, optional)."""
    if not isinstance(node, tuple):
        return node
    tag = node[0]
    if tag == "member":
        obj = _fold_paths(node[1])
        key = _fold_paths(node[2])
        if obj[0] in ("name", "path") and key[0] == "lit" and isinstance(key[1], str):
            if obj[0] == "name":
                return ("path", obj[1], (key[1],), obj[2])
            return ("path", obj[1], obj[2] + (key[1],), obj[3])
        return ("member", obj, key, node[3], node[4])
    if tag == "name":
        return ("path", node[1], (), node[2])
    if tag == "call":
        return ("call", node[1] if node[1][0] == "name" else _fold_callee(node[1]),
                [_fold_paths(a) for a in node[2]], node[3])
    if tag == "closure":
        return ("closure", _fold_paths(node[1]))
    if tag in ("arr",):
        return ("arr", [_fold_paths(x) for x in node[1]])
    if tag == "map":
        return ("map", [(_fold_paths(k), _fold_paths(v)) for k, v in node[1]])
    if tag == "unary":
        return ("unary", node[1], _fold_paths(node[2]), node[3])
    if tag == "bin":
        return ("bin", node[1], _fold_paths(node[2]), _fold_paths(node[3]), node[4])
    if tag == "cond":
        return ("cond", _fold_paths(node[1]), _fold_paths(node[2]), _fold_paths(node[3]), node[4])
    if tag == "slice":
        return ("slice", _fold_paths(node[1]), _fold_paths(node[2]) if node[2] else None,
                _fold_paths(node[3]) if node[3] else None, node[4])
    return node


def _fold_callee(callee):
    # sprig.trim(...) and env-provided a.b(...) keep their member shape, folded.
    return _fold_paths(callee)


# --------------------------------------------------------------------------------------------
# Runtime helpers (expr-lang runtime semantics)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def _type_name(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if callable(v):
        return "func"
    return type(v).__name__


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    return a is b


def _deep_equal(a: Any, b: Any) -> bool:
    # reflect.DeepEqual inside collections: int 1 and float 1.0 differ.
    if _is_number(a) and _is_number(b):
        return type(a) is type(b) and a == b
    return _equal(a, b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b) or isinstance(a, str) and isinstance(b, str):
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        return a >= b
    raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(a)} and {_type_name(b)})")


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op == "+" and isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [*a, *b]
    if not (_is_number(a) and _is_number(b)):
        raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(a)} and {_type_name(b)})")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        a, b = float(a), float(b)
        if b == 0:
            if a == 0 or math.isnan(a):
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    if op == "%":
        if not (_is_int(a) and _is_int(b)):
            raise _RuntimeError(f"invalid operation: % (mismatched types {_type_name(a)} and {_type_name(b)})")
        if b == 0:
            raise _RuntimeError("integer divide by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if op == "**":
        try:
            return math.pow(float(a), float(b))
        except ZeroDivisionError:
            return math.inf
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    raise _RuntimeError(f"unknown operator {op}")


def _in(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(_equal(needle, x) for x in haystack)
    if isinstance(haystack, Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    raise _RuntimeError(f'operator "in" not defined on {_type_name(haystack)}')


def _need_str(op: str, a: Any, b: Any) -> None:
    if not (isinstance(a, str) and isinstance(b, str)):
        raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(a)} and {_type_name(b)})")


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    r = _REGEX_CACHE.get(pattern)
    if r is None:
        try:
            r = re.compile(go_regex_to_python(pattern))
        except re.error as exc:
            raise _RuntimeError(f"error parsing regexp: {exc}: `{pattern}`") from None
        if len(_REGEX_CACHE) < 512:
            _REGEX_CACHE[pattern] = r
    return r


def go_regex_to_python(pattern: str) -> str:
    """RE2 (Go regexp) and Python agree on the common syntax; translate RE2-only spellings:
    ``(?<name>...)`` named groups and the ``\\z`` end-of-text anchor."""
    pattern = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
    return pattern.replace("\\z", "\\Z")


def _index(obj: Any, key: Any) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        try:
            return obj.get(key)
        except TypeError:
            return None
    if isinstance(obj, (list, tuple, str)):
        if not _is_int(key):
            if isinstance(key, float) and key.is_integer():
                key = int(key)
            else:
                raise _RuntimeError(f"cannot use {_type_name(key)} as index to {_type_name(obj)}")
        i = key + len(obj) if key < 0 else key
        if not 0 <= i < len(obj):
            raise _RuntimeError(f"index out of range: {key} (array length is {len(obj)})")
        return obj[i]
    raise _RuntimeError(f"cannot fetch {go_format(key)} from {_type_name(obj)}")


def _to_int(v: Any, fname: str = "int") -> int:
    if isinstance(v, bool):
        raise _RuntimeError(f"invalid operation: {fname}(bool)")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(1 << 63)
        return int(v)
    if isinstance(v, str):
        if re.fullmatch(r"[+-]?[0-9]+", v):
            return int(v)
        raise _RuntimeError(f'invalid operation: {fname}("{v}")')
    raise _RuntimeError(f"invalid operation: {fname}({_type_name(v)})")


_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.?[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9]+)?|[0-9]+\.|inf(?:inity)?|nan)",
    re.IGNORECASE,
)


def _to_float(v: Any, fname: str = "float") -> float:
    if isinstance(v, bool):
        raise _RuntimeError(f"invalid operation: {fname}(bool)")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        if _GO_FLOAT.fullmatch(v):
            try:
                return float(v.replace("_", ""))
            except ValueError:
                pass
        raise _RuntimeError(f'strconv.ParseFloat: parsing "{v}": invalid syntax')
    raise _RuntimeError(f"invalid operation: {fname}({_type_name(v)})")


def _need_args(name: str, args: list, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if len(args) < lo:
        raise _RuntimeError(f"not enough arguments to call {name}")
    if len(args) > hi:
        raise _RuntimeError(f"too many arguments to call {name}")


def _strarg(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise _RuntimeError(f"invalid argument for {name} (type {_type_name(v)})")
    return v


def _listarg(name: str, v: Any) -> list:
    if isinstance(v, (list, tuple)):
        return list(v)
    raise _RuntimeError(f"invalid argument for {name} (type {_type_name(v)})")


def _go_split(s: str, sep: str, n: int = -1) -> list[str]:
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            return chars[: n - 1] + ["".join(chars[n - 1:])]
        return chars
    if n < 0:
        return s.split(sep)
    return s.split(sep, n - 1)


def _go_trim(s: str, cutset: str) -> str:
    return s.strip(cutset) if cutset else s


def _b_len(args):
    _need_args("len", args, 1)
    v = args[0]
    if isinstance(v, (str, list, tuple, Mapping)):
        return len(v)
    raise _RuntimeError(f"invalid argument for len (type {_type_name(v)})")


def _b_trim(args):
    _need_args("trim", args, 1, 2)
    s = _strarg("trim", args[0])
    return s.strip(" \t\n\r\v\f\u0085\u00a0") if len(args) == 1 else _go_trim(s, _strarg("trim", args[1]))


def _b_split(args):
    _need_args("split", args, 2, 3)
    n = _to_int(args[2]) if len(args) == 3 else -1
    return _go_split(_strarg("split", args[0]), _strarg("split", args[1]), n)


def _b_join(args):
    _need_args("join", args, 1, 2)
    sep = _strarg("join", args[1]) if len(args) == 2 else ""
    return sep.join(_strarg("join", x) for x in _listarg("join", args[0]))


def _b_replace(args):
    _need_args("replace", args, 3)
    return _strarg("replace", args[0]).replace(_strarg("replace", args[1]), _strarg("replace", args[2]))


def _b_max_min(name, args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = list(args[0])
    if not args:
        raise _RuntimeError(f"not enough arguments to call {name}")
    best = args[0]
    for v in args:
        if not _is_number(v):
            raise _RuntimeError(f"invalid argument for {name} (type {_type_name(v)})")
        if (name == "max" and v > best) or (name == "min" and v < best):
            best = v
    return best


def _b_round(args):
    _need_args("round", args, 1)
    f = _to_float(args[0], "round")
    if math.isnan(f) or math.isinf(f):
        return f
    return float(math.floor(abs(f) + 0.5)) * (1 if f >= 0 else -1)


def _b_to_json(args):
    _need_args("toJSON", args, 1)
    return go_json(args[0], indent="  ")


def _b_from_json(args):
    _need_args("fromJSON", args, 1)
    return _json_loads(_strarg("fromJSON", args[0]))


def _b_first_last(name, args):
    _need_args(name, args, 1)
    v = args[0]
    if v is None:
        return None
    seq = _listarg(name, v)
    if not seq:
        return None
    return seq[0] if name == "first" else seq[-1]


def _b_get(args):
    _need_args("get", args, 2)
    obj, key = args
    try:
        return _index(obj, key)
    except _RuntimeError:
        return None


def _b_keys_values(name, args):
    _need_args(name, args, 1)
    v = args[0]
    if not isinstance(v, Mapping):
        raise _RuntimeError(f"cannot get {name} from {_type_name(v)}")
    return list(v.keys()) if name == "keys" else list(v.values())


def _b_type(args):
    _need_args("type", args, 1)
    v = args[0]
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, Mapping):
        return "map"
    return "unknown"


def _b_abs(args):
    _need_args("abs", args, 1)
    v = args[0]
    if not _is_number(v):
        raise _RuntimeError(f"invalid argument for abs (type {_type_name(v)})")
    return abs(v)


def _b_sum(args):
    _need_args("sum", args, 1)
    total: Any = 0
    for v in _listarg("sum", args[0]):
        if not _is_number(v):
            raise _RuntimeError(f"invalid argument for sum (type {_type_name(v)})")
        total += v
    return total


def _b_concat(args):
    out: list = []
    for v in args:
        out.extend(_listarg("concat", v))
    return out


def _b_flatten(args):
    _need_args("flatten", args, 1)
    out: list = []

    def walk(v):
        for x in v:
            if isinstance(x, (list, tuple)):
                walk(x)
            else:
                out.append(x)

    walk(_listarg("flatten", args[0]))
    return out


def _b_uniq(args):
    _need_args("uniq", args, 1)
    out: list = []
    for v in _listarg("uniq", args[0]):
        if not any(_equal(v, x) for x in out):
            out.append(v)
    return out


def _b_sort(args):
    _need_args("sort", args, 1, 2)
    items = _listarg("sort", args[0])
    desc = len(args) == 2 and args[1] == "desc"
    if all(_is_number(x) for x in items) or all(isinstance(x, str) for x in items):
        return sorted(items, reverse=desc)
    raise _RuntimeError("sort: mixed or unsupported element types")


def _b_index_of(name, args):
    _need_args(name, args, 2)
    s, sub = _strarg(name, args[0]), _strarg(name, args[1])
    return s.find(sub) if name == "indexOf" else s.rfind(sub)


def _b_string(args):
    _need_args("string", args, 1)
    return go_format(args[0])


def _b_base64(name, args):
    _need_args(name, args, 1)
    s = _strarg(name, args[0])
    if name == "toBase64":
        return base64.b64encode(s.encode()).decode()
    try:
        return base64.b64decode(s.encode(), validate=True).decode()
    except Exception as exc:  # noqa: BLE001 - binascii.Error / UnicodeDecodeError
        raise _RuntimeError(f"illegal base64 data: {exc}") from None


def _argo_jsonpath(args):
    _need_args("jsonpath", args, 2)
    return jsonpath_lookup(_json_loads(_strarg("jsonpath", args[0])), _strarg("jsonpath", args[1]))


def _argo_to_json(args):
    _need_args("toJson", args, 1)
    return go_json(args[0])


_BUILTINS: dict[str, Callable[[list], Any]] = {
    "len": _b_len,
    "abs": _b_abs,
    "ceil": lambda a: (_need_args("ceil", a, 1), float(math.ceil(_to_float(a[0], "ceil"))))[1],
    "floor": lambda a: (_need_args("floor", a, 1), float(math.floor(_to_float(a[0], "floor"))))[1],
    "round": _b_round,
    "int": lambda a: (_need_args("int", a, 1), _to_int(a[0]))[1],
    "float": lambda a: (_need_args("float", a, 1), _to_float(a[0]))[1],
    "string": _b_string,
    "trim": _b_trim,
    "trimPrefix": lambda a: (_need_args("trimPrefix", a, 2), _strarg("trimPrefix", a[0]).removeprefix(_strarg("trimPrefix", a[1])))[1],
    "trimSuffix": lambda a: (_need_args("trimSuffix", a, 2), _strarg("trimSuffix", a[0]).removesuffix(_strarg("trimSuffix", a[1])))[1],
    "upper": lambda a: (_need_args("upper", a, 1), _strarg("upper", a[0]).upper())[1],
    "lower": lambda a: (_need_args("lower", a, 1), _strarg("lower", a[0]).lower())[1],
    "split": _b_split,
    "replace": _b_replace,
    "repeat": lambda a: (_need_args("repeat", a, 2), _strarg("repeat", a[0]) * max(0, _to_int(a[1])))[1],
    "join": _b_join,
    "indexOf": lambda a: _b_index_of("indexOf", a),
    "lastIndexOf": lambda a: _b_index_of("lastIndexOf", a),
    "hasPrefix": lambda a: (_need_args("hasPrefix", a, 2), _strarg("hasPrefix", a[0]).startswith(_strarg("hasPrefix", a[1])))[1],
    "hasSuffix": lambda a: (_need_args("hasSuffix", a, 2), _strarg("hasSuffix", a[0]).endswith(_strarg("hasSuffix", a[1])))[1],
    "max": lambda a: _b_max_min("max", a),
    "min": lambda a: _b_max_min("min", a),
    "sum": _b_sum,
    "toJSON": _b_to_json,
    "fromJSON": _b_from_json,
    "toBase64": lambda a: _b_base64("toBase64", a),
    "fromBase64": lambda a: _b_base64("fromBase64", a),
    "first": lambda a: _b_first_last("first", a),
    "last": lambda a: _b_first_last("last", a),
    "get": _b_get,
    "keys": lambda a: _b_keys_values("keys", a),
    "values": lambda a: _b_keys_values("values", a),
    "type": _b_type,
    "reverse": lambda a: (_need_args("reverse", a, 1), _listarg("reverse", a[0])[::-1])[1],
    "concat": _b_concat,
    "flatten": _b_flatten,
    "uniq": _b_uniq,
    "sort": _b_sort,
    # Argo additions (util/expr/env/env.go)
    "asInt": lambda a: (_need_args("asInt", a, 1), _to_int(a[0], "asInt"))[1],
    "asFloat": lambda a: (_need_args("asFloat", a, 1), _to_float(a[0], "asFloat"))[1],
    "jsonpath": _argo_jsonpath,
    "toJson": _argo_to_json,
}

_PREDICATE_BUILTINS = {"filter", "map", "all", "any", "none", "one", "count", "find", "findIndex",
                       "findLast", "findLastIndex"}


# --------------------------------------------------------------------------------------------
# sprig (github.com/Masterminds/sprig/v3, as exposed by Argo under ``sprig.``)


def _sprig_strval(v: Any) -> str:
    if v is None:
        return "<nil>"
    return go_format(v)


def _sprig_empty(v: Any) -> bool:
    if v is None or v is False:
        return True
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == 0
    if isinstance(v, (str, list, tuple, Mapping)):
        return len(v) == 0
    return False


def _cast_int64(v: Any) -> int:
    """spf13/cast ToInt64 (errors give 0)."""
    if v is None or v is False:
        return 0
    if v is True:
        return 1
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return 0
        return int(v)
    if isinstance(v, str):
        s = v
        if "." in s:  # trimZeroDecimal: "12.000" -> "12"
            head, _, tail = s.partition(".")
            if tail.strip("0") == "" and head:
                s = head
        try:
            return int(s, 0)
        except ValueError:
            return 0
    return 0


def _sprig_strslice(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [_sprig_strval(x) for x in v if x is not None]
    return [_sprig_strval(v)]


def _go_is_separator(ch: str) -> bool:
    # strings.Title's isSeparator
    if ord(ch) <= 0x7F:
        return not (ch.isascii() and (ch.isalnum() or ch == "_"))
    if ch.isalpha() or ch.isdecimal():
        return False
    return ch.isspace()


def _sprig_title(s: str) -> str:
    """Go ``strings.Title`` (sprig ``title``): upper-case the first letter after a separator."""
    out = []
    prev = " "
    for ch in s:
        out.append(ch.upper() if _go_is_separator(prev) and len(ch.upper()) == 1 else ch)
        prev = ch
    return "".join(out)


def _sprig_substr(start: Any, end: Any, s: Any) -> str:
    st, en, text = _cast_int64(start), _cast_int64(end), _sprig_strval(s)
    b = text.encode()
    if st < 0:
        return b[:en].decode(errors="replace")
    if en < 0 or en > len(b):
        return b[st:].decode(errors="replace")
    if st > en:
        raise _RuntimeError(f"slice bounds out of range [{st}:{en}]")
    return b[st:en].decode(errors="replace")


def _sprig_from_json(s: Any) -> Any:
    try:
        return json.loads(_sprig_strval(s), parse_int=float, parse_constant=_reject_constant)
    except ValueError:
        return None


def _sprig_to_json(v: Any) -> str:
    try:
        return go_json(v)
    except _RuntimeError:
        return ""


def _sprig_atoi(s: Any) -> int:
    text = _sprig_strval(s)
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else 0


def _sprig_div(a: Any, b: Any) -> int:
    x, y = _cast_int64(a), _cast_int64(b)
    if y == 0:
        raise _RuntimeError("integer divide by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _sprig_split(sep: Any, s: Any) -> dict[str, str]:
    parts = _sprig_strval(s).split(_sprig_strval(sep)) if _sprig_strval(sep) else list(_sprig_strval(s))
    return {f"_{i}": p for i, p in enumerate(parts)}


def _sprig_split_list(sep: Any, s: Any) -> list[str]:
    sep_s, text = _sprig_strval(sep), _sprig_strval(s)
    return text.split(sep_s) if sep_s else list(text)


_SPRIG: dict[str, Callable[..., Any]] = {
    "trim": lambda s: _sprig_strval(s).strip(" \t\n\r\v\f\u0085\u00a0"),
    "upper": lambda s: _sprig_strval(s).upper(),
    "lower": lambda s: _sprig_strval(s).lower(),
    "replace": lambda old, new, src: _sprig_strval(src).replace(_sprig_strval(old), _sprig_strval(new)),
    "contains": lambda substr, s: _sprig_strval(substr) in _sprig_strval(s),
    "hasPrefix": lambda prefix, s: _sprig_strval(s).startswith(_sprig_strval(prefix)),
    "hasSuffix": lambda suffix, s: _sprig_strval(s).endswith(_sprig_strval(suffix)),
    "split": _sprig_split,
    "splitList": _sprig_split_list,
    "join": lambda sep, v: _sprig_strval(sep).join(_sprig_strslice(v)),
    "default": lambda d, *given: d if (not given or _sprig_empty(given[0])) else given[0],
    "toString": _sprig_strval,
    "atoi": _sprig_atoi,
    "int": _cast_int64,
    "int64": _cast_int64,
    "float64": lambda v: float(v) if _is_number(v) else (_to_float(v) if isinstance(v, str) and _GO_FLOAT.fullmatch(v) else 0.0),
    "add": lambda *xs: sum(_cast_int64(x) for x in xs),
    "add1": lambda x: _cast_int64(x) + 1,
    "sub": lambda a, b: _cast_int64(a) - _cast_int64(b),
    "mul": lambda a, *xs: math.prod([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "div": _sprig_div,
    "mod": lambda a, b: _arith("%", _cast_int64(a), _cast_int64(b)),
    "max": lambda a, *xs: max([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "min": lambda a, *xs: min([_cast_int64(a), *(_cast_int64(x) for x in xs)]),
    "quote": lambda *xs: " ".join(_go_quote(_sprig_strval(x)) for x in xs if x is not None),
    "squote": lambda *xs: " ".join(f"'{_sprig_strval(x)}'" for x in xs if x is not None),
    "trimSuffix": lambda suffix, s: _sprig_strval(s).removesuffix(_sprig_strval(suffix)),
    "trimPrefix": lambda prefix, s: _sprig_strval(s).removeprefix(_sprig_strval(prefix)),
    "trimAll": lambda cutset, s: _sprig_strval(s).strip(_sprig_strval(cutset)),
    "title": lambda s: _sprig_title(_sprig_strval(s)),
    "substr": _sprig_substr,
    "repeat": lambda count, s: _sprig_strval(s) * max(0, _cast_int64(count)),
    "toJson": _sprig_to_json,
    "fromJson": _sprig_from_json,
    "empty": _sprig_empty,
    "list": lambda *xs: list(xs),
    "dict": lambda *xs: {_sprig_strval(xs[i]): (xs[i + 1] if i + 1 < len(xs) else "") for i in range(0, len(xs), 2)},
    "len": lambda v: len(v) if isinstance(v, (str, list, tuple, Mapping)) else 0,
    "b64enc": lambda s: base64.b64encode(_sprig_strval(s).encode()).decode(),
    "nospace": lambda s: re.sub(r"\s", "", _sprig_strval(s)),
    "ternary": lambda a, b, cond: a if cond else b,
}


def _call_sprig(name: str, args: list) -> Any:
    fn = _SPRIG.get(name)
    if fn is None:
        raise _RuntimeError(f"unknown function sprig.{name}")
    try:
        return fn(*args)
    except TypeError as exc:
        raise _RuntimeError(f"wrong number of arguments to sprig.{name}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Evaluation

_MISSING = object()


class _FlatIndex:
    """Dotted prefixes of an environment's flat keys, built on first need (once per evaluation)."""

    __slots__ = ("env", "prefixes")

    def __init__(self, env: Mapping[str, Any]):
        self.env = env
        prefixes: set[str] = set()
        for key in env:
            if isinstance(key, str) and "." in key:
                parts = key.split(".")
                for i in range(1, len(parts)):
                    prefixes.add(".".join(parts[:i]))
        self.prefixes = prefixes

    def nested(self, prefix: str) -> Any:
        """The map Argo's expand.Expand builds under ``prefix`` from keys ``prefix.<rest>``."""
        if prefix not in self.prefixes:
            return _MISSING
        out: dict[str, Any] = {}
        start = prefix + "."
        for key in sorted(k for k in self.env if isinstance(k, str) and k.startswith(start)):
            parts = key[len(start):].split(".")
            node = out
            for part in parts[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            if not isinstance(node.get(parts[-1]), dict):  # a parent never hides its children
                node[parts[-1]] = self.env[key]
        return out


def _lookup_path(ev: "_Evaluator", root: str, keys: tuple[str, ...]) -> Any:
    """Resolve ``root.k1.k2...``: the longest flat dotted key present, then nested walking.

    As in Argo (``util/expand``: a key is dropped when more specific keys exist, then the flat
    map is expanded), a name that is also a prefix of other flat keys -- ``inputs.parameters``
    next to ``inputs.parameters.x`` -- resolves to the map of its children, and a name that only
    exists as a prefix (``tasks`` with ``tasks.A.status`` present) is that map too.
    """
    env = ev.env
    full = root + "." + ".".join(keys) if keys else root
    v = env.get(full, _MISSING)
    if v is not _MISSING:
        nested = ev.flat_index().nested(full)
        return v if nested is _MISSING else nested
    for k in range(len(keys) - 1, -1, -1):
        flat = root + "." + ".".join(keys[:k]) if k else root
        v = env.get(flat, _MISSING)
        if v is not _MISSING:
            for key in keys[k:]:
                v = _index(v, key)
            return v
    nested = ev.flat_index().nested(full)
    return None if nested is _MISSING else nested


class _Evaluator:
    __slots__ = ("env", "ptr", "_flat")

    def __init__(self, env: Mapping[str, Any]):
        self.env = env
        self.ptr: list[Any] = []
        self._flat: _FlatIndex | None = None

    def flat_index(self) -> _FlatIndex:
        if self._flat is None:
            self._flat = _FlatIndex(self.env)
        return self._flat

    def run(self, node) -> Any:
        tag = node[0]
        if tag == "lit":
            return node[1]
        if tag == "path":
            return _lookup_path(self, node[1], node[2])
        if tag == "bin":
            return self.binary(node)
        if tag == "member":
            obj = self.run(node[1])
            key = self.run(node[2])
            return _index(obj, key)
        if tag == "cond":
            c = self.run(node[1])
            if not isinstance(c, bool):
                raise _RuntimeError(f"non-bool expression (type {_type_name(c)}) used as condition")
            return self.run(node[2] if c else node[3])
        if tag == "unary":
            v = self.run(node[2])
            op = node[1]
            if op == "!":
                if not isinstance(v, bool):
                    raise _RuntimeError(f"invalid operation: ! ({_type_name(v)})")
                return not v
            if not _is_number(v):
                raise _RuntimeError(f"invalid operation: {op} ({_type_name(v)})")
            return -v if op == "-" else v
        if tag == "call":
            return self.call(node)
        if tag == "arr":
            return [self.run(x) for x in node[1]]
        if tag == "map":
            return {self.run(k): self.run(v) for k, v in node[1]}
        if tag == "slice":
            obj = self.run(node[1])
            lo = self.run(node[2]) if node[2] is not None else None
            hi = self.run(node[3]) if node[3] is not None else None
            if obj is None:
                return None
            if not isinstance(obj, (list, tuple, str)):
                raise _RuntimeError(f"cannot slice {_type_name(obj)}")
            n = len(obj)
            lo_i = 0 if lo is None else _to_int(lo)
            hi_i = n if hi is None else _to_int(hi)
            lo_i = max(0, lo_i + n if lo_i < 0 else lo_i)
            hi_i = min(n, hi_i + n if hi_i < 0 else hi_i)
            return obj[lo_i:hi_i] if lo_i <= hi_i else obj[0:0]
        if tag == "ptr":
            if not self.ptr:
                raise _RuntimeError("cannot use pointer accessor outside predicate")
            v = self.ptr[-1]
            return _index(v, node[1]) if node[1] is not None else v
        raise _RuntimeError(f"cannot evaluate {tag}")

    def binary(self, node) -> Any:
        op = node[1]
        if op == "&&" or op == "||":
            left = self.run(node[2])
            if not isinstance(left, bool):
                raise _RuntimeError(f"invalid operation: {op} (mismatched types {_type_name(left)} and bool)")
            if op == "&&" and not left:
                return False
            if op == "||" and left:
                return True
            right = self.run(node[3])
            if not isinstance(right, bool):
                raise _RuntimeError(f"invalid operation: {op} (mismatched types bool and {_type_name(right)})")
            return right
        if op == "??":
            left = self.run(node[2])
            return left if left is not None else self.run(node[3])
        if op == "?:":  # expr-lang: `a ?: b` is `a ? a : b`, so `a` must be a bool
            left = self.run(node[2])
            if not isinstance(left, bool):
                raise _RuntimeError(f"non-bool expression (type {_type_name(left)}) used as condition")
            return left if left else self.run(node[3])
        left = self.run(node[2])
        right = self.run(node[3])
        if op == "==":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        if op in ("<", ">", "<=", ">="):
            return _compare(op, left, right)
        if op in ("+", "-", "*", "/", "%", "**"):
            return _arith(op, left, right)
        if op == "in":
            return _in(left, right)
        if op == "not in":
            return not _in(left, right)
        negate = op.startswith("not ")
        base = op[4:] if negate else op
        if base == "matches":
            _need_str(base, left, right)
            result = _regex(right).search(left) is not None
        elif base == "contains":
            _need_str(base, left, right)
            result = right in left
        elif base == "startsWith":
            _need_str(base, left, right)
            result = left.startswith(right)
        elif base == "endsWith":
            _need_str(base, left, right)
            result = left.endswith(right)
        elif base == "..":
            if not (_is_int(left) and _is_int(right)):
                raise _RuntimeError(f"invalid operation: .. (mismatched types {_type_name(left)} and {_type_name(right)})")
            return list(range(left, right + 1))
        else:
            raise _RuntimeError(f"unknown operator {op}")
        return not result if negate else result

    def call(self, node) -> Any:
        callee, arg_nodes = node[1], node[2]
        if callee[0] == "name":
            name = callee[1]
            env_fn = self.env.get(name, _MISSING)
            if env_fn is not _MISSING and callable(env_fn):
                return env_fn(*[self.run(a) for a in arg_nodes])
            if name in _PREDICATE_BUILTINS:
                return self.predicate(name, arg_nodes)
            fn = _BUILTINS.get(name)
            if fn is None:
                raise _RuntimeError(f"unknown func {name}")
            return fn([self.run(a) for a in arg_nodes])
        args = [self.run(a) for a in arg_nodes]
        if callee[0] == "path" and callee[1] == "sprig" and len(callee[2]) == 1 and "sprig" not in self.env:
            return _call_sprig(callee[2][0], args)
        fn = self.run(callee)
        if not callable(fn):
            raise _RuntimeError(f"{_describe(callee)} is not callable")
        return fn(*args)

    def predicate(self, name: str, arg_nodes) -> Any:
        if len(arg_nodes) != 2 or arg_nodes[1][0] != "closure":
            raise _RuntimeError(f"{name} expects an array and a predicate")
        items = self.run(arg_nodes[0])
        if items is None:
            items = []
        if isinstance(items, Mapping):
            items = list(items.values())
        items = _listarg(name, items)
        body = arg_nodes[1][1]
        results = []
        for item in items:
            self.ptr.append(item)
            try:
                results.append(self.run(body))
            finally:
                self.ptr.pop()
            if name != "map":
                r = results[-1]
                if not isinstance(r, bool):
                    raise _RuntimeError(f"predicate should return boolean (got {_type_name(r)})")
        if name == "map":
            return results
        if name == "filter":
            return [x for x, r in zip(items, results) if r]
        if name == "all":
            return all(results)
        if name == "any":
            return any(results)
        if name == "none":
            return not any(results)
        if name == "one":
            return sum(1 for r in results if r) == 1
        if name == "count":
            return sum(1 for r in results if r)
        idx = [i for i, r in enumerate(results) if r]
        if name == "find":
            return items[idx[0]] if idx else None
        if name == "findIndex":
            return idx[0] if idx else -1
        if name == "findLast":
            return items[idx[-1]] if idx else None
        return idx[-1] if idx else -1  # findLastIndex


def _describe(node) -> str:
    if node[0] == "path":
        return ".".join((node[1], *node[2]))
    return node[0]


class Expr:
    """A compiled expr-lang expression: compile once, ``evaluate(env)`` many times."""

    __slots__ = ("text", "_ast")

    def __init__(self, text: str, ast) -> None:
        self.text = text
        self._ast = ast

    def evaluate(self, env: Mapping[str, Any] | None = None) -> Any:
        """Evaluate against ``env`` (nested mappings and/or flat dotted keys); raises ExpressionError."""
        try:
            return _Evaluator(env or {}).run(self._ast)
        except _RuntimeError as exc:
            raise ExpressionError(f"{exc} (evaluating {self.text!r})") from None
        except RecursionError:
            raise ExpressionError(f"expression too deeply nested: {self.text!r}") from None
        except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            if isinstance(exc, ExpressionError):
                raise
            raise ExpressionError(f"{exc} (evaluating {self.text!r})") from None

    def evaluate_bool(self, env: Mapping[str, Any] | None = None) -> bool:
        """Argo's ``argoexpr.EvalBool`` (hook ``expression``, ``retryStrategy.expression``):
        the result must be a bool, else ExpressionError."""
        result = self.evaluate(env)
        if not isinstance(result, bool):
            raise ExpressionError(
                f"unable to cast expression result '{go_format(result)}' to bool (evaluating {self.text!r})"
            )
        return result

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def compile_expr(text: str) -> Expr:
    """Parse an expr-lang expression; ExpressionError carries the position (``1:col``)."""
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, got {type(text).__name__}")
    try:
        ast = _Parser(text).parse()
    except RecursionError:
        raise ExpressionError("expression too deeply nested") from None
    return Expr(text, _fold_paths(ast))
