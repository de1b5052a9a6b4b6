"""`where` conditions: a small grammar of our own, parsed into a typed tree and evaluated with numpy.

A condition from a config is untrusted text. Nothing in it is ever executed: it is tokenized and parsed here
into the node types below, and `evaluate` computes *that* tree with numpy on the frame's columns (no
`DataFrame.eval`, no Python parser). Other engines translate the same tree (after `check`) to their own
expressions, never by pasting the text.

Grammar, loosest binding first (as in Python and pandas, with `&`/`|` spelled for `and`/`or`)::

    condition  := or
    or         := and (("or" | "|") and)*
    and        := not (("and" | "&") not)*
    not        := "not" not | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)*      chains: 1 < x < 3 is 1 < x and x < 3
                | sum ("in" | "not" "in") list
    sum        := term (("+" | "-") term)*
    term       := unary (("*" | "/" | "//" | "%") unary)*
    unary      := ("-" | "+" | "~") unary | power
    power      := atom ("**" unary)?
    atom       := column | `any name` | number | 'text' | "text" | True | False | "(" condition ")"
    list       := "[" [literal ("," literal)* [","]] "]"  or the same in "(" ")"

Values have one of three kinds: number, text or bool (`Kind`); `check` gives each node its kind or raises.
Arithmetic is on numbers only and in float64 (so `9 ** 9 ** 9` is infinity at once); comparisons need two
values of one kind; `and`, `or`, `not` and `~` need conditions. Missing values follow pandas on numpy
columns: a comparison with a missing value is false, except `!=` and `not in`, which are true, and `not`
flips the result; a missing true/false value in a condition counts as false.

Bounds (each a `ExpressionError` naming the limit): `MAX_LENGTH` characters, `MAX_TOKENS` tokens,
`MAX_DEPTH` levels of nesting (checked before the parser recurses, so no input reaches the recursion limit),
`MAX_LIST` values after `in`, `MAX_NUMBER_DIGITS` characters in a number literal.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral
from typing import NoReturn, Union

import numpy as np
import pandas as pd

from reportgen.errors import ConfigError, did_you_mean, plain_list, shown

MAX_LENGTH = 2_000
MAX_TOKENS = 1_000
MAX_DEPTH = 50
MAX_LIST = 300
MAX_NUMBER_DIGITS = 40

Kind = TypingLiteral["number", "text", "bool"]
Scalar = Union[bool, int, float, str]

ONLY = (
    'only comparisons, arithmetic, and/or/not and "in" over column names and constants are allowed '
    "(no function calls, attributes or indexing)"
)


class ExpressionError(ConfigError):
    """A condition that does not parse, names a missing column, mixes kinds or exceeds a bound.

    The message is the reason alone (callers put the config key and the condition in front of it);
    `position` is the 1-based character it points at, or None when it concerns the whole condition.
    """

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.position = position


# The tree ----------------------------------------------------------------------------------------
# Every node records `position`, the 1-based character of the token it comes from (for messages);
# it takes no part in equality.


@dataclass(frozen=True)
class Column:
    """A column of the frame, by its exact name (backticks in the text are not part of it)."""

    name: str
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Constant:
    """A literal: an int (within int64), a float, a str or a bool."""

    value: Scalar
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Unary:
    """`-operand` or `+operand`, op "-" or "+", on a number."""

    op: str
    operand: Node
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Arithmetic:
    """`left op right` on numbers, op one of "+", "-", "*", "/", "//", "%", "**" (Python's meaning, in float64)."""

    op: str
    left: Node
    right: Node
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Comparison:
    """`left op right`, op one of "==", "!=", "<", "<=", ">", ">=", on two values of one kind (a chain is an `And`)."""

    op: str
    left: Node
    right: Node
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class IsIn:
    """`operand in [values]` (or `not in` when `negated`); the values are constants of the operand's kind."""

    operand: Node
    values: tuple[Scalar, ...]
    negated: bool = False
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    """`not operand` (also written `~operand`), on a condition."""

    operand: Node
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    """All of two or more conditions (`and`, `&`, or a comparison chain)."""

    operands: tuple[Node, ...]
    position: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Or:
    """Any of two or more conditions (`or`, `|`)."""

    operands: tuple[Node, ...]
    position: int = field(default=0, compare=False, repr=False)


Node = Union[Column, Constant, Unary, Arithmetic, Comparison, IsIn, Not, And, Or]


# Tokens ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "name" (bare), "quoted" (backticks), "number", "string", "op", "end"
    text: str  # as written
    value: Scalar | None  # the name, number or decoded string
    position: int  # 1-based


_SPACE = re.compile(r"[ \t\r\n]+")
_NAME = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?")
_OPS = ("**", "//", "==", "!=", "<=", ">=", ":=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[",
        "]", ",", "&", "|", "~", "=", "!", ".", "@", ":", ";", "#", "{", "}", "\\", "^", "$", "?")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_OUR_WORDS = {"and", "or", "not", "in", "True", "False"}
_PYTHON_WORDS = set(keyword.kwlist)  # not the soft keywords: "match", "case" and "type" are good column names


def _char(c: str) -> str:
    """One character for a message: quoted, with its code point when it is not plain ASCII."""
    return f'"{shown(c)}"' if c.isascii() and c.isprintable() else f'"{shown(c)}" (U+{ord(c):04X})'


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        if len(tokens) >= MAX_TOKENS:
            raise ExpressionError(f"more than {MAX_TOKENS:,} tokens; split it into several slices", i + 1)
        c = text[i]
        if space := _SPACE.match(text, i):
            i = space.end()
            continue
        if c in "'\"":
            token, i = _string(text, i)
        elif c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ExpressionError(f'not a valid condition: the column name opened with "`" at character {i + 1} '
                                      "is never closed", i + 1)
            if end == i + 1:
                raise ExpressionError(f'not a valid condition: empty column name "``" at character {i + 1}', i + 1)
            token, i = _Token("quoted", text[i : end + 1], text[i + 1 : end], i + 1), end + 1
        elif number := _NUMBER.match(text, i):
            token, i = _number(text, number), number.end()
        elif name := _NAME.match(text, i):
            if name.end() < len(text) and text[name.end()] in "'\"":
                raise ExpressionError(
                    f'not a valid condition: string prefix "{shown(name.group(), 20)}" at character {i + 1}: '
                    "f-strings, raw and byte strings are not supported; write plain '…' or \"…\"",
                    i + 1,
                )
            token, i = _Token("name", name.group(), name.group(), i + 1), name.end()
        else:
            op = next((op for op in _OPS if text.startswith(op, i)), None)
            if op is None:
                raise ExpressionError(f"not a valid condition: unexpected {_char(c)} at character {i + 1}", i + 1)
            token, i = _Token("op", op, op, i + 1), i + len(op)
        tokens.append(token)
    tokens.append(_Token("end", "", None, len(text) + 1))
    return tokens


def _string(text: str, start: int) -> tuple[_Token, int]:
    """A '…' or "…" literal from `start`; escapes: \\\\ \\' \\" \\n \\t \\r \\xhh \\uhhhh \\Uhhhhhhhh."""
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return _Token("string", text[start : i + 1], "".join(chars), start + 1), i + 1
        if c != "\\":
            chars.append(c)
            i += 1
            continue
        escape = text[i + 1 : i + 2]
        if escape in _ESCAPES:
            chars.append(_ESCAPES[escape])
            i += 2
        elif escape in _HEX_ESCAPES:
            digits = text[i + 2 : i + 2 + _HEX_ESCAPES[escape]]
            if len(digits) != _HEX_ESCAPES[escape] or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ExpressionError(
                    f'not a valid condition: "\\{escape}" at character {i + 1} needs {_HEX_ESCAPES[escape]} hex digits',
                    i + 1,
                )
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise ExpressionError(f'not a valid condition: "\\{escape}{digits}" at character {i + 1} is not a '
                                      "character", i + 1)
            chars.append(chr(code))
            i += 2 + len(digits)
        else:
            echoed = shown(escape, 1) if escape else "end"
            raise ExpressionError(
                f'not a valid condition: unknown escape "\\{echoed}" at character {i + 1}; the escapes are '
                r"\\ \' \" \n \t \r \xhh \uhhhh \Uhhhhhhhh",
                i + 1,
            )
    raise ExpressionError(f"not a valid condition: the string opened with {quote} at character {start + 1} "
                          "is never closed", start + 1)


def _number(text: str, match: re.Match[str]) -> _Token:
    written, position = match.group(), match.start() + 1
    after = text[match.end() : match.end() + 1]
    if after and (after.isalnum() or after in "_."):
        rest = _NAME.match(text, match.end())
        echoed = shown(written + (rest.group() if rest else after), 20)
        raise ExpressionError(f'not a valid condition: "{echoed}" at character {position} is not a number '
                              "(decimal numbers only, e.g. 42, 0.5, 1e5)", position)
    if len(written) > MAX_NUMBER_DIGITS:
        raise ExpressionError(f"a number of {len(written):,} characters at character {position}; numbers have at most "
                              f"{MAX_NUMBER_DIGITS}", position)
    digits = written.replace("_", "")
    if re.fullmatch(r"[0-9]+", digits):
        if len(digits) > 1 and digits[0] == "0" and digits.strip("0"):
            raise ExpressionError(
                f'not a valid condition: "{written}" at character {position} has a leading zero; drop it, or quote '
                f'the value ("{written}") if the column holds text', position)
        value: int | float = int(digits)
        if not -(2**63) <= value < 2**63:
            value = float(digits)
    else:
        value = float(digits)
    return _Token("number", written, value, position)


# Parser ------------------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """Parse a `where` condition into its tree; nothing in it is run.

    Parameters
    ----------
    text : str
        The condition as written in the config.

    Returns
    -------
    Node
        The root of the tree (a condition only once `check` has found it to be one).

    Raises
    ------
    ExpressionError
        If the text is not in the grammar or exceeds a bound; the message names the character.

    Examples
    --------
    >>> parse("age >= 18 and region in ['north', 'east']")
    And(operands=(Comparison(op='>=', left=Column(name='age'), right=Constant(value=18)), \
IsIn(operand=Column(name='region'), values=('north', 'east'), negated=False)))
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is {len(text):,} characters long; a condition has at most {MAX_LENGTH:,}")
    tree = _Parser(_tokens(text)).condition_to_end()
    _check_depth(tree)
    return tree


class _Parser:
    """Recursive descent over the tokens; `deeper` bounds every recursion before it happens."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def condition_to_end(self) -> Node:
        tree = self.or_()
        token = self.peek()
        if token.kind != "end":
            if token.text == ")":
                raise ExpressionError(f'not a valid condition: ")" at character {token.position} closes nothing',
                                      token.position)
            self.unexpected(token, "an operator or the end of the condition")
        return tree

    # helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.at += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text == word

    def deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep at character {token.position}; "
                                  "simplify it", token.position)

    def unexpected(self, token: _Token, expected: str) -> NoReturn:
        where = f"at character {token.position}"
        if token.kind == "end":
            raise ExpressionError(f"not a valid condition: it ends too early (character {token.position}); "
                                  f"expected {expected}", token.position)
        if token.kind == "op" and token.text in ("(", "[", "."):
            previous = self.tokens[self.at - 1] if self.at > 0 else None
            if token.text == "." or (previous is not None and (previous.kind in ("name", "quoted", "string", "number")
                                                               or previous.text in (")", "]"))):
                what = {"(": "a function call", "[": "indexing", ".": "an attribute"}[token.text]
                raise ExpressionError(f'{ONLY}; "{token.text}" at character {token.position} is {what}', token.position)
        if token.kind == "name" and token.text in _PYTHON_WORDS and token.text not in _OUR_WORDS | {"is"}:
            raise ExpressionError(f'{ONLY}; "{token.text}" at character {token.position} is a Python keyword '
                                  "(write `" + token.text + "` for a column of that name)", token.position)
        hints = {
            "=": 'use "==" to compare', ":=": "assignments are not allowed", "&&": 'use "and"', "||": 'use "or"',
            "!": 'use "not"', "@": "local variables are not available; name a column",
            "#": "comments are not allowed", "^": 'use "**" for a power', "is": 'use "==" or "!="',
        }
        hint = hints.get(token.text)
        echoed = shown(token.text, 20)
        raise ExpressionError(
            f'not a valid condition: unexpected "{echoed}" {where}; {hint or "expected " + expected}', token.position
        )

    # grammar

    def or_(self) -> Node:
        first = self.and_()
        operands = [first]
        position = self.peek().position
        while self.is_word("or") or self.is_op("|"):
            self.take()
            operands.append(self.and_())
        return first if len(operands) == 1 else Or(tuple(operands), position)

    def and_(self) -> Node:
        first = self.not_()
        operands = [first]
        position = self.peek().position
        while self.is_word("and") or self.is_op("&"):
            self.take()
            operands.append(self.not_())
        return first if len(operands) == 1 else And(tuple(operands), position)

    def not_(self) -> Node:
        if self.is_word("not"):
            token = self.take()
            self.deeper(token)
            operand = self.not_()
            self.depth -= 1
            return Not(operand, token.position)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        pairs: list[Node] = []
        while True:
            token = self.peek()
            if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
                self.take()
                right = self.sum()
                pairs.append(Comparison(token.text, left, right, token.position))
                left = right
            elif self.is_word("in") or (self.is_word("not") and self.peek(1).kind == "name" and self.peek(1).text == "in"):
                negated = self.take().text == "not"
                if negated:
                    self.take()
                pairs.append(IsIn(left, self.list_(), negated, token.position))
                following = self.peek()
                if self.is_op("==", "!=", "<", "<=", ">", ">=") or self.is_word("in"):
                    raise ExpressionError(
                        f'not a valid condition: "{following.text}" at character {following.position} follows an '
                        '"in" list; join the two with "and"', following.position)
                break
            else:
                break
        if not pairs:
            return left
        return pairs[0] if len(pairs) == 1 else And(tuple(pairs), pairs[0].position)

    def list_(self) -> tuple[Scalar, ...]:
        opening = self.peek()
        if not self.is_op("[", "("):
            self.unexpected(opening, 'a list after "in", e.g. ["a", "b"]')
        closing = "]" if self.take().text == "[" else ")"
        values: list[Scalar] = []
        while not self.is_op(closing):
            if len(values) >= MAX_LIST:
                raise ExpressionError(f'the list at character {opening.position} has more than {MAX_LIST} values',
                                      opening.position)
            values.append(self.list_value())
            if self.is_op(","):
                self.take()
            elif not self.is_op(closing):
                self.unexpected(self.peek(), f'"," or "{closing}" to close the list at character {opening.position}')
        self.take()
        return tuple(values)

    def list_value(self) -> Scalar:
        signs = []
        while self.is_op("-", "+") and len(signs) < MAX_DEPTH:
            signs.append(self.take().text)
        token = self.peek()
        if token.kind == "number" and isinstance(token.value, (int, float)):
            self.take()
            return -token.value if signs.count("-") % 2 else token.value
        if not signs and token.kind == "string":
            self.take()
            return str(token.value)
        if not signs and token.kind == "name" and token.text in ("True", "False"):
            self.take()
            return token.text == "True"
        self.unexpected(token, "a number" if signs else 'a number, a string, True or False (a list after "in" '
                        "holds constants)")

    def sum(self) -> Node:
        left = self.term()
        while self.is_op("+", "-"):
            token = self.take()
            left = Arithmetic(token.text, left, self.term(), token.position)
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.is_op("*", "/", "//", "%"):
            token = self.take()
            left = Arithmetic(token.text, left, self.unary(), token.position)
        return left

    def unary(self) -> Node:
        if self.is_op("-", "+", "~"):
            token = self.take()
            self.deeper(token)
            operand = self.unary()
            self.depth -= 1
            return Not(operand, token.position) if token.text == "~" else Unary(token.text, operand, token.position)
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.is_op("**"):
            token = self.take()
            self.deeper(token)
            exponent = self.unary()
            self.depth -= 1
            return Arithmetic("**", base, exponent, token.position)
        return base

    def atom(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.take()
            assert token.value is not None
            return Constant(token.value, token.position)
        if token.kind == "string":
            self.take()
            assert token.value is not None
            return Constant(token.value, token.position)
        if token.kind == "quoted":
            self.take()
            return Column(str(token.value), token.position)
        if token.kind == "name" and token.text in ("True", "False"):
            self.take()
            return Constant(token.text == "True", token.position)
        if token.kind == "name" and token.text not in _OUR_WORDS and token.text not in _PYTHON_WORDS:
            self.take()
            return Column(token.text, token.position)
        if self.is_op("("):
            self.take()
            self.deeper(token)
            inner = self.or_()
            self.depth -= 1
            if not self.is_op(")"):
                if self.peek().kind == "end":
                    raise ExpressionError(f'not a valid condition: "(" at character {token.position} is never closed',
                                          token.position)
                self.unexpected(self.peek(), f'")" to close the "(" at character {token.position}')
            self.take()
            return inner
        if self.is_op("["):
            raise ExpressionError(f'{ONLY}; "[" at character {token.position} opens a list outside "in"', token.position)
        self.unexpected(token, 'a column, a number, a string, True, False or "("')


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Column, Constant)):
        return ()
    if isinstance(node, (Unary, Not, IsIn)):
        return (node.operand,)
    if isinstance(node, (Arithmetic, Comparison)):
        return (node.left, node.right)
    return node.operands


def _check_depth(tree: Node) -> None:
    """Reject trees deeper than `MAX_DEPTH` (long `a + b + c …` chains), iteratively, so evaluating them is safe."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep at character {node.position}; "
                                  "simplify it", node.position)
        stack.extend((child, depth + 1) for child in _children(node))


