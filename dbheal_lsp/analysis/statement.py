"""A SQL statement as found in source code: literal text pieces, interpolated slots, parameters.

A source language (languages/language.py; for Python, the extractor of
languages/python/extract.py) builds a `Statement` from whatever expression reaches a database
call; `render` turns it into SQL text that SQLite and sqlglot can read, with every character
mapped back to its position in the source file and every interpolated slot replaced by a
stand-in of the right role (a bound value, or an identifier). Nothing after the `Statement`
knows which language it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from dbheal_lsp.model import Span

SlotKind = Literal["fstring", "percent", "format", "concat", "join", "template"]
# "fragment": a slot where neither a value nor a name can stand (`WHERE a = 0 %s`, `FROM t %s`):
# it holds a piece of SQL text, unknown here, and is rendered as a comment so that the text the
# code spells out around it is still checked.
SlotRole = Literal["value", "identifier", "in_string", "fragment"]


@dataclass(frozen=True)
class ValueInfo:
    """What the code evidently knows about a Python value: its type and the helper giving it."""

    source: str
    span: Span
    code_type: str | None = None  # an SQLite affinity name: INTEGER, REAL, TEXT, NUMERIC, BLOB
    helper: str | None = None  # "int", "float", "str", "bool", "Decimal" when a cast call gives it
    helper_span: Span | None = None  # the span of the helper's name, e.g. "int" of int(x)
    constant: bool = False  # a literal or a module constant: cannot carry user input
    numeric_cast: bool = False  # int(...) / float(...): cannot carry SQL either
    safe_identifier: bool = False  # passed through a configured quoting / allow-list helper
    # Built only from the program's own data (languages/python/origins.py): no outside text reaches it,
    # although its exact value is not known.
    program_data: bool = False
    # Text whose single quotes are escaped (`x.replace("'", "''")`): inside an SQL string
    # literal, it cannot end the literal.
    quote_escaped: bool = False


@dataclass(frozen=True)
class TextPiece:
    """Literal SQL text with the (line, column) of each character in the Python file."""

    text: str
    positions: tuple[tuple[int, int], ...]  # len(text) + 1 entries; the last is the end


@dataclass(frozen=True)
class Slot:
    """A Python expression interpolated into the SQL text (f-string, %, .format or +)."""

    index: int
    kind: SlotKind
    value: ValueInfo


Piece: TypeAlias = "TextPiece | Slot"


# The prefix of `Statement.database` for a file the code opens from a path it does not spell
# (`connect(path)` with `path` a parameter): "<opened at run time> line 251".
RUN_TIME = "<opened at run time> "


@dataclass(frozen=True)
class ResultCast:
    """A number cast the code applies to one column of a query's result (languages/python/results.py)."""

    column: int  # 0-based index in the result row
    helper: str  # int or float
    source: str  # the Python name cast
    span: Span  # the cast call in the Python file


@dataclass(frozen=True)
class Parameter:
    """A Python expression bound to a placeholder: by position (0-based) or by name."""

    position: int | None
    name: str | None
    value: ValueInfo


# The call names whose binding rules PARAMETER_MISMATCH knows (each language maps its own calls
# onto them). Calls that bind in the DB-API way: the statement, then one sequence or mapping.
DBAPI_CALLS = frozenset({"execute", "executemany"})
# asyncpg's way: every value after the statement is one parameter ($1, $2, ...).
ARGS_STYLE_CALLS = frozenset({"fetch", "fetchrow", "fetchval"})


@dataclass(frozen=True)
class BoundRow:
    """One set of values a call binds: `count` values by position, or the `keys` of a dict."""

    span: Span  # the literal (or the name holding it) in the source file
    count: int | None = None
    keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Bindings:
    """What a call certainly binds: one row, or each row of `executemany`'s literal list."""

    rows: tuple[BoundRow, ...]
    passed: bool = True  # False: the call passes no parameters at all
    many: bool = False  # executemany: messages name the row


