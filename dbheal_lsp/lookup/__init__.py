"""Hover and completion inside SQL strings: what is under the cursor, and what may come next.

This is the engine side of two editor features; it never imports pygls or lsprotocol (`lsp/`
turns these values into LSP types). Positions are the engine's: 1-based lines, 1-based
code-point columns.

Every request runs on a keystroke, so the work is kept to the statement under the cursor
(`cursor.py`): the file's statements are extracted (the server caches that), the one whose span
holds the cursor is found, and only that one is rendered and read. The SQL is read token by
token rather than parsed (`sql_context.py`): the statement being typed is usually incomplete,
and one reading serves both hover (`hover.py`) and completion (`completion.py`), so they never
disagree about which table a name belongs to. The schemas they read are one catalog
(`catalog.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.lookup.catalog import catalog_of
from dbheal_lsp.lookup.completion import Completion, proposals
from dbheal_lsp.lookup.cursor import cursor_site, token_index_at
from dbheal_lsp.lookup.hover import column_markdown, table_markdown
from dbheal_lsp.lookup.sql_context import SqlToken, classify

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

__all__ = ["Completion", "SqlToken", "completions", "hover_markdown", "token_at"]


def token_at(project: Project, path: str, source: str, line: int, column: int) -> SqlToken | None:
    """Return the table or column name at (line, column) of `source`, or None.

    None outside the SQL strings of database calls, and on anything that is not a name of the
    schema's kind: keywords, values, parameters, functions, aliases of result columns.
    """
    site = cursor_site(project, path, source, line, column)
    if site is None or site.inert:
        return None
    index = token_index_at(site.tokens, site.offset)
    if index is None:
        return None
    return classify(site, index, catalog_of(project))


def hover_markdown(project: Project, token: SqlToken) -> str | None:
    """Return Markdown describing `token` against the project's schemas, or None.

    A table: its columns with their declared types, its indexes, and where it is defined (the
    migration file and line, else the live database's CREATE statement), or that the database
    lacks it. A column: its declared type and affinity, NOT NULL, DEFAULT, PRIMARY KEY, the
    indexes that cover it, the migration line that defined it, and any drift of its type.
    """
    catalog = catalog_of(project)
    if token.kind == "table":
        return table_markdown(catalog, token.name)
    if token.table is None:
        return None
    return column_markdown(catalog, token.table, token.name)


def completions(
    project: Project, path: str, source: str, line: int, column: int
) -> tuple[Completion, ...]:
    """Return what may be typed at (line, column) inside a SQL string of a database call.

    After FROM, JOIN, INTO, UPDATE or TABLE: the tables (the live schema's, then those only the
    migrations define, marked "not applied"). After `alias.`: that table's columns. Right after
    a table name: keywords. Elsewhere in the statement: the columns of the tables in scope,
    then the tables, then keywords. Outside SQL, in a SQL string literal or comment: ().
    """
    site = cursor_site(project, path, source, line, column)
    if site is None or site.inert:
        return ()  # outside SQL, or typing a value or a comment: nothing to propose
    return proposals(site, catalog_of(project))
