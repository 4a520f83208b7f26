"""expr-lang's lexer: tokens with their offsets (expr-lang ``parser/lexer``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flowport.lang.errors import ExpressionError

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


# calls whose second argument is a predicate closure (`filter(xs, # > 1)`)
_PREDICATE_BUILTINS = {"filter", "map", "all", "any", "none", "one", "count", "find", "findIndex",
                       "findLast", "findLastIndex"}
