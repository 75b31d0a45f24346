"""Every SQL statement of a JavaScript or TypeScript file: the calls that send SQL (calls.py),
their SQL read into pieces (sql_text.py), the values they bind, made `Statement`s.

A call counts only when its text reads as SQL (`map.get("SELECT")` does not start like a
statement; `regex.exec(s)` is given no text at all). A tag that binds its values (``sql`...` ``,
Prisma's `$queryRaw`) sends each `${value}` as a parameter: it stands in the SQL as `?`, and
only a fragment helper inside it (`Prisma.raw(x)`, `sql.raw(x)`, a nested ``sql`...` ``) puts
text into the SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.sqllex import skip_trivia
from dbheal_lsp.analysis.statement import (
    Bindings,
    BoundRow,
    Parameter,
    Piece,
    Slot,
    Statement,
    TextPiece,
)
from dbheal_lsp.languages.javascript.calls import (
    BOUND_TAGS,
    DEFAULT_CALLS,
    SqlCall,
    tag_call,
)
from dbheal_lsp.languages.javascript.names import enclosing_function
from dbheal_lsp.languages.javascript.parse import JsSource
from dbheal_lsp.languages.javascript.shapes import call_database, calls_of
from dbheal_lsp.languages.javascript.sql_text import SqlReader, numbered
from dbheal_lsp.languages.javascript.strings import literal_pieces
from dbheal_lsp.languages.javascript.values import Helpers, callee_name, unwrapped, value_info

if TYPE_CHECKING:
    from tree_sitter import Node, Query

    from dbheal_lsp.config import CallShape

__all__ = ["FindOptions", "StatementFinder", "reads_as_statement", "starts_like_sql"]

_SQL_START = re.compile(
    r"(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN|COMMIT|END|"
    r"ROLLBACK|SAVEPOINT|RELEASE|EXPLAIN|VACUUM|ATTACH|DETACH|ANALYZE|REINDEX|VALUES)\b",
    re.IGNORECASE,
)
_SQL_WORD = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA)\b", re.IGNORECASE
)
# The statements of one word.
_ALONE = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "VACUUM", "ANALYZE", "REINDEX"})
# A word that follows the first one in SQL, and hardly in prose.
_SECOND_WORD = re.compile(
    r"\b(FROM|INTO|SET|TABLE|WHERE|VALUES|INDEX|VIEW|TRIGGER|JOIN|TRANSACTION|AS)\b|[*?]",
    re.IGNORECASE,
)
# The calls whose names say nothing of SQL (`labels.get(...)`, `t.run(...)`): their text must
# also be built like the statement it starts as, unless its first word is in capitals.
_GENERIC = frozenset({"all", "get", "run", "each", "exec", "prepare"})
_NAME = r"(?:[\w$.]+|\"[^\"]+\"|`[^`]+`|\[[^\]]+\])"
# How each statement goes on after its first word, in SQL and hardly in prose ("Delete from
# cart" aside: sentence case is prose, see `reads_as_statement`).
_BUILT = MappingProxyType(
    {
        "SELECT": re.compile(r"SELECT\s+(?!FROM\b)\S", re.IGNORECASE),
        "DELETE": re.compile(
            rf"DELETE\s+FROM\s+{_NAME}\s*(?:$|;|\b(?:WHERE|RETURNING|AS|ORDER|LIMIT|INDEXED|NOT)\b)",
            re.IGNORECASE,
        ),
        "UPDATE": re.compile(
            rf"UPDATE\s+(?:OR\s+\w+\s+)?{_NAME}(?:\s+(?:AS\s+)?\w+)?\s+SET\b", re.IGNORECASE
        ),
        "INSERT": re.compile(
            rf"INSERT\s+(?:OR\s+\w+\s+)?INTO\s+{_NAME}\s*(?:\(|$|\b(?:VALUES|SELECT|DEFAULT|AS|WITH)\b)",
            re.IGNORECASE,
        ),
        "REPLACE": re.compile(
            rf"REPLACE\s+INTO\s+{_NAME}\s*(?:\(|$|\b(?:VALUES|SELECT|DEFAULT|AS|WITH)\b)",
            re.IGNORECASE,
        ),
    }
)
# What only SQL has: a keyword in capitals after the first word, or a placeholder.
_SQL_SIGN = re.compile(
    r"\b(?:FROM|INTO|SET|WHERE|VALUES|JOIN|TABLE|ORDER|GROUP|LIMIT)\b|[?*]|\$\d|[:@][A-Za-z_]"
)
# A slot (a `${}` not read as text) stands in the text as a name when the pieces are judged.
_SLOT_TEXT = " __slot__ "
# A named placeholder (`:id`, `@id`, `$id`): values given by position are not compared with
# them (which name each takes is the driver's business).
_NAMED = re.compile(r"[:@$][A-Za-z_]")
# Helpers inside a binding tag that put SQL text in, not a value.
_FRAGMENT_HELPERS = frozenset({"raw", "join", "identifier", "unsafe", "empty", "sql", "SQL"})
_QUERY = "(call_expression) @call"
_TS_QUERY = "(call_expression) @call (binary_expression) @binary"


@dataclass(frozen=True)
class FindOptions:
    """What the project's settings add: call names, its helpers, helpers of their own shape
    (`calls`, by name) and the receivers mapped to another database (receiver, database)."""

    calls: frozenset[str] = DEFAULT_CALLS
    helpers: Helpers = field(default_factory=Helpers)
    shapes: Mapping[str, CallShape] = field(default_factory=lambda: MappingProxyType({}))
    receivers: tuple[tuple[str, str], ...] = ()


def starts_like_sql(text: str) -> bool:
    """Return whether `text` reads as a SQL statement: it starts like one (after blanks,
    comments and `(`), and either its first word is written in capitals or a second SQL word
    follows (`"Select all"` and `map.get("select")` are not SQL; `"select id from t"` is). A
    statement of one word counts when it is one that stands alone (`COMMIT`), in capitals."""
    match = _SQL_START.match(text, skip_trivia(text, 0, also="("))
    if match is None:
        return False
    word = match.group()
    rest = text[match.end() :].strip().rstrip(";").strip()
    if not rest:
        return word.isupper() and word in _ALONE
    return word.isupper() or _SECOND_WORD.search(rest) is not None


def reads_as_statement(text: str, generic: bool = False) -> bool:
    """Return whether `text` reads as a SQL statement (`starts_like_sql`); for a call of a
    generic name (`generic`: `get`, `all`, `run`...) a first word not in capitals must also
    go on as its statement does (`delete from <table>`, `update <table> set`, `insert into
    <table> (`...), and one in sentence case (`Delete from cart`) needs a keyword in capitals
    or a placeholder: what a label, a route or a message passed to `labels.get(...)` lacks."""
    if not starts_like_sql(text):
        return False
    start = skip_trivia(text, 0, also="(")
    word = text[start:].split(None, 1)[0].upper().rstrip(";")
    written = text[start : start + len(word)]
    if not generic or written.isupper():
        return True
    if written[0].isupper() and not _SQL_SIGN.search(text, start + len(word)):
        return False
    built = _BUILT.get(word)
    return built is None or built.match(text, start) is not None


class StatementFinder:
    """Finds the statements of the files of one project."""

    def __init__(self, options: FindOptions) -> None:
        self.options = options
        self._queries: dict[str, Query] = {}
        every = options.calls | BOUND_TAGS | frozenset(options.shapes)
        names = "|".join(re.escape(n) for n in sorted(every))
        self._call_names = re.compile(rf"(?<![\w$])(?:{names})\s*(?:<[^;()]*>\s*)?[(`]")

    def might_contain_sql(self, text: str) -> bool:
        """Whether `text` names a SQL word and calls a call name at all."""
        return _SQL_WORD.search(text) is not None and self._call_names.search(text) is not None

    def statements(self, source: JsSource) -> tuple[Statement, ...]:
        """Return the statements of the parsed file, in the order of the text."""
        found: list[Statement] = []
        reader = SqlReader(source, self.options.helpers)
        for call in self._calls(source):
            statement = self._statement(call, source, reader)
            if statement is not None:
                found.append(statement)
        return tuple(found)

    def _calls(self, source: JsSource) -> list[SqlCall]:
        from tree_sitter import QueryCursor

        query = self._query(source)
        captures = QueryCursor(query).captures(source.tree.root_node)
        calls: list[SqlCall] = []
        for node in captures.get("call", []):
            calls.extend(calls_of(node, source, self.options.calls, self.options.shapes))
        for node in captures.get("binary", []):
            call = tag_call(node, source)
            if call is not None:
                calls.append(call)
        return sorted(calls, key=lambda c: c.sql.start_byte)

    def _query(self, source: JsSource) -> Query:
        query = self._queries.get(source.grammar)
        if query is None:
            from tree_sitter import Query

            text = _QUERY if source.grammar == "javascript" else _TS_QUERY
            query = self._queries[source.grammar] = Query(source.tree.language, text)
        return query

    def _statement(self, call: SqlCall, source: JsSource, reader: SqlReader) -> Statement | None:
        parameters: list[Parameter] = []
        if call.tagged:
            read = _bound_template(call.sql, source, reader, parameters)
        else:
            read = reader.read(call.sql)
        if not read or not _reads_as_sql(read, call.name in _GENERIC and not call.tagged):
            return None
        pieces = numbered(read)
        bindings = None
        if not call.tagged and call.values is not None:
            parameters = [
                Parameter(k, None, value_info(v, source, self.options.helpers))
                for k, v in enumerate(call.values)
            ]
            text = "".join(p.text for p in pieces if isinstance(p, TextPiece))
            if not _NAMED.search(text):
                where = call.values_node if call.values_node is not None else call.call
                row = BoundRow(
                    source.offsets.span(where.start_byte, where.end_byte), count=len(call.values)
                )
                bindings = Bindings((row,), passed=call.passes_values)
        spans = source.offsets.span
        return Statement(
            pieces=pieces,
            call="executescript" if call.name == "exec" else call.name,
            span=spans(call.sql.start_byte, call.sql.end_byte),
            name_span=spans(call.name_node.start_byte, call.name_node.end_byte),
            call_span=spans(call.call.start_byte, call.call.end_byte),
            parameters=tuple(parameters) if (call.tagged or call.values is not None) else None,
            function=enclosing_function(call.call, source),
            bindings=bindings,
            database=call_database(call, source, self.options.receivers),
        )


def _bound_template(
    template: Node, source: JsSource, reader: SqlReader, parameters: list[Parameter]
) -> list[Piece] | None:
    """The pieces of a binding tag's template: each `${value}` a `?` whose value is bound, each
    fragment helper's `${...}` a slot."""

    def substitution(expression: Node) -> list[Piece]:
        inner = unwrapped(expression)
        if inner.type == "call_expression":
            function = inner.child_by_field_name("function")
            if function is not None:
                name = callee_name(function, source)[0].rpartition(".")[2]
                if name in _FRAGMENT_HELPERS:
                    slot = reader.slot(expression, "template")
                    arguments = inner.child_by_field_name("arguments")
                    if arguments is not None and arguments.type == "template_string":
                        # A nested ``sql`...` ``: SQL text written in the code, its values bound.
                        slot = replace(slot, value=replace(slot.value, constant=True))
                    return [slot]
        holder = expression.parent if expression.parent is not None else expression
        start = source.offsets.position(holder.start_byte)
        end = source.offsets.position(holder.end_byte)
        parameters.append(
            Parameter(len(parameters), None, value_info(expression, source, reader.helpers))
        )
        return [TextPiece("?", (start, end))]

    return literal_pieces(template, source, substitution)


def _reads_as_sql(pieces: list[Piece], generic: bool = False) -> bool:
    """Whether the pieces read as a SQL statement (`reads_as_statement`): their written text
    must come first, and each slot after it stands as a name."""
    for piece in pieces:
        if isinstance(piece, Slot):
            return False
        if piece.text.strip():
            break
    text = "".join(p.text if isinstance(p, TextPiece) else _SLOT_TEXT for p in pieces)
    return bool(text.strip()) and reads_as_statement(text, generic)
