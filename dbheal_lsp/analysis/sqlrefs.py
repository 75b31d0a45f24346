"""What a SQL statement refers to: tables, columns, compared values and filters, with offsets.

sqlglot gives the structure; this module walks its scopes itself (rather than `qualify`, which
stops at the first unknown column) so that every table and column reference is resolved against
the schema, through aliases, joins, subqueries, CTEs, INSERT column lists and UPDATE SET.
Offsets are positions in the SQL text the caller passed in.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from dbheal_lsp.analysis.schema import Schema, Table
from dbheal_lsp.analysis.sqllex import comment_end, quoted_end

Status = Literal["ok", "missing", "unknown"]

# Where a string, a quoted name or a comment may open. What follows is found with `str.find`
# (sqllex), never by a pattern that can backtrack: the scan is linear in the text's length.
_OPENER = re.compile(r"['\"`\[]|--|/\*")
_PLACEHOLDER = re.compile(r"\?(\d*)|(?<![:\w]):([A-Za-z_]\w*)|@([A-Za-z_]\w*)|\$([A-Za-z_]\w*|\d+)")
_PYFORMAT = re.compile(r"%\((\w+)\)s|%s|%%|\$(\d+)")
_STAR = re.compile(r"(?:\bSELECT\s+(?:DISTINCT\s+|ALL\s+)?|,\s*)((?:[A-Za-z_]\w*\.)?\*)", re.I)


@dataclass(frozen=True)
class Placeholder:
    """A bound-parameter marker in the SQL text; position is 0-based among positional ones."""

    start: int
    end: int
    position: int | None
    name: str | None


@dataclass(frozen=True)
class TableRef:
    """A table named in the statement, resolved against the schema (None when missing)."""

    name: str
    start: int
    end: int
    table: Table | None
    is_cte: bool = False
    attached: bool = False  # in another database (`other.t`): not this schema's to judge

    @property
    def missing(self) -> bool:
        """Return whether this names a table the schema lacks (not a CTE, not attached)."""
        return self.table is None and not self.is_cte and not self.attached


@dataclass(frozen=True)
class ColumnRef:
    """A column named in the statement and the table it resolved to."""

    name: str
    start: int
    end: int
    qualifier: str | None
    table: Table | None
    status: Status
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueRef:
    """A value compared with, inserted into or assigned to a column."""

    kind: Literal["placeholder", "literal", "stand_in"]
    start: int
    end: int
    placeholder: Placeholder | None = None
    literal_type: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Comparison:
    """A column meeting a value: `col = ?`, `col IN (...)`, an INSERT value or an UPDATE SET."""

    column: ColumnRef
    value: ValueRef
    context: Literal["compare", "insert", "set"]


@dataclass(frozen=True)
class Filter:
    """A filter on a column that an index could serve (`=`, `IN`, `<`, `BETWEEN`, `IS`)."""

    column: ColumnRef
    source: str  # the alias or name the planner's SCAN line uses for its table


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


def _quoted_regions(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each string, quoted name and comment of `text`, in order.

    SQLite's rules (`sqllex`): doubled quotes stay inside, brackets do not nest, and an
    unterminated quote or comment runs to the end of the text.
    """
    at = 0
    while True:
        m = _OPENER.search(text, at)
        if m is None:
            return
        start = m.start()
        end = comment_end(text, start) if m.group() in ("--", "/*") else quoted_end(text, start)
        yield start, end
        at = max(end, start + 1)