@dataclass(frozen=True)
class Statement:
    """One SQL statement (or script) that a call sends to the database."""

    pieces: tuple[Piece, ...]
    call: str  # the called name: execute, executemany, executescript, text, ...
    span: Span  # the SQL argument's span in the Python file
    name_span: Span  # the called name's span, e.g. "execute"
    call_span: Span  # the whole call expression, receiver and arguments included
    parameters: tuple[Parameter, ...] | None  # None when the call passes none we can read
    function: str  # qualified name of the enclosing function, "" at module level
    # In the body of a `try` whose handler catches the database error: a missing table or
    # column there is what the code probes for (upgrade code), not a defect.
    guarded: bool = False
    # The database file the call's connection opens, as the code or [tool.dbheal.databases]
    # names it ("cache.db", ":memory:"); None: the project's main database (it cannot be seen).
    database: str | None = None
    # What the call certainly binds (read by its language: languages/python/parameters.py);
    # None when it cannot be known.
    bindings: Bindings | None = None
    # The number casts the code applies to the result's columns (languages/python/results.py).
    result_casts: tuple[ResultCast, ...] = ()
    # Made at a call of a helper method that builds the SQL (languages/python/call_sites.py):
    # which one and where, "SqlTable.insert in misc/sql.py:525"; "" for a statement written
    # where it is found.
    built_by: str = ""

    @property
    def slots(self) -> tuple[Slot, ...]:
        """Return the interpolated slots in order."""
        return tuple(p for p in self.pieces if isinstance(p, Slot))

    @property
    def is_script(self) -> bool:
        """Return whether the call runs several statements (executescript)."""
        return self.call == "executescript"

    @property
    def literal_text(self) -> str:
        """Return the SQL text without the slots (what the code spells out itself)."""
        return "".join(p.text for p in self.pieces if isinstance(p, TextPiece))


@dataclass(frozen=True)
class SlotRange:
    """Where a slot's stand-in stands in the rendered text, and which role it was given."""

    slot: Slot
    start: int
    end: int
    role: SlotRole

    @property
    def stand_in(self) -> str:
        """Return the stand-in name used for this slot (a parameter or identifier name)."""
        return slot_name(self.slot.index)


@dataclass(frozen=True)
class Rendered:
    """SQL text ready for SQLite and sqlglot, mapped back to the Python file."""

    text: str
    positions: tuple[tuple[int, int], ...]  # len(text) + 1 entries
    slots: tuple[SlotRange, ...]

    def span(self, start: int, end: int) -> Span:
        """Return the Python-file span of text[start:end] (end exclusive)."""
        inside = self.slot_at(start, end)
        if inside is not None:
            # A token made of a stand-in points at the whole interpolated expression.
            return inside.slot.value.span
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        line, col = self.positions[start]
        if end == start:
            return Span(line, col, line, col + 1)
        eline, ecol = self.positions[end - 1]
        return Span(line, col, eline, ecol + 1)

    def slot_at(self, start: int, end: int) -> SlotRange | None:
        """Return the slot whose stand-in covers text[start:end], if any."""
        for sr in self.slots:
            if sr.start <= start and end <= sr.end:
                return sr
        return None


_STAND_IN_PREFIX = "__dbheal_"


def slot_name(index: int) -> str:
    """Return the stand-in identifier for slot `index` (never a real name in an app)."""
    return f"{_STAND_IN_PREFIX}{index}"


def is_stand_in(name: str) -> bool:
    """Return whether `name` is (or contains) a slot's stand-in rather than a real name."""
    return _STAND_IN_PREFIX in name


# Keywords after which an interpolated part names a table or column rather than a value.
_IDENTIFIER_AFTER = frozenset(
    {
        "FROM",
        "JOIN",
        "INTO",
        "UPDATE",
        "TABLE",
        "EXISTS",
        "INDEX",
        "BY",
        "SELECT",
        "DISTINCT",
        "AS",
        "VIEW",
        "TRIGGER",
        "ALTER",
        "COLUMN",
        "RENAME",
        "TO",
        ".",
    }
)
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


def _last_word(text: str) -> str:
    """Return the last word (ASCII letters and _), or the last `.`, `,` or `(`, of `text`.

    Written as a backwards walk, not a `$`-anchored pattern: `search` would retry that pattern
    at every letter of a long word, quadratic in the word's length.
    """
    end = len(text.rstrip())
    if end == 0:
        return ""
    if text[end - 1] in ".,(":
        return text[end - 1]
    start = end
    while start > 0 and text[start - 1] in _WORD_CHARS:
        start -= 1
    return text[start:end]