def _columns(tree: Node) -> list[Column]:
    """The first `Column` node of each name, in order of appearance."""
    found: dict[str, Column] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Column):
            found.setdefault(node.name, node)
        stack.extend(reversed(_children(node)))
    return list(found.values())


def column_names(tree: Node) -> list[str]:
    """The columns a tree uses, each once, in order of appearance.

    Examples
    --------
    >>> column_names(parse("`annual income` > 1e5 or age < 30 and age > 20"))
    ['annual income', 'age']
    """
    return [column.name for column in _columns(tree)]


# Kinds -------------------------------------------------------------------------------------------

_ORDER = ("<", "<=", ">", ">=")
_SAID = {"number": "a number", "text": "text", "bool": "a condition (true or false)"}


def _constant_kind(value: Scalar) -> Kind:
    if isinstance(value, bool):
        return "bool"
    return "text" if isinstance(value, str) else "number"


def check(tree: Node, kinds: Mapping[str, Kind]) -> Kind:
    """The kind of value a tree gives, given the kinds of its columns; every operation's operands are checked.

    Engines call this before translating a tree, so a condition is refused alike everywhere.

    Parameters
    ----------
    tree : Node
        A parsed condition (at most `MAX_DEPTH` deep).
    kinds : mapping of str to Kind
        The kind of each column the tree names.

    Raises
    ------
    ExpressionError
        If an operation gets a kind it does not take (arithmetic on text, text compared with a number,
        `and` on a number, a list after `in` of another kind); the message names the operator's character.

    Examples
    --------
    >>> check(parse("income / 12 > 3000 and not retired"), {"income": "number", "retired": "bool"})
    'bool'
    """
    if isinstance(tree, Column):
        return kinds[tree.name]
    if isinstance(tree, Constant):
        return _constant_kind(tree.value)
    at = f"at character {tree.position}"
    if isinstance(tree, Unary):
        kind = check(tree.operand, kinds)
        if kind != "number":
            raise ExpressionError(f'"{tree.op}" {at} needs a number, not {_SAID[kind]}', tree.position)
        return "number"
    if isinstance(tree, Arithmetic):
        left, right = check(tree.left, kinds), check(tree.right, kinds)
        if left != "number" or right != "number":
            wrong = f"its left is {_SAID[left]}" if left != "number" else f"its right is {_SAID[right]}"
            raise ExpressionError(f'"{tree.op}" {at} needs numbers on both sides; {wrong} (no arithmetic on text '
                                  "or conditions)", tree.position)
        return "number"
    if isinstance(tree, Comparison):
        left, right = check(tree.left, kinds), check(tree.right, kinds)
        if left != right:
            hint = '; quote text ("1")' if {left, right} == {"text", "number"} else ""
            raise ExpressionError(f'"{tree.op}" {at} compares {_SAID[left]} with {_SAID[right]}; compare values of '
                                  f"one kind{hint}", tree.position)
        if left == "bool" and tree.op in _ORDER:
            raise ExpressionError(f'"{tree.op}" {at} orders true/false values; use "==" or "!="', tree.position)
        return "bool"
    if isinstance(tree, IsIn):
        kind = check(tree.operand, kinds)
        other = next((v for v in tree.values if _constant_kind(v) != kind), None)
        if other is not None:
            word = "not in" if tree.negated else "in"
            raise ExpressionError(f'"{word}" {at}: the list holds {_SAID[_constant_kind(other)]} '
                                  f"({shown(repr(other), 20)}) but the value before it is {_SAID[kind]}",
                                  tree.position)
        return "bool"
    operands = (tree.operand,) if isinstance(tree, Not) else tree.operands
    word = "not" if isinstance(tree, Not) else "and" if isinstance(tree, And) else "or"
    for operand in operands:
        kind = check(operand, kinds)
        if kind != "bool":
            raise ExpressionError(f'"{word}" {at} needs conditions (true or false), not {_SAID[kind]}', tree.position)
    return "bool"


