"""What a SQL statement refers to: tables, columns, compared values and filters, with offsets.

sqlglot gives the structure; this module walks its scopes itself (rather than `qualify`, which
stops at the first unknown column) so that every table and column reference is resolved against
the schema, through aliases, joins, subqueries, CTEs, INSERT column lists and UPDATE SET.
Offsets are positions in the SQL text the caller passed in. What the walk records lives beside
it: tables and columns (`columnrefs`), compared values (`comparisons`), the filters an index
could serve (`index_filters`); the placeholders (`placeholders`) and the masking (`sqlmask`)
are read before parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dbheal_lsp.analysis.columnrefs import (
    ColumnRef,
    Source,
    TableRef,
    against,
    offsets,
    resolve,
    source_columns,
)
from dbheal_lsp.analysis.comparisons import Comparison, comparison, value_of
from dbheal_lsp.analysis.index_filters import Filter, index_filters
from dbheal_lsp.analysis.placeholders import SqlglotText
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.sqlmask import star_offsets


@dataclass(frozen=True)
class References:
    """Everything the checks need to know about one statement's structure."""

    kind: str
    tables: tuple[TableRef, ...] = ()
    columns: tuple[ColumnRef, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    filters: tuple[Filter, ...] = ()
    stars: tuple[tuple[int, int], ...] = ()
    sources: dict[str, str] = field(default_factory=dict)  # alias or name -> real table name


@dataclass
class _Walk:
    """What the walk of one statement has found so far."""

    schema: Schema
    st: SqlglotText
    exp: Any
    tables: list[TableRef] = field(default_factory=list)
    columns: list[ColumnRef] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    all_sources: dict[str, str] = field(default_factory=dict)


def references(tree: Any, st: SqlglotText, schema: Schema) -> References:
    """Return the references of the parsed statement `tree` (parsed from `st.text`)."""
    from sqlglot import exp

    walk = _Walk(schema, st, exp)
    kind = type(tree).__name__.lower()
    if isinstance(tree, (exp.Select, exp.Union, exp.Subquery, exp.SetOperation)):
        _walk_query(walk, tree, [], {})
        kind = "select"
    elif isinstance(tree, exp.Insert):
        _walk_insert(walk, tree)
    elif isinstance(tree, exp.Update):
        _walk_update(walk, tree)
    elif isinstance(tree, exp.Delete):
        _walk_delete(walk, tree)
    stars = tuple((st.original(a), st.original(b)) for a, b in star_offsets(st.text))
    return References(
        kind=kind,
        tables=tuple(walk.tables),
        columns=tuple(walk.columns),
        comparisons=tuple(walk.comparisons),
        filters=tuple(walk.filters),
        stars=stars if kind == "select" or kind == "insert" else (),
        sources=dict(walk.all_sources),
    )


def _ctes(
    walk: _Walk, node: Any, outer: dict[str, Source], scopes: list[dict[str, Source]]
) -> dict[str, Source]:
    ctes = dict(outer)
    with_ = node.args.get("with") or node.args.get("with_")
    if with_ is None:
        return ctes
    for cte in with_.expressions:
        name = cte.alias_or_name
        # A recursive CTE refers to itself: make it visible while walking its own body.
        ctes[name.lower()] = Source(None, None, name)
        outputs = _walk_query(walk, cte.this, scopes, ctes)
        column_names = [
            c.name for c in ((cte.args.get("alias") and cte.args["alias"].columns) or [])
        ]
        ctes[name.lower()] = Source(None, tuple(column_names) or outputs, name)
    return ctes


def _walk_query(
    walk: _Walk, node: Any, scopes: list[dict[str, Source]], ctes: dict[str, Source]
) -> tuple[str, ...] | None:
    """Walk a SELECT / UNION / subquery; return the names of the columns it yields."""
    exp = walk.exp
    if isinstance(node, exp.Subquery):
        return _walk_query(walk, node.this, scopes, ctes)
    ctes = _ctes(walk, node, ctes, scopes)
    if not isinstance(node, exp.Select):
        left = node.args.get("this")
        right = node.args.get("expression")
        first = _walk_query(walk, left, scopes, ctes) if left is not None else None
        if right is not None:
            _walk_query(walk, right, scopes, ctes)
        for order in (node.args.get("order") and node.args["order"].expressions) or []:
            _walk_columns(walk, order, [{}], {}, set(first or ()))
        return first
    sources: dict[str, Source] = {}
    from_ = node.args.get("from") or node.args.get("from_")
    first = from_.this if from_ is not None else None
    joins = list(node.args.get("joins") or [])
    if isinstance(first, exp.Subquery) and isinstance(first.this, exp.Table) and not first.alias:
        # `FROM (albums LEFT JOIN items ON ...)`: a parenthesized join, not a subquery.
        joins = [*(first.this.args.get("joins") or []), *joins]
        first = first.this
    source_nodes = ([first] if first is not None else []) + [j.this for j in joins]
    for src in source_nodes:
        _add_source(walk, src, sources, scopes, ctes)
    aliases = {e.alias for e in node.expressions if isinstance(e, exp.Alias)}
    chain = [sources, *scopes]
    for part in _select_parts(node, joins):
        _walk_columns(walk, part, chain, ctes, aliases)
    where = node.args.get("where")
    if where is not None:
        walk.filters.extend(index_filters(walk.st, where.this, chain))
    for join in joins:
        on = join.args.get("on")
        if on is not None:
            walk.filters.extend(index_filters(walk.st, on, chain))
    outputs: list[str] = []
    for e in node.expressions:
        if isinstance(e, exp.Star):
            for s in sources.values():
                outputs.extend(source_columns(s))
        elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
            named = sources.get((e.table or "").lower())
            if named is not None:
                outputs.extend(source_columns(named))
        else:
            outputs.append(e.alias_or_name)
    return tuple(outputs)


def _select_parts(node: Any, joins: list[Any]) -> Iterator[Any]:
    for key in ("expressions", "where", "group", "having", "order", "qualify"):
        value = node.args.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            yield from value
        else:
            yield value
    for join in joins:
        for key in ("on", "using"):
            value = join.args.get(key)
            if isinstance(value, list):
                yield from value
            elif value is not None:
                yield value


def _add_source(
    walk: _Walk,
    src: Any,
    sources: dict[str, Source],
    scopes: list[dict[str, Source]],
    ctes: dict[str, Source],
) -> None:
    exp = walk.exp
    if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier):
        name = src.name
        alias = src.alias or name
        if not src.args.get("db") and name.lower() in ctes:
            cte = ctes[name.lower()]
            sources[alias.lower()] = cte
            span = offsets(walk.st, src.this)
            if span:
                walk.tables.append(TableRef(name, span[0], span[1], None, is_cte=True))
            return
        database = str(src.args["db"].name) if src.args.get("db") else ""
        span = offsets(walk.st, src.this)
        if database.lower() not in ("", "main", "temp"):
            # An attached database's table: its columns are unknown here, never an alarm.
            if span:
                walk.tables.append(TableRef(name, span[0], span[1], None, attached=True))
            sources[alias.lower()] = Source(None, None, alias)
            return
        table = walk.schema.table(name)
        if span:
            walk.tables.append(TableRef(name, span[0], span[1], table))
        sources[alias.lower()] = Source(table, None, table.name if table else name)
        walk.all_sources[alias] = table.name if table else name
    elif isinstance(src, exp.Subquery):
        outputs = _walk_query(walk, src.this, [sources, *scopes], ctes)
        if src.alias:
            sources[src.alias.lower()] = Source(None, outputs, src.alias)
    else:
        # Table-valued functions, VALUES lists: unknown columns, never an alarm.
        alias = getattr(src, "alias", "") or ""
        sources[alias.lower() or f"<{len(sources)}>"] = Source(None, None, alias)