def render(statement: Statement, identifier_slots: frozenset[int] = frozenset()) -> Rendered:
    """Return the statement's SQL with each slot replaced by a stand-in of its role.

    A slot inside a quoted SQL string, or glued to a name (`orders_{year}`), is spelled as a
    plain name; a slot standing where a table or column belongs is an identifier; any other slot
    is a named parameter (`:__dbheal_N`). `identifier_slots` forces slots to the identifier role
    (the checker's second try when SQLite rejects the first reading).
    """
    text_parts: list[str] = []
    positions: list[tuple[int, int]] = []
    ranges: list[SlotRange] = []
    quote: str | None = None
    length = 0
    pieces = statement.pieces
    for i, piece in enumerate(pieces):
        if isinstance(piece, TextPiece):
            text_parts.append(piece.text)
            positions.extend(piece.positions[:-1])
            length += len(piece.text)
            quote = _quote_state(piece.text, quote)
            continue
        role = _slot_role(text_parts, pieces, i, quote, identifier_slots)
        name = slot_name(piece.index)
        stand_in = {"value": f":{name}", "fragment": f"/*{name}*/"}.get(role, name)
        if role == "fragment" and _last_word("".join(text_parts[-3:])).upper() == "SET":
            # `SET {assignments} WHERE`: an assignment SQLite reads (an unknown column it
            # reports by the stand-in's name), so the rest of the statement still prepares.
            stand_in = f"{name} = NULL"
        line, col = piece.value.span.line, piece.value.span.column
        text_parts.append(stand_in)
        positions.extend([(line, col)] * len(stand_in))
        ranges.append(SlotRange(piece, length, length + len(stand_in), role))
        length += len(stand_in)
    end = _end_position(pieces)
    positions.append(end)
    return Rendered("".join(text_parts), tuple(positions), tuple(ranges))


def _end_position(pieces: tuple[Piece, ...]) -> tuple[int, int]:
    if not pieces:
        return (1, 1)
    last = pieces[-1]
    if isinstance(last, TextPiece):
        return last.positions[-1]
    return (last.value.span.end_line, last.value.span.end_column)


def _quote_state(text: str, quote: str | None) -> str | None:
    """Return which SQL quote (' or ") is open after `text`, given the one open before it."""
    for ch in text:
        if quote is None:
            if ch in "'\"`":
                quote = ch
        elif ch == quote:
            quote = None  # a doubled quote closes and reopens: the net state is the same
    return quote


def _slot_role(
    before: list[str],
    pieces: tuple[Piece, ...],
    i: int,
    quote: str | None,
    identifier_slots: frozenset[int],
) -> SlotRole:
    slot = pieces[i]
    assert isinstance(slot, Slot)
    if quote in ("'",):
        return "in_string"
    if quote in ('"', "`"):
        return "identifier"
    prev_text = before[-1] if before else ""
    nxt = pieces[i + 1] if i + 1 < len(pieces) else None
    next_text = nxt.text if isinstance(nxt, TextPiece) else ""
    glued_before = bool(prev_text) and (prev_text[-1].isalnum() or prev_text[-1] == "_")
    # `[x]` quotes a name in SQLite (`"x"` and backticks are read by the quote state).
    bracketed = prev_text.endswith("[") and next_text.startswith("]")
    glued_after = bool(next_text) and (next_text[0].isalnum() or next_text[0] in "_.")
    if glued_before or glued_after or bracketed or slot.index in identifier_slots:
        return "identifier"
    last = _last_word("".join(before[-3:]))
    if last.upper() in _IDENTIFIER_AFTER:
        return "identifier"
    if _COLUMN_LIST.search("".join(before[-3:])[-200:]):
        return "identifier"  # `INSERT INTO t ({cols})`, `CREATE INDEX i ON t ({cols})`
    if _COMPARED_TO_PLACEHOLDER.match(next_text):
        # `WHERE {col}=?`, `SET {col} = :v`, `{col}=0`, `{col}={table}.id`: a column.
        return "identifier"
    joined = "".join(before[-3:])
    if (
        _SELECT_ITEM_AFTER.search(joined)
        and _SELECT_ITEM_BEFORE.match(next_text)
        and _in_select_list("".join(before))
    ):
        return "identifier"
    if last.upper() == "SET" and _AFTER_ASSIGNMENTS.match(next_text):
        return "fragment"  # `SET {assignments} WHERE id = ?`: the list of `col = ?` pairs
    if _ends_an_operand("".join(before[-3:]), last) and (
        not next_text or next_text[0] in " \t\n);"
    ):
        return "fragment"
    return "value"


