"""expr-lang's parser: precedence climbing over the tokens into a tuple AST, member chains
folded into paths (expr-lang ``parser/parser.go``, ``parser/operator``)."""

from __future__ import annotations

from flowport.lang.errors import ExpressionError
from flowport.lang.exprlang.lexer import _KEYWORD_OPS, _PREDICATE_BUILTINS, _lex, _pos_str, _Tok

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