def _walk_columns(
    walk: _Walk,
    node: Any,
    chain: list[dict[str, Source]],
    ctes: dict[str, Source],
    aliases: set[str],
) -> None:
    exp = walk.exp
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (exp.Select, exp.Union)) or (
            isinstance(current, exp.Subquery) and not isinstance(current.parent, exp.From)
        ):
            target = current.this if isinstance(current, exp.Subquery) else current
            _walk_query(walk, target, chain, ctes)
            continue
        if isinstance(current, exp.Column):
            _resolve_column(walk, current, chain, aliases)
            continue
        if isinstance(current, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like)):
            _compare(walk, current.this, current.expression, chain)
        elif isinstance(current, exp.In):
            for value in current.expressions:
                _compare(walk, current.this, value, chain)
        elif isinstance(current, exp.Between):
            for key in ("low", "high"):
                if current.args.get(key) is not None:
                    _compare(walk, current.this, current.args[key], chain)
        stack.extend(reversed(list(current.iter_expressions())))


def _resolve_column(
    walk: _Walk, column: Any, chain: list[dict[str, Source]], aliases: set[str]
) -> None:
    ref = resolve(walk.st, column, chain, aliases)
    if ref is not None:
        walk.columns.append(ref)


def _compare(walk: _Walk, left: Any, right: Any, chain: list[dict[str, Source]]) -> None:
    found = comparison(walk.st, left, right, chain)
    if found is not None:
        walk.comparisons.append(found)