# Evaluation --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """A computed value: an array with one entry per row, or a scalar for a constant.

    Numbers are float64 (int64 straight from an integer column) with NaN where missing; text is an object
    array and true/false a bool array, each with missing entries filled ("" and False) and flagged in
    `missing` (None: none missing). `whole` keeps pandas' integer answer where float64 differs: -0 is 0,
    so `1 / -i` is +inf where i is 0.
    """

    kind: Kind
    data: object
    missing: np.ndarray | None = None
    whole: bool = False  # a number computed from integers only (by + - * // % **): it has no negative zero


_COMPARE = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
}
_ARITHMETIC = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "//": np.floor_divide,
    "%": np.remainder, "**": np.power,
}


def evaluate(tree: Node, frame: pd.DataFrame) -> np.ndarray:
    """The rows of `frame` where a condition holds.

    Parameters
    ----------
    tree : Node
        A parsed condition (`parse`).
    frame : DataFrame
        The rows; the tree's columns are looked up by exact name.

    Returns
    -------
    ndarray of bool
        One entry per row: True where the condition holds (a comparison with a missing value is false,
        except `!=` and `not in`).

    Raises
    ------
    ExpressionError
        If a column is missing or of a kind conditions cannot use (dates, mixed values), the tree does not
        type-check (`check`), or it is not a condition.

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [17, 40, None], "region": ["north", "south", "east"]})
    >>> evaluate(parse("age >= 18 or region in ['east']"), frame).tolist()
    [False, True, True]
    """
    columns: dict[str, _Value] = {}
    names = [str(c) for c in frame.columns]
    for column in _columns(tree):
        count = names.count(column.name)
        if count == 0:
            raise ExpressionError(
                f'no column "{shown(column.name, 40)}" (character {column.position}); columns are: '
                f"{plain_list([shown(name, 40) for name in names], limit=12)}"
                f"{did_you_mean(column.name, [name for name in names if len(name) <= 200])}",
                column.position,
            )
        if count > 1:
            raise ExpressionError(f'{count} columns are named "{shown(column.name, 40)}"', column.position)
        columns[column.name] = _column_value(frame.iloc[:, names.index(column.name)], column)
    kind = check(tree, {name: value.kind for name, value in columns.items()})
    if kind != "bool":
        raise ExpressionError(f"must be a condition, true or false for each row; it gives {_SAID[kind]}")
    with np.errstate(all="ignore"):
        result = _truth(_compute(tree, columns))
    return np.broadcast_to(np.asarray(result, dtype=bool), (len(frame),)).copy()


def _column_value(series: pd.Series, column: Column) -> _Value:
    """A column as a `_Value`, or an ExpressionError for a kind of values conditions cannot use."""
    dtype = series.dtype
    missing = series.isna().to_numpy(dtype=bool)
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _Value("bool", series.fillna(False).to_numpy(dtype=bool), missing if missing.any() else None)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        whole = pd.api.types.is_integer_dtype(dtype)
        if isinstance(dtype, np.dtype) and dtype.kind in "iu":
            return _Value("number", series.to_numpy(), whole=True)
        return _Value("number", series.to_numpy(dtype=np.float64, na_value=np.nan), whole=whole)
    inferred = pd.api.types.infer_dtype(series, skipna=True) if (
        pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)) else str(dtype)
    if inferred == "string":
        text = series.to_numpy(dtype=object, na_value="", copy=True)
        text[missing] = ""
        return _Value("text", text, missing if missing.any() else None)
    if inferred == "boolean":
        return _Value("bool", series.where(~missing, False).to_numpy(dtype=bool), missing if missing.any() else None)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
        return _Value("number", pd.to_numeric(series.where(~missing, np.nan)).to_numpy(dtype=np.float64))
    described = "values of mixed kinds" if inferred.startswith("mixed") else f"{shown(inferred, 30)} values"
    raise ExpressionError(
        f'column "{shown(column.name, 40)}" (character {column.position}) holds {described}; conditions compare '
        "numbers, text and true/false values",
        column.position,
    )


def _float(data: object) -> object:
    return data.astype(np.float64) if isinstance(data, np.ndarray) else np.float64(data)  # type: ignore[arg-type]


def _whole(data: object, whole: bool) -> object:
    """Turn -0.0 into 0.0 in a result computed from integers (pandas computes those in int64)."""
    return data + 0.0 if whole else data  # type: ignore[operator]


def _truth(value: _Value) -> object:
    """A bool value as a condition: missing entries (filled with False) count as false."""
    return value.data


def _missing(*values: _Value) -> np.ndarray | None:
    masks = [v.missing for v in values if v.missing is not None]
    return None if not masks else masks[0] if len(masks) == 1 else np.logical_or(masks[0], masks[1])


def _compute(node: Node, columns: Mapping[str, _Value]) -> _Value:
    """Evaluate a checked tree (kinds as `check` found them; float64 errors silenced by the caller)."""
    if isinstance(node, Column):
        return columns[node.name]
    if isinstance(node, Constant):
        whole = isinstance(node.value, int) and not isinstance(node.value, bool)
        return _Value(_constant_kind(node.value), node.value, whole=whole)
    if isinstance(node, Unary):
        operand = _compute(node.operand, columns)
        data = _float(operand.data)
        return _Value("number", _whole(np.negative(data) if node.op == "-" else data, operand.whole), whole=operand.whole)
    if isinstance(node, Arithmetic):
        left, right = _compute(node.left, columns), _compute(node.right, columns)
        whole = left.whole and right.whole and node.op != "/"
        return _Value("number", _whole(_ARITHMETIC[node.op](_float(left.data), _float(right.data)), whole), whole=whole)
    if isinstance(node, Comparison):
        left, right = _compute(node.left, columns), _compute(node.right, columns)
        result = _COMPARE[node.op](left.data, right.data)
        missing = _missing(left, right)
        if missing is not None:
            result = np.where(missing, node.op == "!=", result)
        return _Value("bool", result)
    if isinstance(node, IsIn):
        operand = _compute(node.operand, columns)
        found = _is_in(operand, node.values)
        if operand.missing is not None:
            found = found & ~operand.missing
        return _Value("bool", np.logical_not(found) if node.negated else found)
    if isinstance(node, Not):
        return _Value("bool", np.logical_not(_truth(_compute(node.operand, columns))))
    combine = np.logical_and if isinstance(node, And) else np.logical_or
    result = _truth(_compute(node.operands[0], columns))
    for operand in node.operands[1:]:
        result = combine(result, _truth(_compute(operand, columns)))
    return _Value("bool", result)


def _is_in(operand: _Value, values: tuple[Scalar, ...]) -> object:
    """Membership of each entry of `operand` in `values` (constants of its kind), ignoring missing flags."""
    data = operand.data
    if not isinstance(data, np.ndarray):
        return any(data == v for v in values)
    if not values:
        return np.zeros(len(data), dtype=bool)
    if operand.kind == "number":
        return np.isin(data, np.asarray(values))
    if operand.kind == "bool":
        return np.where(data, True in values, False in values)
    return pd.Series(data, copy=False).isin(values).to_numpy(dtype=bool)