# What follows an `UPDATE t SET` list: its WHERE (or RETURNING, FROM), or the end.
_AFTER_ASSIGNMENTS = re.compile(r"\s*(?:WHERE\b|RETURNING\b|FROM\b|;|$)", re.IGNORECASE)
# The opening of a column list: `INTO t (`, `ON t (`, `TABLE t (` (the table possibly a slot).
_COLUMN_LIST = re.compile(r"\b(?:INTO|ON|TABLE)\s+[\w.\"`\[\]]+\s*\(\s*$", re.IGNORECASE)
# What follows a column compared with, or set to, a bound value: `=?`, ` >= :x`, ` LIKE %s`.
_COMPARED_TO_PLACEHOLDER = re.compile(
    r"\s*(?:==?|!=|<>|<=|>=|<|>|\s(?:NOT\s+)?(?:LIKE|GLOB|IS)\s)\s*(?:\?|:\w|@\w|\$\d|%s|%\(|\d|\w+\.\w)",
    re.IGNORECASE,
)
# A select-list item that is the slot alone: `SELECT {a}, {b} FROM`, `{c} AS sort`.
_SELECT_ITEM_AFTER = re.compile(r"(?:\bSELECT|\bDISTINCT|,)\s*$", re.IGNORECASE)
_SELECT_ITEM_BEFORE = re.compile(r"\s*(?:,|\bFROM\b|\bAS\b)", re.IGNORECASE)
# Words after which SQL expects an expression: a slot there is a value, whatever precedes them.
_EXPRESSION_AFTER = frozenset(
    {
        "SELECT",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "ON",
        "SET",
        "LIMIT",
        "OFFSET",
        "IN",
        "LIKE",
        "GLOB",
        "REGEXP",
        "MATCH",
        "IS",
        "THEN",
        "ELSE",
        "WHEN",
        "CASE",
        "VALUES",
        "BETWEEN",
        "ESCAPE",
        "HAVING",
        "RETURNING",
        "ALL",
        "ANY",
        "DEFAULT",
        "DISTINCT",
        "RETURN",
    }
)


_CLAUSE_WORD = re.compile(r"\b(SELECT|FROM|WHERE|GROUP|ORDER|HAVING|LIMIT|VALUES|SET)\b", re.I)


def _in_select_list(before: str) -> bool:
    """Return whether the end of `before` lies in a SELECT's column list: the last clause word
    since the innermost open bracket is SELECT (`substr({x}, 1)` is a call's argument)."""
    depth = 0
    start = 0
    for i in range(len(before) - 1, -1, -1):
        if before[i] == ")":
            depth += 1
        elif before[i] == "(":
            if depth == 0:
                start = i + 1
                break
            depth -= 1
    words = _CLAUSE_WORD.findall(before[start:])
    return bool(words) and words[-1].upper() == "SELECT"


def _ends_an_operand(before: str, last_word: str) -> bool:
    """Return whether SQL text `before` ends a complete operand (`a = 0`, `? `, `users`), or is
    empty, so that what follows can only be more SQL, not a value."""
    text = before.rstrip()
    if not text:
        return not before  # the statement starts with the slot: a whole prefix of SQL
    end = text[-1]
    if end in ")?'\"]`" or end.isdigit():
        return True
    if end.isalpha() or end == "_":
        return last_word.upper() not in _EXPRESSION_AFTER
    return False


def unknown_slots(statement: Statement) -> tuple[SlotRange, ...]:
    """Return the slots that stand where a name or a piece of SQL goes and whose text is not
    known: what makes the statement only partly checked (`dbheal check --statements`)."""
    return tuple(
        s
        for s in render(statement).slots
        if s.role != "value" and not s.slot.value.constant and not s.slot.value.safe_identifier
    )
