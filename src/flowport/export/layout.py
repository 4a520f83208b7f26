"""Python source for values, laid out the way `ruff format` lays them out, so its output is
a fixed point of the formatter: a call, list or dict stays on one line when it fits in 88
columns; else it opens and puts one item per line, each followed by a comma (the "magic
trailing comma" keeps the formatter from joining them again)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 88
INDENT = "    "


@dataclass
class Code:
    """Text that is already Python: a name, a number, a string literal (maybe multi-line)."""

    text: str

    @property
    def multiline(self) -> bool:
        return "\n" in self.text


@dataclass
class Item:
    value: "Node"
    key: str | None = None  # keyword argument name, or (dicts) the key's source
    comments: list[str] = field(default_factory=list)  # written on their own lines before it
    dict_key: bool = False  # `key: value` instead of `key=value`


@dataclass
class Group:
    """`head(`…`)`, `[`…`]`, `(`…`)`, `{`…`}`."""

    open: str
    close: str
    items: list[Item]
    one_tuple: bool = False  # `(x,)`: the comma is part of the value


Node = Code | Group


def call(function: str, /, *args: Node, **kwargs: Node | None) -> Group:
    items = [Item(a) for a in args] + [Item(v, k) for k, v in kwargs.items() if v is not None]
    return Group(f"{function}(", ")", items)


def flat(node: Node) -> str | None:
    """The node on one line, or None when it cannot be (a multi-line string, a comment)."""
    if isinstance(node, Code):
        return None if node.multiline else node.text
    parts = []
    for item in node.items:
        if item.comments:
            return None
        inner = flat(item.value)
        if inner is None:
            return None
        if item.key is None:
            parts.append(inner)
        else:
            parts.append(f"{item.key}: {inner}" if item.dict_key else f"{item.key}={inner}")
    body = ", ".join(parts) + ("," if node.one_tuple else "")
    return f"{node.open}{body}{node.close}"


def lines(node: Node, indent: int = 0, prefix: str = "", suffix: str = "") -> list[str]:
    """The node's source lines at `indent` levels, after `prefix` and before `suffix`."""
    pad = INDENT * indent
    one = flat(node)
    if one is not None and (len(pad + prefix + one + suffix) <= WIDTH or isinstance(node, Code)):
        return [pad + prefix + one + suffix]
    if isinstance(node, Code):  # a multi-line string: its lines are its value, never indented
        first, *rest = node.text.split("\n")
        return [pad + prefix + first, *rest[:-1], rest[-1] + suffix]
    out = [pad + prefix + node.open]
    for item in node.items:
        out.extend(INDENT * (indent + 1) + c for c in item.comments)
        key = "" if item.key is None else (f"{item.key}: " if item.dict_key else f"{item.key}=")
        out.extend(lines(item.value, indent + 1, key, ","))
    out.append(pad + node.close + suffix)
    return out


# ---------------------------------------------------------------- literals


def string(text: str, *, block: bool = True) -> Code:
    """A string literal with the formatter's quotes: double unless the text holds more double
    than single quotes; text of several lines as a triple-quoted block."""
    if block and "\n" in text.rstrip("\n") and _printable(text):
        return Code('"""' + _triple_body(text) + '"""')
    quote = '"' if text.count('"') <= text.count("'") else "'"
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return Code(quote + "".join(out) + quote)


def _printable(text: str) -> bool:
    return all(ch.isprintable() or ch in "\n\t" for ch in text)


def _triple_body(text: str) -> str:
    body = text.replace("\\", "\\\\")
    out, run = [], 0
    for ch in body:  # a quote in a run of three or more would end the literal
        run = run + 1 if ch == '"' else 0
        out.append('\\"' if ch == '"' and run >= 3 else ch)
    body = "".join(out)
    if body.endswith('"') and not body.endswith('\\"'):
        body = body[:-1] + '\\"'
    return body


def number(value: int | float) -> Code:
    if isinstance(value, float) and not math.isfinite(value):
        return Code(f'float("{value}")')
    return Code(repr(value))
