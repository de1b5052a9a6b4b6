"""`where` conditions in SQL: a checked tree of `reportgen.expression` as a condition for DuckDB and Spark SQL.

Nothing of the condition's text reaches the SQL. Each constant is a positional `?` parameter, cast to its type;
each column is an identifier made by the caller's `quote` (`duckdb_identifier`, `spark_identifier`); every other
character comes from the templates below. The SQL is TRUE on exactly the rows where `evaluate` gives True, and
FALSE (never NULL) on the others; one spelling runs on DuckDB (>= 1.1) and Spark SQL (3.5+, ANSI mode or not):

- Missing values. A comparison reads NaN as NULL (`NULLIF`; DuckDB and Spark hold NaN equal to itself and above
  every number, numpy holds it missing), and a NULL answer becomes the answer for missing values: false, except
  for `!=` and `not in`. Columns and constants are compared as they are, so int64 values compare exactly, as in
  numpy; anything computed is a DOUBLE.
- Arithmetic is in DOUBLE, with NULL read as NaN (so that a missing value `** 0` is 1, as in numpy). Division by
  zero is spelled out (DuckDB may return NULL, Spark raises in ANSI mode): x / 0 is x * POWER(0, -1), which
  keeps the sign of a negative zero. `//` and `%` are numpy's floor_divide and remainder, bit for bit, built from
  `%` (C's fmod in both engines) and ROUND (Spark's FLOOR returns a BIGINT). POWER gives C's answers where
  Java's differ (`1 ** nan`, `(-1) ** inf` are 1).
- Negative zero. As in `evaluate`, a result computed from integers alone has none (`1 / -i` is +inf where i is 0).
  Whether a column holds integers is read from the engine (its TYPEOF contains "int", which among number types
  only the integer ones do); such a result gets + 0.0, which turns -0.0 into 0.0 and changes nothing else. Both
  optimizers take the literals 0.0 and -0.0 for equal (Spark folds `CASE WHEN c THEN -0.0 ELSE 0.0 END` to 0.0,
  DuckDB merges `x + 0.0` and `x + -0.0` as one subexpression), so the SQL has no literal -0.0: a negative zero
  it needs is computed (0.0 * -1, ABS(zero) * SIGN(b)).

Not matched: (1) `**` of arrays in numpy may differ in the last bit from the C library's pow that DuckDB uses
(numpy 2 computes it with SIMD code on AVX-512 machines) and from Java's pow in Spark, so a comparison that hinges
on that bit can differ. (2) Two subexpressions that differ only in the sign of a zero constant (`1 / (x + 0) < 0 or
1 / (x + -0.0) < 0`) are taken for one by both optimizers. (3) SQL compares a nullable integer column (pandas'
Int64) or a DECIMAL column exactly, where `evaluate` compares it in float64: they differ beyond 2**53.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from reportgen.errors import did_you_mean, plain_list, shown
from reportgen.expression import (
    And,
    Arithmetic,
    Column,
    Comparison,
    Constant,
    ExpressionError,
    IsIn,
    Kind,
    Node,
    Not,
    Scalar,
    Unary,
    check,
    column_names,
)

# The most characters of SQL one condition may become: `//` and `%` repeat their operands about ten times, so
# nesting them grows the SQL geometrically (three levels deep pass this bound).
MAX_SQL_LENGTH = 100_000

_NAN = "CAST('NaN' AS DOUBLE)"
_OPERATORS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_TYPES = {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "STRING"}
_KINDS: dict[str, Kind] = {
    # DuckDB, Spark (type names and simple strings) and Arrow names; parameters such as "(10, 2)" are dropped.
    **dict.fromkeys(
        "tinyint smallint int integer bigint hugeint utinyint usmallint uinteger ubigint uhugeint int1 int2 int4 int8 "
        "int16 int32 int64 int128 uint8 uint16 uint32 uint64 byte short long signed float double real float4 float8 "
        "halffloat float16 float32 float64 decimal numeric dec decimal32 decimal64 decimal128 decimal256".split(),
        "number",
    ),
    "double precision": "number",
    **dict.fromkeys("varchar string text char bpchar nvarchar utf8 large_string large_utf8 string_view".split(), "text"),
    **dict.fromkeys("boolean bool logical".split(), "bool"),
}
_GIVES = {"number": "a number", "text": "text"}
_PART = re.compile(r"\{(\d+)\}")


class _Sql(NamedTuple):
    """SQL text and the values of its `?` parameters, in order."""

    text: str
    params: tuple[Scalar, ...] = ()


def duckdb_identifier(name: str) -> str:
    """A column name as a DuckDB identifier: in double quotes, each double quote doubled.

    Examples
    --------
    >>> print(duckdb_identifier('a"; DROP TABLE t; --'))
    "a""; DROP TABLE t; --"
    """
    return '"' + name.replace('"', '""') + '"'


def spark_identifier(name: str) -> str:
    """A column name as a Spark SQL identifier: in backticks, each backtick doubled.

    Examples
    --------
    >>> print(spark_identifier("a`b"))
    `a``b`
    """
    return "`" + name.replace("`", "``") + "`"


def kind_of_sql_type(type_name: str) -> Kind | None:
    """The kind of value a column of a DuckDB, Spark or Arrow type holds, or None for a type conditions cannot use.

    Examples
    --------
    >>> kind_of_sql_type("DECIMAL(18,3)"), kind_of_sql_type("string"), kind_of_sql_type("TIMESTAMP")
    ('number', 'text', None)
    """
    return _KINDS.get(re.sub(r"\s*\(.*", "", type_name.strip().lower()))


def to_sql(tree: Node, kinds: Mapping[str, Kind], quote: Callable[[str], str]) -> tuple[str, list[Scalar]]:
    """SQL text of a condition and its parameters in order; the result is TRUE exactly on the rows where
    `expression.evaluate` gives True, and FALSE (never NULL) elsewhere.

    Parameters
    ----------
    tree : Node
        A parsed condition (`expression.parse`).
    kinds : mapping of str to Kind
        The kind of each column, from the engine's types (`kind_of_sql_type`).
    quote : callable
        Makes a column name an identifier of the engine: `duckdb_identifier` or `spark_identifier`.

    Returns
    -------
    str, list
        The condition, for a SELECT list or a WHERE clause, and the values of its `?` parameters.

    Raises
    ------
    ExpressionError
        If the tree names a column not in `kinds`, does not type-check (`check`), is not a condition, or its SQL
        would exceed `MAX_SQL_LENGTH` characters.

    Examples
    --------
    >>> from reportgen.expression import parse
    >>> sql, params = to_sql(parse("region != 'north'"), {"region": "text"}, duckdb_identifier)
    >>> print(sql, params)
    COALESCE("region" <> CAST(? AS STRING), TRUE) ['north']
    """
    unknown = [name for name in column_names(tree) if name not in kinds]
    if unknown:
        raise ExpressionError(f'no column "{shown(unknown[0], 40)}"; columns are: '
                              f"{plain_list([shown(name, 40) for name in kinds], limit=12)}"
                              f"{did_you_mean(unknown[0], list(kinds))}")
    kind = check(tree, kinds)
    if kind != "bool":
        raise ExpressionError(f"must be a condition, true or false for each row; it gives {_GIVES[kind]}")
    sql = _Translation(kinds, quote).condition(tree)
    return sql.text, list(sql.params)


def _sql(template: str, *parts: _Sql) -> _Sql:
    """`template` with each {i} replaced by `parts[i]` (parts are never scanned); parameters in text order."""
    pieces = _PART.split(template)  # text, part number, text, part number, ..., text
    used = [parts[int(number)] for number in pieces[1::2]]
    text = "".join(piece if i % 2 == 0 else used[i // 2].text for i, piece in enumerate(pieces))
    if len(text) > MAX_SQL_LENGTH:
        raise ExpressionError(f"is too long for SQL once its arithmetic is spelled out (over {MAX_SQL_LENGTH:,} "
                              'characters); nest fewer "//", "%", "/" and "**"')
    return _Sql(text, tuple(param for part in used for param in part.params))


def _listed(parts: list[_Sql], separator: str, first: int = 0) -> str:
    """Placeholders for `parts` numbered from `first`, joined by `separator`."""
    return separator.join(f"{{{first + i}}}" for i in range(len(parts)))


def _parameter(value: Scalar, sql_type: str | None = None) -> _Sql:
    return _Sql(f"CAST(? AS {sql_type or _TYPES[type(value)]})", (value,))


def _arithmetic(op: str, a: _Sql, b: _Sql) -> _Sql:
    """`a op b` as numpy computes it in float64 (a and b are DOUBLE, never NULL)."""
    if op in ("+", "-", "*"):
        return _sql("({0} " + op + " {1})", a, b)
    if op == "/":
        return _sql("(CASE WHEN {1} = 0 THEN {0} * POWER({1}, -1) ELSE {0} / {1} END)", a, b)
    if op == "**":
        return _sql("(CASE WHEN {0} = 1 OR ({0} = -1 AND ABS({1}) = CAST('Infinity' AS DOUBLE)) "
                    "THEN CAST(1 AS DOUBLE) ELSE POWER({0}, {1}) END)", a, b)
    fmod = _sql("({0} % {1})", a, b)  # C's fmod (for b != 0): exact, with the sign of a
    if op == "%":  # numpy's remainder: fmod moved to the sign of b, a zero signed as b
        return _sql(f"(CASE WHEN {{1}} = 0 THEN {_NAN} WHEN {{2}} = 0 THEN ABS({{2}}) * SIGN({{1}}) "
                    "WHEN ({1} < 0) = ({2} < 0) THEN {2} ELSE {2} + {1} END)", a, b, fmod)
    # numpy's floor_divide: (a - fmod) / b rounded to the nearest integer (a half down, as numpy snaps it; adding
    # the integer 0 turns ROUND's -0.0 into 0.0), less 1 where fmod and b differ in sign; a / b where fmod is 0
    quotient = _sql("(({0} - {2}) / {1})", a, b, fmod)
    nearest = _sql("(ROUND({0}) + CASE WHEN ROUND({0}) - {0} = 0.5 THEN -1 ELSE 0 END)", quotient)
    return _sql("(CASE WHEN {1} = 0 THEN {0} * POWER({1}, -1) WHEN {2} = 0 THEN {0} / {1} "
                "ELSE {3} - CASE WHEN ({1} < 0) <> ({2} < 0) THEN 1 ELSE 0 END END)", a, b, fmod, nearest)


def _whole(node: Node) -> tuple[str, ...] | None:
    """The columns that, if they hold integers, make `node` a result from integers alone (`evaluate`'s `whole`);
    None if it cannot be one (a float constant, a `/`)."""
    if isinstance(node, Column):
        return (node.name,)
    if isinstance(node, Constant):
        return () if isinstance(node.value, int) else None
    if isinstance(node, Unary):
        return _whole(node.operand)
    assert isinstance(node, Arithmetic)
    left, right = _whole(node.left), _whole(node.right)
    return None if node.op == "/" or left is None or right is None else tuple(dict.fromkeys(left + right))


class _Translation:
    """The SQL of the nodes of a checked tree, given its columns' kinds and the engine's identifier quoting."""

    def __init__(self, kinds: Mapping[str, Kind], quote: Callable[[str], str]) -> None:
        self.kinds = kinds
        self.quote = quote

    def column(self, name: str) -> _Sql:
        return _Sql(self.quote(name))

    def condition(self, node: Node) -> _Sql:
        """A condition: TRUE or FALSE on every row."""
        if isinstance(node, Column):
            return _sql("COALESCE({0}, FALSE)", self.column(node.name))
        if isinstance(node, Constant):
            return _parameter(node.value)
        if isinstance(node, Comparison):
            missing = "TRUE" if node.op == "!=" else "FALSE"
            return _sql("COALESCE({0} " + _OPERATORS[node.op] + " {1}, " + missing + ")",
                        self.operand(node.left), self.operand(node.right))
        if isinstance(node, IsIn):
            return self.is_in(node)
        if isinstance(node, Not):
            return _sql("(NOT {0})", self.condition(node.operand))
        operands = [self.condition(operand) for operand in node.operands]
        return _sql("(" + _listed(operands, " AND " if isinstance(node, And) else " OR ") + ")", *operands)

    def is_in(self, node: IsIn) -> _Sql:
        if isinstance(node.operand, Constant):  # `evaluate` compares a constant with Python's ==
            return _parameter(any(node.operand.value == value for value in node.values) != node.negated)
        if not node.values:
            return _Sql("TRUE" if node.negated else "FALSE")
        # (like np.isin, both engines compare in DOUBLE when the list holds a DOUBLE)
        values = [_parameter(value) for value in node.values]
        found = _sql("COALESCE({0} IN (" + _listed(values, ", ", first=1) + "), FALSE)", self.operand(node.operand),
                     *values)
        return _sql("(NOT {0})", found) if node.negated else found

    def operand(self, node: Node) -> _Sql:
        """A value to compare: a column or constant as it is, any other number as DOUBLE; NULL where missing."""
        if isinstance(node, Column):
            if self.kinds[node.name] != "number":
                return self.column(node.name)
            return _sql("(CASE WHEN ISNAN(CAST({0} AS DOUBLE)) THEN NULL ELSE {0} END)", self.column(node.name))
        if isinstance(node, Constant):
            return _parameter(node.value)
        if isinstance(node, (Unary, Arithmetic)):
            return _sql(f"NULLIF({{0}}, {_NAN})", self.number(node))
        return self.condition(node)

    def number(self, node: Node) -> _Sql:
        """A number as DOUBLE, never NULL: NaN where missing."""
        if isinstance(node, Column):
            return _sql(f"COALESCE(CAST({{0}} AS DOUBLE), {_NAN})", self.column(node.name))
        if isinstance(node, Constant):
            return _parameter(node.value, "DOUBLE")
        if isinstance(node, Unary):
            operand = self.number(node.operand)
            return operand if node.op == "+" else self.without_negative_zero(node, _sql("(-{0})", operand))
        assert isinstance(node, Arithmetic)
        value = _arithmetic(node.op, self.number(node.left), self.number(node.right))
        # + and - of values without negative zero give none; the other operations can
        return value if node.op in ("+", "-") else self.without_negative_zero(node, value)

    def without_negative_zero(self, node: Node, value: _Sql) -> _Sql:
        """`value` + 0.0 where `node` is computed from integers alone (-0.0 + 0.0 is 0.0), + -0.0 (which changes
        nothing) where that depends on its columns' types, else `value`."""
        columns = _whole(node)
        if columns is None:
            return value
        tests = [_sql("LOWER(TYPEOF({0})) LIKE '%int%'", self.column(name)) for name in columns]
        sign = "" if not tests else " * CASE WHEN " + _listed(tests, " AND ", first=1) + " THEN 1 ELSE -1 END"
        return _sql("({0} + CAST(0 AS DOUBLE)" + sign + ")", value, *tests)