def _target(walk: _Walk, table_node: Any) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    _add_source(walk, table_node, sources, [], {})
    return sources


def _walk_insert(walk: _Walk, node: Any) -> None:
    exp = walk.exp
    target = node.this
    names: list[Any] = []
    if isinstance(target, exp.Schema):
        names = list(target.expressions)
        target = target.this
    sources = _target(walk, target)
    source = next(iter(sources.values()), None)
    column_refs: list[ColumnRef | None] = []
    for ident in names:
        span = offsets(walk.st, ident)
        if span is None or source is None or source.table is None:
            column_refs.append(None)
            continue
        ref = against(ident.name, span, source.real_name, source)
        walk.columns.append(ref)
        column_refs.append(ref if ref.status == "ok" else None)
    body = node.args.get("expression")
    ctes = _ctes(walk, node, {}, [])
    if isinstance(body, exp.Values):
        for row in body.expressions:
            values = row.expressions if isinstance(row, exp.Tuple) else [row]
            for target, value_node in zip(column_refs, values, strict=False):
                value = value_of(walk.st, value_node)
                if target is not None and value is not None:
                    walk.comparisons.append(Comparison(target, value, "insert"))
            _walk_columns(walk, row, [sources], ctes, set())
    elif body is not None:
        _walk_query(walk, body, [], ctes)
    conflict = node.args.get("conflict")
    if conflict is not None:
        _walk_columns(walk, conflict, [sources], ctes, set())
    returning = node.args.get("returning")
    if returning is not None:
        _walk_columns(walk, returning, [sources], ctes, set())


def _walk_update(walk: _Walk, node: Any) -> None:
    exp = walk.exp
    sources = _target(walk, node.this)
    ctes = _ctes(walk, node, {}, [])
    from_ = node.args.get("from") or node.args.get("from_")
    if from_ is not None:
        _add_source(walk, from_.this, sources, [], ctes)
    for assignment in node.expressions:
        if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
            ref = resolve(walk.st, assignment.this, [sources], set())
            if ref is not None:
                walk.columns.append(ref)
                value = value_of(walk.st, assignment.expression)
                if value is not None and ref.status == "ok" and ref.table is not None:
                    walk.comparisons.append(Comparison(ref, value, "set"))
            _walk_columns(walk, assignment.expression, [sources], ctes, set())
        else:
            _walk_columns(walk, assignment, [sources], ctes, set())
    _walk_where_returning(walk, node, sources, ctes)


def _walk_delete(walk: _Walk, node: Any) -> None:
    sources = _target(walk, node.this)
    _walk_where_returning(walk, node, sources, _ctes(walk, node, {}, []))


def _walk_where_returning(
    walk: _Walk, node: Any, sources: dict[str, Source], ctes: dict[str, Source]
) -> None:
    """Walk the WHERE and RETURNING clauses of an UPDATE or DELETE on `sources`."""
    for key in ("where", "returning"):
        part = node.args.get(key)
        if part is not None:
            _walk_columns(walk, part, [sources], ctes, set())
    where = node.args.get("where")
    if where is not None:
        walk.filters.extend(index_filters(walk.st, where.this, [sources]))