def _blank(text: str, keep_strings: bool) -> str:
    parts: list[str] = []
    pos = 0
    for start, end in _quoted_regions(text):
        if keep_strings and text[start] == "'":
            continue
        parts.append(text[pos:start])
        parts.append(" " * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def masked(text: str) -> str:
    """Return `text` with string literals, quoted names and comments blanked (same length)."""
    return _blank(text, keep_strings=False)


def star_offsets(text: str) -> list[tuple[int, int]]:
    """Return the offsets of each `*` or `t.*` of a select list (not `count(*)`) in `text`."""
    return [(m.start(1), m.end(1)) for m in _STAR.finditer(masked(text))]


def masked_values(text: str) -> str:
    """Return `text` with comments and quoted names blanked but string literals kept."""
    return _blank(text, keep_strings=True)


def normalize_placeholders(text: str) -> str:
    """Return `text` with pyformat (%s, %(name)s) and $1 placeholders in SQLite's spelling.

    Lengths are kept so that every offset still points at the same character.
    """
    mask = masked(text)
    out = list(text)
    for m in _PYFORMAT.finditer(mask):
        token = m.group()
        if token == "%s":
            out[m.start() : m.end()] = list("? ")
        elif token == "%%":
            out[m.start() : m.end()] = list("% ")
        elif m.group(2):
            out[m.start() : m.end()] = list("?" + m.group(2))
        else:
            name = m.group(1)
            out[m.start() : m.end()] = list(":" + name + " " * 3)
    return "".join(out)


def find_placeholders(text: str) -> tuple[Placeholder, ...]:
    """Return the placeholders of `text` outside strings and comments, in order."""
    found: list[Placeholder] = []
    next_index = 0
    for m in _PLACEHOLDER.finditer(masked(text)):
        number, named_colon, named_at, dollar = m.groups()
        if number is not None and m.group().startswith("?"):
            index = int(number) - 1 if number else next_index
            next_index = index + 1
            found.append(Placeholder(m.start(), m.end(), index, None))
        elif dollar is not None and dollar.isdigit():
            found.append(Placeholder(m.start(), m.end(), int(dollar) - 1, None))
        else:
            name = named_colon or named_at or dollar
            found.append(Placeholder(m.start(), m.end(), None, name))
            next_index += 1
    return tuple(found)


@dataclass(frozen=True)
class SqlglotText:
    """The text handed to sqlglot: positional placeholders named, so each can be traced back."""

    text: str
    starts: tuple[int, ...]  # start offsets in `text` where an edit changed the length
    shifts: tuple[int, ...]  # cumulative length change after each of those starts
    by_name: dict[str, Placeholder]

    def original(self, offset: int) -> int:
        """Return the offset in the caller's text of `offset` in the sqlglot text."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return offset if i < 0 else offset - self.shifts[i]


def sqlglot_text(text: str, placeholders: tuple[Placeholder, ...]) -> SqlglotText:
    """Return `text` with every placeholder spelled `:__pN`, and the map back to `text`."""
    parts: list[str] = []
    starts: list[int] = []
    shifts: list[int] = []
    by_name: dict[str, Placeholder] = {}
    pos = 0
    shift = 0
    for i, ph in enumerate(placeholders):
        name = f"__p{i}"
        by_name[name] = ph
        parts.append(text[pos : ph.start])
        new_start = ph.start + shift
        replacement = f":{name}"
        parts.append(replacement)
        shift += len(replacement) - (ph.end - ph.start)
        starts.append(new_start + len(replacement))
        shifts.append(shift)
        pos = ph.end
    parts.append(text[pos:])
    return SqlglotText("".join(parts), tuple(starts), tuple(shifts), by_name)


# --- the scope walk ---------------------------------------------------------------------------


@dataclass
class _Source:
    table: Table | None  # a schema table, or None for a derived table / CTE / missing table
    outputs: tuple[str, ...] | None  # column names a derived table or CTE yields
    real_name: str


@dataclass
class _Walk:
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


def _offsets(walk: _Walk, node: Any) -> tuple[int, int] | None:
    meta = getattr(node, "meta", None) or {}
    if "start" not in meta:
        return None
    return walk.st.original(meta["start"]), walk.st.original(meta["end"] + 1)


def _ctes(
    walk: _Walk, node: Any, outer: dict[str, _Source], scopes: list[dict[str, _Source]]
) -> dict[str, _Source]:
    ctes = dict(outer)
    with_ = node.args.get("with") or node.args.get("with_")
    if with_ is None:
        return ctes
    for cte in with_.expressions:
        name = cte.alias_or_name
        # A recursive CTE refers to itself: make it visible while walking its own body.
        ctes[name.lower()] = _Source(None, None, name)
        outputs = _walk_query(walk, cte.this, scopes, ctes)
        column_names = [
            c.name for c in ((cte.args.get("alias") and cte.args["alias"].columns) or [])
        ]
        ctes[name.lower()] = _Source(None, tuple(column_names) or outputs, name)
    return ctes


def _walk_query(
    walk: _Walk, node: Any, scopes: list[dict[str, _Source]], ctes: dict[str, _Source]
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
    sources: dict[str, _Source] = {}
    from_ = node.args.get("from") or node.args.get("from_")
    source_nodes = ([from_.this] if from_ is not None else []) + [
        j.this for j in node.args.get("joins") or []
    ]
    for src in source_nodes:
        _add_source(walk, src, sources, scopes, ctes)
    aliases = {e.alias for e in node.expressions if isinstance(e, exp.Alias)}
    chain = [sources, *scopes]
    for part in _select_parts(node):
        _walk_columns(walk, part, chain, ctes, aliases)
    where = node.args.get("where")
    if where is not None:
        _collect_filters(walk, where.this, chain)
    for join in node.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None:
            _collect_filters(walk, on, chain)
    outputs: list[str] = []
    for e in node.expressions:
        if isinstance(e, exp.Star):
            for s in sources.values():
                outputs.extend(_source_columns(s))
        elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
            named = sources.get((e.table or "").lower())
            if named is not None:
                outputs.extend(_source_columns(named))
        else:
            outputs.append(e.alias_or_name)
    return tuple(outputs)


def _source_columns(source: _Source) -> tuple[str, ...]:
    if source.table is not None:
        return tuple(c.name for c in source.table.columns)
    return source.outputs or ()


def _select_parts(node: Any) -> Iterator[Any]:
    for key in ("expressions", "where", "group", "having", "order", "qualify"):
        value = node.args.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            yield from value
        else:
            yield value
    for join in node.args.get("joins") or []:
        for key in ("on", "using"):
            value = join.args.get(key)
            if isinstance(value, list):
                yield from value
            elif value is not None:
                yield value


def _add_source(
    walk: _Walk,
    src: Any,
    sources: dict[str, _Source],
    scopes: list[dict[str, _Source]],
    ctes: dict[str, _Source],
) -> None:
    exp = walk.exp
    if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier):
        name = src.name
        alias = src.alias or name
        if not src.args.get("db") and name.lower() in ctes:
            cte = ctes[name.lower()]
            sources[alias.lower()] = cte
            offsets = _offsets(walk, src.this)
            if offsets:
                walk.tables.append(TableRef(name, offsets[0], offsets[1], None, is_cte=True))
            return
        database = str(src.args["db"].name) if src.args.get("db") else ""
        offsets = _offsets(walk, src.this)
        if database.lower() not in ("", "main", "temp"):
            # An attached database's table: its columns are unknown here, never an alarm.
            if offsets:
                walk.tables.append(TableRef(name, offsets[0], offsets[1], None, attached=True))
            sources[alias.lower()] = _Source(None, None, alias)
            return
        table = walk.schema.table(name)
        if offsets:
            walk.tables.append(TableRef(name, offsets[0], offsets[1], table))
        sources[alias.lower()] = _Source(table, None, table.name if table else name)
        walk.all_sources[alias] = table.name if table else name
    elif isinstance(src, exp.Subquery):
        outputs = _walk_query(walk, src.this, [sources, *scopes], ctes)
        if src.alias:
            sources[src.alias.lower()] = _Source(None, outputs, src.alias)
    else:
        # Table-valued functions, VALUES lists: unknown columns, never an alarm.
        alias = getattr(src, "alias", "") or ""
        sources[alias.lower() or f"<{len(sources)}>"] = _Source(None, None, alias)


def _walk_columns(
    walk: _Walk,
    node: Any,
    chain: list[dict[str, _Source]],
    ctes: dict[str, _Source],
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


def _lookup_source(chain: list[dict[str, _Source]], qualifier: str) -> _Source | None:
    for sources in chain:
        found = sources.get(qualifier.lower())
        if found is not None:
            return found
    return None


def _resolve(
    walk: _Walk, column: Any, chain: list[dict[str, _Source]], aliases: set[str]
) -> ColumnRef | None:
    exp = walk.exp
    if isinstance(column.this, exp.Star):
        return None
    offsets = _offsets(walk, column.this)
    if offsets is None:
        return None
    name = column.name
    qualifier = column.table or None
    if qualifier:
        source = _lookup_source(chain, qualifier)
        if source is None:
            if qualifier.lower() in ("excluded", "new", "old"):
                return None
            return ColumnRef(name, offsets[0], offsets[1], qualifier, None, "unknown")
        return _against(name, offsets, qualifier, source)
    if name in aliases:
        return None
    unknown = False
    candidates: list[str] = []
    for sources in chain:
        for source in sources.values():
            if source.table is None and source.outputs is None:
                unknown = True
                continue
            if source.table is not None and source.table.column(name) is not None:
                return ColumnRef(name, offsets[0], offsets[1], None, source.table, "ok")
            if source.table is None and name.lower() in (o.lower() for o in source.outputs or ()):
                return ColumnRef(name, offsets[0], offsets[1], None, None, "ok")
            if source.table is not None and name.lower() in ("rowid", "oid", "_rowid_"):
                return ColumnRef(name, offsets[0], offsets[1], None, source.table, "ok")
            candidates.extend(_source_columns(source))
        if unknown:
            break
    if unknown or not any(chain):
        return ColumnRef(name, offsets[0], offsets[1], None, None, "unknown")
    first = next((s.table for s in chain[0].values() if s.table is not None), None)
    return ColumnRef(name, offsets[0], offsets[1], None, first, "missing", tuple(candidates))


def _against(name: str, offsets: tuple[int, int], qualifier: str, source: _Source) -> ColumnRef:
    if source.table is not None:
        if source.table.column(name) is not None or name.lower() in ("rowid", "oid", "_rowid_"):
            return ColumnRef(name, offsets[0], offsets[1], qualifier, source.table, "ok")
        return ColumnRef(
            name,
            offsets[0],
            offsets[1],
            qualifier,
            source.table,
            "missing",
            tuple(c.name for c in source.table.columns),
        )
    if source.outputs is None:
        return ColumnRef(name, offsets[0], offsets[1], qualifier, None, "unknown")
    if name.lower() in (o.lower() for o in source.outputs):
        return ColumnRef(name, offsets[0], offsets[1], qualifier, None, "ok")
    return ColumnRef(name, offsets[0], offsets[1], qualifier, None, "missing", source.outputs)


def _resolve_column(
    walk: _Walk, column: Any, chain: list[dict[str, _Source]], aliases: set[str]
) -> None:
    ref = _resolve(walk, column, chain, aliases)
    if ref is not None:
        walk.columns.append(ref)


def _value(walk: _Walk, node: Any) -> ValueRef | None:
    exp = walk.exp
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Placeholder):
        name = node.name
        ph = walk.st.by_name.get(name)
        if ph is not None:
            return ValueRef("placeholder", ph.start, ph.end, ph)
        return ValueRef("placeholder", -1, -1, Placeholder(-1, -1, None, name), text=name)
    if isinstance(node, exp.Literal):
        literal_type = (
            "TEXT"
            if node.is_string
            else ("REAL" if "." in node.this or "e" in node.this.lower() else "INTEGER")
        )
        offsets = _offsets(walk, node)
        start, end = offsets if offsets else (-1, -1)
        return ValueRef("literal", start, end, literal_type=literal_type, text=node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return _value(walk, node.this)
    return None


def _compare(walk: _Walk, left: Any, right: Any, chain: list[dict[str, _Source]]) -> None:
    exp = walk.exp
    if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
        left, right = right, left
    if not isinstance(left, exp.Column):
        return
    value = _value(walk, right)
    if value is None:
        return
    ref = _resolve(walk, left, chain, set())
    if ref is not None and ref.status == "ok" and ref.table is not None:
        walk.comparisons.append(Comparison(ref, value, "compare"))


def _collect_filters(walk: _Walk, node: Any, chain: list[dict[str, _Source]]) -> None:
    """Record the AND-ed predicates an index could serve, for the MISSING_INDEX check."""
    exp = walk.exp
    if isinstance(node, exp.Paren):
        _collect_filters(walk, node.this, chain)
        return
    if isinstance(node, exp.And):
        _collect_filters(walk, node.this, chain)
        _collect_filters(walk, node.expression, chain)
        return
    columns: list[Any] = []
    if isinstance(node, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is)):
        columns = [c for c in (node.this, node.expression) if isinstance(c, exp.Column)]
    elif isinstance(node, (exp.In, exp.Between)) and isinstance(node.this, exp.Column):
        columns = [node.this]
    for column in columns:
        ref = _resolve(walk, column, chain, set())
        if ref is None or ref.status != "ok" or ref.table is None:
            continue
        source = column.table or _source_alias(chain[0], ref.table)
        if source:
            walk.filters.append(Filter(ref, source))


def _source_alias(sources: dict[str, _Source], table: Table) -> str | None:
    for alias, source in sources.items():
        if source.table is table:
            return alias
    return None


def _target(walk: _Walk, table_node: Any) -> dict[str, _Source]:
    sources: dict[str, _Source] = {}
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
        offsets = _offsets(walk, ident)
        if offsets is None or source is None or source.table is None:
            column_refs.append(None)
            continue
        ref = _against(ident.name, offsets, source.real_name, source)
        walk.columns.append(ref)
        column_refs.append(ref if ref.status == "ok" else None)
    body = node.args.get("expression")
    ctes = _ctes(walk, node, {}, [])
    if isinstance(body, exp.Values):
        for row in body.expressions:
            values = row.expressions if isinstance(row, exp.Tuple) else [row]
            for target, value_node in zip(column_refs, values, strict=False):
                value = _value(walk, value_node)
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
            ref = _resolve(walk, assignment.this, [sources], set())
            if ref is not None:
                walk.columns.append(ref)
                value = _value(walk, assignment.expression)
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
    walk: _Walk, node: Any, sources: dict[str, _Source], ctes: dict[str, _Source]
) -> None:
    """Walk the WHERE and RETURNING clauses of an UPDATE or DELETE on `sources`."""
    for key in ("where", "returning"):
        part = node.args.get(key)
        if part is not None:
            _walk_columns(walk, part, [sources], ctes, set())
    where = node.args.get("where")
    if where is not None:
        _collect_filters(walk, where.this, [sources])
