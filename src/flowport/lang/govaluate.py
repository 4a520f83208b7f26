"""Argo's ``when`` language: govaluate, with every VARIABLE token turned into a STRING.

Argo (``workflow/controller/steps.go`` ``shouldExecute``) substitutes ``{{...}}`` tags into the
``when`` text, parses it with ``github.com/Knetic/govaluate``, rewrites every token of kind
VARIABLE into kind STRING (so ``Failed == Succeeded`` is a string comparison), re-plans the
expression from those tokens and evaluates it with no parameters; the result must be a bool.

This module re-implements that pipeline from a reading of govaluate's ``parsing.go``,
``lexerState.go``, ``stagePlanner.go``, ``evaluationStage.go`` and ``OperatorSymbol.go``
(final public commit 7625b7f). Observable behaviour reproduced:

* lexer: numbers are runs of digits and ``.`` (``0x..`` hex), parsed as float64; a bare word
  starts with a letter and continues with letters, digits, ``_`` and ``.``; ``true``/``false``
  are booleans; ``in``/``IN`` is an operator; a bare word with a ``.`` is an ACCESSOR (not
  rewritten by Argo, so it fails at evaluation: there are no parameters); ``[any text]`` is a
  VARIABLE (so a string for Argo); a quoted string starts with ``'`` or ``"`` and ends at the
  next ``'`` or ``"`` (either one), ``\\`` escapes the next character; a quoted string that parses
  as a date/time becomes a TIME (compared as Unix seconds); any other run of symbol
  characters must be a known operator, else ``Invalid token: '...'``.
* token-transition rules of ``lexerState.go`` (``Cannot transition token types from ...``,
  ``Undefined function x``, ``Unexpected end of expression``), balanced parentheses.
* operators and precedence (lowest first): ``,`` ; ``? : ??`` ; ``||`` ; ``&&`` ;
  ``== != > >= < <= =~ !~ in`` ; ``& | ^`` ; ``<< >>`` ; ``+ -`` ; ``* / %`` ; ``**`` ;
  prefix ``- ! ~``. Same-precedence operators associate to the left.
* types: numbers are floats; ``==``/``!=`` are Go ``reflect.DeepEqual`` (different types are
  simply unequal: ``"5" == 5`` is false); ``< <= > >=`` need two numbers or two strings;
  ``+`` concatenates (Go ``%v``) when either side is a string; ``=~``/``!~`` search with a
  regular expression; ``&&``/``||`` need bools (and short-circuit); ``in`` needs a list on the
  right, i.e. ``x in (a, b)``; ternary ``c ? a : b`` where ``?`` yields nil when ``c`` is false.

Not reproduced: govaluate accessor/method calls on Go structs (Argo passes no parameters, so an
accessor always fails -- reported as an error here too); the ANSIC/UnixDate/RubyDate time
formats (treated as plain strings); time zone: times are read as UTC (the controller's local
zone in a standard deployment).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from flowport.lang.errors import ExpressionError
from flowport.lang.regex import GoRegexp, compile_go
from flowport.lang.gofmt import format_v as _fmt  # Go %v (a regex prints its pattern)

__all__ = ["ExpressionError", "check_when_syntax", "compile_when", "evaluate_when", "WhenExpr"]

# Token kinds (names as govaluate prints them).
PREFIX = "PREFIX"
NUMERIC = "NUMERIC"
BOOLEAN = "BOOLEAN"
STRING = "STRING"
PATTERN = "PATTERN"
TIME = "TIME"
VARIABLE = "VARIABLE"
FUNCTION = "FUNCTION"
SEPARATOR = "SEPARATOR"
ACCESSOR = "ACCESSOR"
COMPARATOR = "COMPARATOR"
LOGICALOP = "LOGICALOP"
MODIFIER = "MODIFIER"
CLAUSE = "CLAUSE"
CLAUSE_CLOSE = "CLAUSE_CLOSE"
TERNARY = "TERNARY"
UNKNOWN = "UNKNOWN"

_VALUES = (NUMERIC, BOOLEAN, VARIABLE, PATTERN, FUNCTION, ACCESSOR, STRING, TIME)
_AFTER_VALUE = frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})

# lexerState.go: (is EOF allowed after this kind, kinds allowed next)
_STATES: dict[str, tuple[bool, frozenset[str]]] = {
    UNKNOWN: (False, frozenset({PREFIX, *_VALUES, CLAUSE})),
    CLAUSE: (False, frozenset({PREFIX, *_VALUES, CLAUSE, CLAUSE_CLOSE})),
    CLAUSE_CLOSE: (
        True,
        frozenset({COMPARATOR, MODIFIER, NUMERIC, BOOLEAN, VARIABLE, STRING, PATTERN, TIME,
                   CLAUSE, CLAUSE_CLOSE, LOGICALOP, TERNARY, SEPARATOR}),
    ),
    NUMERIC: (True, _AFTER_VALUE),
    BOOLEAN: (True, _AFTER_VALUE),
    STRING: (True, _AFTER_VALUE),
    TIME: (True, _AFTER_VALUE - {TERNARY}),
    PATTERN: (True, _AFTER_VALUE - {TERNARY}),
    VARIABLE: (True, _AFTER_VALUE),
    MODIFIER: (
        False,
        frozenset({PREFIX, NUMERIC, VARIABLE, FUNCTION, ACCESSOR, STRING, BOOLEAN, CLAUSE,
                   CLAUSE_CLOSE}),
    ),
    COMPARATOR: (
        False,
        frozenset({PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE,
                   CLAUSE_CLOSE, PATTERN}),
    ),
    LOGICALOP: (
        False,
        frozenset({PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE,
                   CLAUSE_CLOSE}),
    ),
    PREFIX: (
        False,
        frozenset({NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, CLAUSE_CLOSE}),
    ),
    TERNARY: (
        False,
        frozenset({PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE,
                   SEPARATOR}),
    ),
    FUNCTION: (False, frozenset({CLAUSE})),
    ACCESSOR: (
        True,
        frozenset({CLAUSE, MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR}),
    ),
    SEPARATOR: (
        False,
        frozenset({PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE}),
    ),
}

_PREFIX_SYMBOLS = {"-": "-", "!": "!", "~": "~"}
_MODIFIER_SYMBOLS = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"}
_LOGICAL_SYMBOLS = {"&&", "||"}
_COMPARATOR_SYMBOLS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
_TERNARY_SYMBOLS = {"?", ":", "??"}

# Binary precedence levels, lowest first (stagePlanner.go init()).
_LEVELS: list[tuple[str, frozenset[str]]] = [
    (SEPARATOR, frozenset({","})),
    (TERNARY, frozenset(_TERNARY_SYMBOLS)),
    (LOGICALOP, frozenset({"||"})),
    (LOGICALOP, frozenset({"&&"})),
    (COMPARATOR, frozenset(_COMPARATOR_SYMBOLS)),
    (MODIFIER, frozenset({"&", "|", "^"})),
    (MODIFIER, frozenset({"<<", ">>"})),
    (MODIFIER, frozenset({"+", "-"})),
    (MODIFIER, frozenset({"*", "/", "%"})),
    (MODIFIER, frozenset({"**"})),
]

_LOGICAL_ERR = "Value '{}' cannot be used with the logical operator '{}', it is not a bool"
_MODIFIER_ERR = "Value '{}' cannot be used with the modifier '{}', it is not a number"
_COMPARATOR_ERR = "Value '{}' cannot be used with the comparator '{}', it is not a number"
_TERNARY_ERR = "Value '{}' cannot be used with the ternary operator '{}', it is not a bool"
_PREFIX_ERR = "Value '{}' cannot be used with the prefix '{}'"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    value: Any


class _GovaluateError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Lexer (parsing.go readToken)


def _is_numeric(c: str) -> bool:
    return c.isdecimal() or c == "."


def _is_quote(c: str) -> bool:
    return c == "'" or c == '"'


def _is_variable_char(c: str) -> bool:
    return c.isalpha() or c.isdecimal() or c == "_" or c == "."


def _is_symbol_char(c: str) -> bool:
    return not (c.isdecimal() or c.isalpha() or c in "()[]" or _is_quote(c))


def _read_until_false(text: str, pos: int, include_ws: bool, break_ws: bool, cond) -> tuple[str, int, bool]:
    """govaluate readUntilFalse: returns (token, new position, whether it stopped on a condition)."""
    buf: list[str] = []
    n = len(text)
    while pos < n:
        c = text[pos]
        pos += 1
        if c == "\\":  # allowEscaping is always true in the readers we use
            if pos < n:
                buf.append(text[pos])
                pos += 1
            continue
        if c.isspace():
            if break_ws and buf:
                return "".join(buf), pos, True
            if not include_ws:
                continue
        if cond(c):
            buf.append(c)
        else:
            return "".join(buf), pos - 1, True
    return "".join(buf), pos, False


def _parse_go_float(s: str) -> float:
    # strconv.ParseFloat on a run of digits and dots: at most one dot, at least one digit.
    # A backslash escape can put any character in the run (`1\\a` is the word `1a`): anything
    # ParseFloat refuses, or that overflows (ErrRange), is govaluate's parse error.
    if s.count(".") > 1 or not s.isascii() or not _GO_DECIMAL.fullmatch(s):
        raise _GovaluateError(f"Unable to parse numeric value '{s}' to float64\n")
    try:
        value = float(s)
    except ValueError:  # an escaped character read into the run (`0\:`)
        raise _GovaluateError(f"Unable to parse numeric value '{s}' to float64\n") from None
    if math.isinf(value):
        raise _GovaluateError(f"Unable to parse numeric value '{s}' to float64\n")
    return value


_GO_DECIMAL = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


_D = r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
_S = r":(?P<s>\d{2})(?:\.\d+)?"
# govaluate tryParseTime layouts (parsing.go) as regexes; Go accepts a fractional second after
# the seconds field even when the layout has none.
_TIME_LAYOUTS = [
    re.compile(_D),
    re.compile(_D + r" (?P<h>\d{2}):(?P<mi>\d{2})"),
    re.compile(_D + r" (?P<h>\d{2}):(?P<mi>\d{2})" + _S),
    re.compile(_D + r" (?P<h>\d{2}):(?P<mi>\d{2})" + _S + r"(?P<z>[+-]\d{2}:\d{2})"),
    re.compile(_D + r"T(?P<h>\d{2}):(?P<mi>\d{2})" + _S + r"(?P<z>Z|[+-]\d{2}:\d{2})"),
    re.compile(_D + r"T(?P<h>\d{2})(?P<z>Z|[+-]\d{4})"),
    re.compile(_D + r"T(?P<h>\d{2}):(?P<mi>\d{2})(?P<z>Z|[+-]\d{4})"),
    re.compile(_D + r"T(?P<h>\d{2}):(?P<mi>\d{2})" + _S + r"(?P<z>Z|[+-]\d{4})"),
]
_KITCHEN = re.compile(r"(\d{1,2}):(\d{2})(AM|PM)")


def _try_parse_time(s: str) -> float | None:
    """Unix seconds of a govaluate TIME literal, or None if ``s`` is not one of its layouts.

    Zone-less times are read as UTC (govaluate uses the controller's local zone). The
    ANSIC/UnixDate/RubyDate layouts are not recognised.
    """
    from datetime import datetime, timedelta, timezone

    for layout in _TIME_LAYOUTS:
        m = layout.fullmatch(s)
        if m is None:
            continue
        g = m.groupdict()
        tz = timezone.utc
        zone = g.get("z")
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            try:
                tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            except ValueError:
                return None
        try:
            dt = datetime(int(g["y"]), int(g["mo"]), int(g["d"]), int(g.get("h") or 0),
                          int(g.get("mi") or 0), int(g.get("s") or 0), tzinfo=tz)
        except ValueError:
            return None
        return float(math.floor(dt.timestamp()))
    m = _KITCHEN.fullmatch(s)
    if m:
        hour, minute = int(m[1]), int(m[2])
        if not (1 <= hour <= 12) or minute > 59:
            return None
        hour = hour % 12 + (12 if m[3] == "PM" else 0)
        # Go's zero time is year 0, January 1: 62167219200 seconds before the Unix epoch.
        return float(-62167219200 + hour * 3600 + minute * 60)
    return None


def _tokenize(text: str) -> list[_Token]:
    # long: one branch per case of govaluate's readToken switch, kept in its order to compare
    tokens: list[_Token] = []
    state = UNKNOWN
    pos = 0
    n = len(text)
    while pos < n:
        c = text[pos]
        pos += 1
        if c.isspace():
            continue
        if _is_numeric(c):
            if c == "0" and pos < n:
                nxt = text[pos]
                pos += 1
                if nxt == "x" and pos < n:
                    digits, pos, _ = _read_until_false(
                        text, pos, False, True, lambda ch: ch in "0123456789abcdefABCDEF"
                    )
                    try:
                        tok = _Token(NUMERIC, float(int(digits, 16)))
                    except ValueError:
                        raise _GovaluateError(f"Unable to parse hex value '{digits}' to uint64\n") from None
                    tokens.append(tok)
                    state = NUMERIC
                    continue
                pos -= 1
            word, pos, _ = _read_until_false(text, pos - 1, False, True, _is_numeric)
            tok = _Token(NUMERIC, _parse_go_float(word))
        elif c == ",":
            tok = _Token(SEPARATOR, ",")
        elif c == "[":
            word, pos, completed = _read_until_false(text, pos, True, False, lambda ch: ch != "]")
            if not completed:
                raise _GovaluateError("Unclosed parameter bracket")
            pos += 1
            tok = _Token(VARIABLE, word)
        elif c.isalpha():
            word, pos, _ = _read_until_false(text, pos - 1, False, True, _is_variable_char)
            tok = _Token(VARIABLE, word)
            if word == "true":
                tok = _Token(BOOLEAN, True)
            elif word == "false":
                tok = _Token(BOOLEAN, False)
            if word in ("in", "IN"):
                tok = _Token(COMPARATOR, "in")
            if "." in word:
                if word.endswith("."):
                    raise _GovaluateError(f"Hanging accessor on token '{word}'")
                parts = word.split(".")
                for part in parts[1:]:
                    first = part[:1]
                    if first and first.upper() != first:
                        raise _GovaluateError(
                            f"Unable to access unexported field '{part}' in token '{word}'"
                        )
                tok = _Token(ACCESSOR, word)
        elif _is_quote(c):
            word, pos, completed = _read_until_false(text, pos, True, False, lambda ch: not _is_quote(ch))
            if not completed:
                raise _GovaluateError("Unclosed string literal")
            pos += 1
            when = _try_parse_time(word)
            tok = _Token(TIME, when) if when is not None else _Token(STRING, word)
        elif c == "(":
            tok = _Token(CLAUSE, "(")
        elif c == ")":
            tok = _Token(CLAUSE_CLOSE, ")")
        else:
            word, pos, _ = _read_until_false(text, pos - 1, False, True, _is_symbol_char)
            if PREFIX in _STATES[state][1] and word in _PREFIX_SYMBOLS:
                tok = _Token(PREFIX, word)
            elif word in _MODIFIER_SYMBOLS:
                tok = _Token(MODIFIER, word)
            elif word in _LOGICAL_SYMBOLS:
                tok = _Token(LOGICALOP, word)
            elif word in _COMPARATOR_SYMBOLS:
                tok = _Token(COMPARATOR, word)
            elif word in _TERNARY_SYMBOLS:
                tok = _Token(TERNARY, word)
            else:
                raise _GovaluateError(f"Invalid token: '{word}'")
        tokens.append(tok)
        state = tok.kind
    return tokens


def _check_syntax(tokens: list[_Token]) -> None:
    depth = 0
    for tok in tokens:
        if tok.kind == CLAUSE:
            depth += 1
        elif tok.kind == CLAUSE_CLOSE:
            depth -= 1
    if depth != 0:
        raise _GovaluateError("Unbalanced parenthesis")
    state = UNKNOWN
    last: _Token | None = None
    for tok in tokens:
        if tok.kind not in _STATES[state][1]:
            if last is not None and last.kind == VARIABLE and tok.kind == CLAUSE:
                raise _GovaluateError(f"Undefined function {last.value}")
            lv = "<nil>" if last is None else _fmt(last.value)
            raise _GovaluateError(
                f"Cannot transition token types from {state} [{lv}] to {tok.kind} [{_fmt(tok.value)}]"
            )
        state = tok.kind
        last = tok
    if not _STATES[state][0]:
        raise _GovaluateError("Unexpected end of expression")


# --------------------------------------------------------------------------------------------
# Planner: a tree of (op, left, right) tuples; leaves are ("lit", value) / ("acc", name)


class _Planner:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def plan(self):
        if not self.tokens:
            return None
        node = self.level(0)
        if self.pos != len(self.tokens):  # cannot happen after the syntax check
            raise _GovaluateError(f"Unexpected token {self.tokens[self.pos].value!r}")
        return node

    def level(self, i: int):
        if i == len(_LEVELS):
            return self.prefix()
        kind, symbols = _LEVELS[i]
        left = self.level(i + 1)
        while True:
            tok = self.peek()
            if tok is None or tok.kind != kind or tok.value not in symbols:
                return left
            self.pos += 1
            right = self.level(i + 1)
            left = (tok.value, left, right)

    def prefix(self):
        tok = self.peek()
        if tok is not None and tok.kind == PREFIX:
            self.pos += 1
            return ("prefix" + tok.value, None, self.prefix())
        return self.value()

    def value(self):
        tok = self.peek()
        if tok is None:
            return None
        self.pos += 1
        if tok.kind == CLAUSE:
            inner = self.level(0) if (self.peek() and self.peek().kind != CLAUSE_CLOSE) else None
            self.pos += 1  # the CLAUSE_CLOSE (balance was checked)
            return ("()", None, inner)
        if tok.kind == CLAUSE_CLOSE:
            self.pos -= 1
            return None
        if tok.kind in (NUMERIC, STRING, PATTERN, BOOLEAN, TIME):
            return ("lit", tok.value, None)
        if tok.kind == ACCESSOR:
            return ("acc", tok.value, None)
        if tok.kind == VARIABLE:  # not reachable for Argo (rewritten to STRING)
            return ("acc", tok.value, None)
        raise _GovaluateError(f"Unable to plan token kind: '{tok.kind}', value: '{tok.value}'")


# --------------------------------------------------------------------------------------------
# Evaluation (evaluationStage.go)


def _deep_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, GoRegexp):
        return isinstance(b, GoRegexp) and a.pattern == b.pattern
    return a == b


def _is_num(v: Any) -> bool:
    return type(v) is float


def _to_int64(f: float) -> int:
    if math.isnan(f) or math.isinf(f):
        return -(1 << 63)
    i = int(f)
    return ((i + (1 << 63)) % (1 << 64)) - (1 << 63)


def _arith(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                if a == 0 or math.isnan(a):
                    return math.nan
                return math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
        if op == "%":
            if b == 0 or math.isinf(a):
                return math.nan
            return math.fmod(a, b)
        if op == "**":
            try:
                return math.pow(a, b)
            except ZeroDivisionError:
                return math.inf
            except (OverflowError, ValueError):
                return math.inf if a > 0 or float(b).is_integer() else math.nan
        ia, ib = _to_int64(a), _to_int64(b)
        if op == "&":
            return float(ia & ib)
        if op == "|":
            return float(ia | ib)
        if op == "^":
            return float(ia ^ ib)
        ua, ub = ia % (1 << 64), ib % (1 << 64)
        if op == "<<":
            return float((ua << ub) % (1 << 64)) if ub < 64 else 0.0
        if op == ">>":
            return float(ua >> ub) if ub < 64 else 0.0
    except OverflowError:
        return math.inf
    raise _GovaluateError(f"unknown operator {op}")


_ARITH_OPS = {"-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>"}


def _eval(node) -> Any:
    if node is None:
        return None
    op, left_node, right_node = node
    if op == "lit":
        return left_node
    if op == "acc":
        name = left_node.split(".")[0]
        raise _GovaluateError(f"No parameter '{name}' found.")
    if op == "()":
        return _eval(right_node)
    if op.startswith("prefix"):
        sym = op[6:]
        right = _eval(right_node)
        if sym == "-":
            if not _is_num(right):
                raise _GovaluateError(_PREFIX_ERR.format(_fmt(right), "-"))
            return -right
        if sym == "!":
            if type(right) is not bool:
                raise _GovaluateError(_PREFIX_ERR.format(_fmt(right), "!"))
            return not right
        if not _is_num(right):
            raise _GovaluateError(_PREFIX_ERR.format(_fmt(right), "~"))
        return float(~_to_int64(right))

    left = _eval(left_node)
    # short circuits
    if op == "&&" and left is False:
        return False
    if op == "||" and left is True:
        return True
    if op in ("??", ":") and left is not None:
        return left
    if op == "?" and left is False:
        return None
    return _binary(op, left, _eval(right_node))


def _binary(op: str, left: Any, right: Any) -> Any:
    """A binary operator of govaluate's evaluationStage.go on two evaluated operands."""
    if op in ("&&", "||"):
        for v in (left, right):
            if type(v) is not bool:
                raise _GovaluateError(_LOGICAL_ERR.format(_fmt(v), op))
        return (left and right) if op == "&&" else (left or right)
    if op == "==":
        return _deep_equal(left, right)
    if op == "!=":
        return not _deep_equal(left, right)
    if op in (">", ">=", "<", "<="):
        if not ((_is_num(left) and _is_num(right)) or (isinstance(left, str) and isinstance(right, str))):
            raise _GovaluateError(_COMPARATOR_ERR.format(_fmt(left), op))
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "<":
            return left < right
        return left <= right
    if op in ("=~", "!~"):
        if not isinstance(left, str):
            raise _GovaluateError(_COMPARATOR_ERR.format(_fmt(left), op))
        if isinstance(right, GoRegexp):
            pattern = right
        elif isinstance(right, str):
            pattern = _compile_regex(right)
        else:
            raise _GovaluateError(_COMPARATOR_ERR.format(_fmt(right), op))
        found = pattern.search(left)
        return found if op == "=~" else not found
    if op == "in":
        if not isinstance(right, list):
            raise _GovaluateError(_COMPARATOR_ERR.format(_fmt(right), op))
        return any(type(x) is type(left) and x == left for x in right)
    if op == "+":
        if _is_num(left) and _is_num(right):
            return left + right
        if not isinstance(left, str) and not isinstance(right, str):
            raise _GovaluateError(_MODIFIER_ERR.format(_fmt(left), op))
        return _fmt(left) + _fmt(right)
    if op in _ARITH_OPS:
        for v in (left, right):
            if not _is_num(v):
                raise _GovaluateError(_MODIFIER_ERR.format(_fmt(v), op))
        return _arith(op, left, right)
    if op == "?":
        if type(left) is not bool:
            raise _GovaluateError(_TERNARY_ERR.format(_fmt(left), op))
        return right if left else None
    if op in (":", "??"):
        return left if left is not None else right
    if op == ",":
        if isinstance(left, list):
            return [*left, right]
        return [left, right]
    raise _GovaluateError(f"unknown operator {op}")


def _compile_regex(pattern: str) -> GoRegexp:
    try:
        return compile_go(pattern)  # RE2, as Go's regexp.Compile
    except ExpressionError as exc:
        raise _GovaluateError(f"Unable to compile regexp pattern '{pattern}': {exc}") from None


# Python failures inside govaluate's stages (not _GovaluateError): a run must see them as the
# expression's error, never as a crash. RecursionError: nesting deeper than Python recurses.
_PY_FAILURES = (ArithmeticError, LookupError, MemoryError, RecursionError, TypeError, ValueError)


# --------------------------------------------------------------------------------------------
# Public API


class WhenExpr:
    """A parsed ``when`` expression (after ``{{...}}`` substitution). Constant: no variables."""

    __slots__ = ("text", "_plan")

    def __init__(self, text: str, plan) -> None:
        self.text = text
        self._plan = plan

    def evaluate(self) -> bool:
        try:
            result = _eval(self._plan)
        except _GovaluateError as exc:
            raise ExpressionError(f"Failed to evaluate 'when' expression '{self.text}': {exc}") from None
        except _PY_FAILURES as exc:
            raise ExpressionError(f"Failed to evaluate 'when' expression '{self.text}': {_why(exc)}") from None
        if type(result) is not bool:
            raise ExpressionError(
                f"Expected boolean evaluation for '{self.text}'. Got {_fmt(result)}"
            )
        return result


def compile_when(text: str) -> WhenExpr:
    """Parse a substituted ``when`` the way Argo does; raises ExpressionError like Argo's messages."""
    if not isinstance(text, str):
        raise ExpressionError(f"'when' must be a string, got {type(text).__name__}")
    try:
        tokens = _tokenize(text)
        _check_syntax(tokens)
    except _PY_FAILURES as exc:
        raise ExpressionError(f"Invalid 'when' expression '{text}': {_why(exc)}") from None
    except _GovaluateError as exc:
        msg = f"Invalid 'when' expression '{text}': {exc}"
        if "Invalid token" in str(exc):
            msg += ' (hint: try wrapping the affected expression in quotes ("))'
        raise ExpressionError(msg) from None
    # Argo: every VARIABLE becomes a STRING; govaluate then precompiles constant regexes.
    tokens = [_Token(STRING, t.value) if t.kind == VARIABLE else t for t in tokens]
    try:
        # NewEvaluableExpressionFromTokens checks the rewritten stream again: `!foo` / `-foo`
        # were PREFIX->VARIABLE (legal) and are now PREFIX->STRING (not legal).
        _check_syntax(tokens)
        for i, tok in enumerate(tokens):
            if tok.kind == COMPARATOR and tok.value in ("=~", "!~") and i + 1 < len(tokens):
                nxt = tokens[i + 1]
                if nxt.kind == STRING:
                    tokens[i + 1] = _Token(PATTERN, _compile_regex(nxt.value))
        plan = _Planner(tokens).plan()
    except _GovaluateError as exc:
        raise ExpressionError(f"Failed to parse 'when' expression '{text}': {exc}") from None
    except _PY_FAILURES as exc:
        raise ExpressionError(f"Failed to parse 'when' expression '{text}': {_why(exc)}") from None
    return WhenExpr(text, plan)


def _why(exc: BaseException) -> str:
    return "expression nested too deeply" if isinstance(exc, RecursionError) else str(exc) or type(exc).__name__


def evaluate_when(text: str) -> bool:
    """Evaluate a ``when`` after ``{{...}}`` substitution. ``""`` means no condition (True)."""
    if text == "":
        return True
    return compile_when(text).evaluate()


def check_when_syntax(text: str) -> str | None:
    """Error message Argo would report for this (fully substituted) ``when``, or None.

    A ``when`` without ``{{`` is a constant, so this parses *and* evaluates it: an expression
    that parses but can never evaluate to a bool (``foo.Bar == x``, ``a + 1``) is reported too.
    """
    try:
        evaluate_when(text)
    except ExpressionError as exc:
        return str(exc)
    return None
