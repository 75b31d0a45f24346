"""The checks: one function per issue type, each a pure function of a statement's facts.

`StatementChecker.check` gathers the facts of a statement once — its rendered SQL, SQLite's
verdict on preparing it against a copy of the schema, and sqlglot's view of what it refers to —
and every check function turns those facts into issues.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal

from dbheal_lsp.analysis.drift import Drift
from dbheal_lsp.analysis.parameters import parameter_mismatches
from dbheal_lsp.analysis.sandbox import BudgetExceeded, Refused, Sandbox, first_keyword
from dbheal_lsp.analysis.schema import Schema, oracle_connection, schema_from_connection
from dbheal_lsp.analysis.sqlrefs import (
    Placeholder,
    References,
    ValueRef,
    find_placeholders,
    masked,
    masked_values,
    normalize_placeholders,
    references,
    sqlglot_text,
    star_offsets,
)
from dbheal_lsp.analysis.statement import (
    Rendered,
    SlotRange,
    Statement,
    ValueInfo,
    is_stand_in,
    render,
)
from dbheal_lsp.model import DEFAULT_SEVERITIES, Issue, IssueType, Origin, Severity

# "foreign": SQLite rejects it, but it is valid in the project's own dialect.
# "applied": DDL the schema already reflects (the table exists, the column was added, the index
# was dropped): upgrade code that has run before, not a defect.
VerdictKind = Literal["ok", "no_table", "no_column", "syntax", "error", "foreign", "applied"]

_NO_TABLE = re.compile(r"no such table: (?:main\.)?(\S+)")
_NO_COLUMN = re.compile(r"no such column: (\S+)")
_HAS_NO_COLUMN = re.compile(r"table (\S+) has no column named (\S+)")
_NEAR = re.compile(r'near "((?:[^"]|"")*)": syntax error')
_FILTERS = re.compile(r"\b(WHERE|JOIN|ON)\b", re.IGNORECASE)
# The first rows by one column: `ORDER BY t.col DESC LIMIT ...` (masked text: no strings).
_SORTED_LIMIT = re.compile(
    r"\bORDER\s+BY\s+(?:[\"`\[]?(\w+)[\"`\]]?\.)?[\"`\[]?(\w+)[\"`\]]?(?:\s+(?:ASC|DESC))?"
    r"\s+LIMIT\b",
    re.IGNORECASE,
)
_TEMP_SORT = "USE TEMP B-TREE FOR ORDER BY"
# A literal meeting a column: `= 'x'`, `> 5`, `IN ('a', 3)`, `VALUES (1, 'x')`, `SET a = 2`.
_LITERAL_VALUE = re.compile(r"(=|<|>|\bIN\s*\(|\bVALUES\s*\(|,)\s*(-?\d|')", re.IGNORECASE)
# What a script may run on the schema copy so that its later statements see its tables.
_DEFINITIONS = frozenset({"CREATE", "ALTER", "DROP"})
_CREATES_TABLE = re.compile(
    r"\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?:\w+\s*\.\s*)?([\w\"`\[\]]+)",
    re.IGNORECASE,
)
_VALUE_COUNT = re.compile(
    r"columns but \d+ values were supplied|\d+ values for \d+ columns|same number of terms"
)
_AMBIGUOUS = re.compile(r"ambiguous column name: (\S+)")
_STAND_IN_NUMBER = re.compile(r"__dbheal_(\d+)")
# An identifier stand-in (a value's is `:__dbheal_N`, a fragment's a comment).
_STAND_IN = re.compile(r"(?<![\w:*])__dbheal_\d+(?![\w*])")
# A full read: `SCAN t`, and the bare `SEARCH t` SQLite prints for `SELECT MAX(n) FROM t WHERE`.
_SCAN = re.compile(r"^(?:SCAN (\S+)|SEARCH (\S+)$)")
_AUTOMATIC = re.compile(r"^SEARCH (\S+) USING AUTOMATIC (?:COVERING |PARTIAL )*INDEX \((\w+)")
# SQLite's words for DDL whose change the schema already has.
_EXISTS = re.compile(r"^(?:table|index|view|trigger) (\S+) already exists")
_DUPLICATE_COLUMN = re.compile(r"^duplicate column name: (\S+)")
_NO_OBJECT = re.compile(r"^no such (?:table|index|view|trigger): (\S+)")
_TWICE = " is defined twice"  # a CREATE TABLE naming one column twice: broken on every run
# An operator that compares as text whatever the column's type: no cast would change it.
_PATTERN_OPERATOR = re.compile(r"\b(?:LIKE|GLOB|MATCH|REGEXP)\s*$", re.IGNORECASE)
# A stand-in name left in a message (a safety net: users never see one).
# Errors that depend on what the application registers at run time, not on the schema.
_RUNTIME_DEPENDENT = ("no such function", "no such module", "no such collation", "unknown database")


@dataclass(frozen=True)
class Verdict:
    """SQLite's answer to preparing one statement against the schema."""

    kind: VerdictKind
    message: str = ""
    name: str | None = None
    qualifier: str | None = None


@dataclass(frozen=True)
class CheckSettings:
    """What the checks need from the configuration."""

    severities: Mapping[IssueType, Severity] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITIES)
    )
    enabled: frozenset[IssueType] = frozenset(IssueType)
    root: Path | None = None  # origins are shown relative to this folder
    dialect: str = "sqlite"  # the SQL dialect the code is written in

    def shown(self, origin: Origin | None) -> Origin | None:
        """Return `origin` with its path relative to the root (as issues name files)."""
        if origin is None or self.root is None or not Path(origin.path).is_absolute():
            return origin
        try:
            return Origin(Path(origin.path).relative_to(self.root).as_posix(), origin.line)
        except ValueError:
            return origin


@dataclass(frozen=True)
class Facts:
    """Everything known about one SQL statement, computed once for all the checks."""

    statement: Statement
    path: str
    rendered: Rendered
    verdict: Verdict
    refs: References | None
    placeholders: tuple[Placeholder, ...]
    schema: Schema
    expected: Schema | None
    drift: Drift
    has_schema: bool
    settings: CheckSettings
    plan: tuple[str, ...] = ()  # EXPLAIN QUERY PLAN detail lines, when the statement filters
    # A piece of unknown SQL stands where tables are named (`FROM t %s`): it may join tables
    # and name aliases, so whether a column exists cannot be decided.
    columns_undecidable: bool = False
    # The plan the statement would get with one more index: (table, columns, name) -> plan.
    plan_with_index: Callable[[str, tuple[str, ...], str], tuple[str, ...]] | None = None

    @cached_property
    def sql(self) -> str:
        """The statement's SQL as issues carry it (one string shared by all its issues)."""
        return self.rendered.text.strip()

    @cached_property
    def _fingerprint_heads(self) -> dict[IssueType, Any]:
        # A statement can have thousands of issues (one per interpolated value): the part of
        # the fingerprint they share, the whole normalised SQL, is hashed once per issue type.
        return {}

    def fingerprint(self, kind: IssueType, token: str, table: object, column: object) -> str:
        """Return the fingerprint of an issue of `kind` at `token` of this statement: stable
        across edits elsewhere in the file (kind, path, function, normalised SQL, token, names)."""
        head = self._fingerprint_heads.get(kind)
        if head is None:
            text = " ".join(self.rendered.text.split())
            prefix = "|".join([kind.value, self.path, self.statement.function, text]) + "|"
            head = hashlib.sha1(prefix.encode("utf-8", "surrogatepass"))
            self._fingerprint_heads[kind] = head
        digest = head.copy()
        digest.update("|".join([token, str(table), str(column)]).encode("utf-8", "surrogatepass"))
        return str(digest.hexdigest()[:16])


IssueSink = Callable[..., None]


class _ScriptSchema:
    """The schema a script's statement is judged against, read again only when needed.

    A script's DDL runs on the schema copy; reading the whole schema after each statement made
    a script of n CREATE TABLE take n² time. It is read when a statement's checks need it
    (see `StatementChecker._facts_of`), and only if DDL ran since it was last read.
    """

    def __init__(self, schema: Schema, oracle: sqlite3.Connection | None = None) -> None:
        self.last = schema
        self.oracle = oracle
        self.dirty = False

    def get(self) -> Schema:
        """Return the schema as it stands now."""
        if self.dirty and self.oracle is not None:
            self.last = schema_from_connection(self.oracle, self.last.source)
            self.dirty = False
        return self.last

    def has_objects(self) -> bool:
        """Return whether there is a table, view, index or trigger (cheap: one row read)."""
        if not self.dirty or self.oracle is None:
            return not self.last.is_empty
        row = self.oracle.execute(
            "SELECT 1 FROM main.sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1"
        ).fetchone()
        return row is not None


class StatementChecker:
    """Checks statements against one schema; owns the in-memory copy SQLite prepares against.

    The copy (`oracle`) is a sandbox (`analysis/sandbox.py`): statements are only prepared on
    it, and a script's CREATE/ALTER/DROP run on it under the sandbox's authorizer and budget.
    A plain connection given instead is not used: a sandbox is built from `schema`.
    """

    def __init__(
        self,
        schema: Schema,
        expected: Schema | None,
        drift: Drift,
        oracle: sqlite3.Connection,
        settings: CheckSettings,
    ) -> None:
        self.schema = schema
        self.expected = expected
        self.drift = drift
        self.oracle: Sandbox = (
            oracle if isinstance(oracle, Sandbox) else _sandbox_of(oracle_connection(schema))
        )
        self.settings = settings
        self.has_schema = not schema.is_empty
        self._parsed: dict[str, Any] = {}
        self._verdicts: dict[str, Verdict] = {}
        # The DDL met so far in the file being checked, by enclosing function: (line, SQL).
        self._ddl_file = ""
        self._ddl: dict[str, list[tuple[int, str]]] = {}
        # Whether the file being checked attaches another database (`ATTACH ... AS fts_db`):
        # an unqualified table missing from the main one may live in it, unseen.
        self._attaches = False

    def check(self, statement: Statement, path: str) -> list[Issue]:
        """Return the issues of `statement` (in file `path`), every check applied.

        The statements of a file are expected in their order in it: DDL that a function runs
        (`CREATE TABLE users_tmp ...`) applies to the statements after it in that function.
        """
        if path != self._ddl_file:
            self._ddl_file, self._ddl, self._attaches = path, {}, False
        issues: list[Issue] = []
        for facts in self._facts(statement, path):
            self._remember_ddl(facts)
            if first_keyword(facts.rendered.text) == "ATTACH":
                self._attaches = True
            # What a rejected statement refers to is guesswork: report the rejection alone.
            # Already-applied DDL and upgrade probes are not rejections of the code at all.
            rejected = facts.verdict.kind in ("syntax", "error", "applied")
            checks = _TEXT_CHECKS if rejected or _is_probe(facts) else CHECKS
            for check in checks:
                issues.extend(i for i in check(facts) if not self._may_exist(i, facts))
        return [
            replace(i, severity=self.settings.severities.get(i.type, i.severity))
            for i in issues
            if i.type in self.settings.enabled
        ]

    def _earlier_ddl(self, statement: Statement) -> list[str]:
        """Return the DDL run before `statement` in its function, and by its class's
        constructor (`__init__` runs before any method)."""
        earlier = [
            sql for line, sql in self._ddl.get(statement.function, ()) if line < statement.span.line
        ]
        owner, dot, method = statement.function.rpartition(".")
        if dot and method != "__init__":
            earlier = [sql for _line, sql in self._ddl.get(f"{owner}.__init__", ())] + earlier
        return earlier

    def _created_for(self, statement: Statement) -> set[str]:
        """Return the tables the DDL before `statement` creates (see _earlier_ddl), by name."""
        return {
            m.group(1).strip('"`[]').lower()
            for sql in self._earlier_ddl(statement)
            if (m := _CREATES_TABLE.match(masked(sql)))
        }

    def _may_exist(self, issue: Issue, facts: Facts) -> bool:
        """Return whether `issue` is a MISSING_TABLE of a table that may well exist: one the
        DDL above creates (a virtual table the copy cannot build), or, in a file that attaches
        another database (its schema is not seen), an unqualified name, not `main.<name>`."""
        if issue.type != IssueType.MISSING_TABLE or not issue.table:
            return False
        if issue.table.lower() in self._created_for(facts.statement):
            return True  # created above, by DDL the copy of the schema could not run
        if not self._attaches:
            return False
        qualified = re.compile(rf"\bmain\s*\.\s*[\"`\[]?{re.escape(issue.table)}\b", re.I)
        return qualified.search(facts.rendered.text) is None

    def _remember_ddl(self, facts: Facts) -> None:
        statement = facts.statement
        if statement.is_script:
            return  # a script's statements are judged one by one, each seeing those before
        # One call may send several statements (apsw runs them all): `DROP TABLE IF EXISTS t;
        # CREATE TEMP TABLE t (...)`.
        for part in _split_script(facts.rendered):
            if first_keyword(part.text) in _DEFINITIONS:
                ddl = self._ddl.setdefault(statement.function, [])
                ddl.append((statement.span.line, part.text))

    def _facts(self, statement: Statement, path: str) -> Iterator[Facts]:
        rendered = render(statement)
        if not statement.is_script:
            facts = self._facts_of(
                statement, path, rendered, _ScriptSchema(self.schema), cached=True
            )
            earlier = self._earlier_ddl(statement)
            if facts.verdict.kind in ("no_table", "no_column") and earlier:
                facts = self._facts_after(earlier, statement, path, rendered)
            yield facts
            return
        # A script's later statements see the tables its earlier ones create: run its DDL on
        # the in-memory copy inside a savepoint, and roll it back afterwards.
        current = _ScriptSchema(self.schema, self.oracle)
        changed = False
        running = True  # until a statement breaks the budget or the savepoint is lost
        with self._undone("dbheal_script"):
            for part in _split_script(rendered):
                facts = self._facts_of(statement, path, part, current, cached=not changed)
                if (
                    running
                    and facts.verdict.kind == "ok"
                    and first_keyword(part.text) in _DEFINITIONS
                ):
                    if not self.oracle.in_transaction:
                        running = False  # rolled back under us: DDL would be kept for good
                    else:
                        try:
                            self.oracle.run(part.text)
                        except BudgetExceeded as exc:
                            # It would hang the application too: say so on its line. One
                            # runaway statement is enough: the script's later DDL is not run.
                            running = False
                            facts = replace(facts, verdict=Verdict("error", exc.message))
                        except sqlite3.Error:
                            pass
                        else:
                            current.dirty = True
                            changed = True
                yield facts

    def _facts_after(
        self, ddl: list[str], statement: Statement, path: str, rendered: Rendered
    ) -> Facts:
        """Return the facts of `statement` judged after `ddl` ran on the schema copy (inside a
        savepoint, rolled back afterwards): the tables its function created just above."""
        current = _ScriptSchema(self.schema, self.oracle)
        current.dirty = True
        with self._undone("dbheal_function"):
            for sql in ddl:
                if not self.oracle.in_transaction:
                    break
                try:
                    self.oracle.run(sql)
                except BudgetExceeded:
                    break
                except (sqlite3.Error, Refused):
                    continue  # another branch's DDL, or DDL a real run would refuse too
            facts = self._facts_of(statement, path, rendered, current, cached=False)
            # Upgrade code filling what it just built runs once: no index to propose for it.
            return replace(facts, plan=())

    @contextmanager
    def _undone(self, savepoint: str) -> Iterator[None]:
        """Run the block's changes to the schema copy inside `savepoint`, then undo them."""
        self.oracle.run(f"SAVEPOINT {savepoint}")
        try:
            yield
        finally:
            # An interrupted statement may have rolled the whole transaction back already.
            if self.oracle.in_transaction:
                self.oracle.run(f"ROLLBACK TO {savepoint}")
                self.oracle.run(f"RELEASE {savepoint}")

    def _facts_of(
        self,
        statement: Statement,
        path: str,
        part: Rendered,
        current: _ScriptSchema,
        *,
        cached: bool,
    ) -> Facts:
        text = normalize_placeholders(part.text)
        part = Rendered(text, part.positions, part.slots)
        verdict = self.verdict(text) if cached else _prepare(self.oracle, text)
        if verdict.kind == "syntax" and part.slots:
            # A slot may stand where a name belongs (`FROM ({x})`, `PRAGMA v = {n}`): read the
            # slot SQLite stumbles on as a name and retry, one slot at a time; then every slot.
            forced: frozenset[int] = frozenset()
            retry, retry_verdict = part, verdict
            while retry_verdict.kind == "syntax":
                index = _stand_in_index(retry_verdict.name)
                if index is None or index in forced:
                    break
                forced |= {index}
                retry = _as_identifiers(statement, part, forced)
                retry_verdict = (
                    self.verdict(retry.text) if cached else _prepare(self.oracle, retry.text)
                )
            if retry_verdict.kind == "syntax":
                retry = _as_identifiers(statement, part)
                retry_verdict = (
                    self.verdict(retry.text) if cached else _prepare(self.oracle, retry.text)
                )
            if retry_verdict.kind != "syntax":
                part, verdict = retry, retry_verdict
        placeholders = find_placeholders(part.text)
        if self.settings.dialect != "sqlite" and verdict.kind in ("syntax", "error"):
            verdict = self._foreign_verdict(part.text, placeholders, current.get(), verdict)
        plan_text = part.text
        if verdict.kind == "no_column" and is_stand_in(verdict.name or ""):
            # Only the interpolated column is unknown (`COUNT(DISTINCT %s)`): the rest of the
            # statement is judged, and planned, with a NULL where that column stands.
            plan_text = _STAND_IN.sub("NULL", part.text)
            if _prepare(self.oracle, plan_text).kind == "ok":
                verdict = Verdict("ok", f"not judged: {verdict.message} (an interpolated name)")
        has_schema = self.has_schema or current.has_objects()
        plan: tuple[str, ...] = ()
        if (
            verdict.kind == "ok"
            and has_schema
            and (_FILTERS.search(text) or _SORTED_LIMIT.search(masked(text)))
        ):
            plan = tuple(self.query_plan(plan_text, placeholders))
        refs = None
        if self._needs_structure(statement, part, verdict, plan):
            refs = self._references(part.text, placeholders, current.get())
        # The checks read the schema only through `refs` or for an unknown name; otherwise
        # the schema last read stands in, so a script of n CREATE TABLE is not read n times.
        if verdict.kind in ("no_table", "no_column"):
            current.get()
        return Facts(
            statement,
            path,
            part,
            verdict,
            refs,
            placeholders,
            current.last,
            self.expected,
            self.drift,
            has_schema,
            self.settings,
            plan,
            _fragment_among_tables(part),
            partial(self._plan_with_index, plan_text, placeholders) if plan else None,
        )

    def _needs_structure(
        self, statement: Statement, part: Rendered, verdict: Verdict, plan: tuple[str, ...]
    ) -> bool:
        """Return whether any check needs sqlglot's view of this statement.

        Parsing is the costliest step, and most statements of a healthy code base need none:
        SQLite accepts them, the planner searches, no value of evident type meets a column.
        """
        if verdict.kind in ("no_table", "no_column"):
            return True  # to place every unknown name
        if verdict.kind not in ("ok", "foreign"):
            return False
        if any(_SCAN.match(line) or "AUTOMATIC" in line for line in plan):
            return True
        if _LITERAL_VALUE.search(masked_values(part.text)):
            return True
        if any(s.value.code_type for s in statement.slots):
            return True
        if statement.parameters and any(p.value.code_type for p in statement.parameters):
            return True
        if statement.result_casts:
            return True  # which column each cast result comes from
        text = part.text.lower()
        return any(column in text for _, column in self.drift.types)

    def verdict(self, text: str) -> Verdict:
        """Return SQLite's verdict on preparing `text` against the schema (cached by text)."""
        cached = self._verdicts.get(text)
        if cached is None:
            cached = _prepare(self.oracle, text)
            self._verdicts[text] = cached
        return cached

    def query_plan(self, text: str, placeholders: tuple[Placeholder, ...]) -> list[str]:
        """Return the detail lines of EXPLAIN QUERY PLAN for `text`, or [] if it cannot run."""
        params: Any
        if placeholders and all(p.name for p in placeholders):
            params = {p.name: None for p in placeholders if p.name}
        else:
            count = max((p.position or 0) + 1 for p in placeholders) if placeholders else 0
            params = [None] * max(count, len(placeholders))
        try:
            rows = self.oracle.query("EXPLAIN QUERY PLAN " + text, params)
        except sqlite3.Error:
            return []
        return [str(row[3]) for row in rows]

    def _plan_with_index(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        table: str,
        columns: tuple[str, ...],
        name: str,
    ) -> tuple[str, ...]:
        """Return the plan of `text` once index `name` on `table(columns)` exists in the copy
        (created in a savepoint and rolled back), or () if it cannot be built."""
        quoted = ", ".join(_quoted(c) for c in columns)
        with self._undone("dbheal_index"):
            try:
                self.oracle.run(f"CREATE INDEX {_quoted(name)} ON {_quoted(table)} ({quoted})")
            except (sqlite3.Error, Refused, BudgetExceeded):
                return ()
            return tuple(self.query_plan(text, placeholders))

    def _foreign_verdict(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        schema: Schema,
        sqlite_verdict: Verdict,
    ) -> Verdict:
        """Judge a statement SQLite rejects, written for another dialect (Postgres, MySQL).

        SQLite cannot be the oracle for `ILIKE` or `::int`: when sqlglot reads the statement in
        the project's dialect, the names it refers to decide; when it cannot, both agree the
        statement is broken.
        """
        refs = self._references(text, placeholders, schema, self.settings.dialect)
        if refs is None:
            return sqlite_verdict
        table = next((t for t in refs.tables if t.missing), None)
        if table is not None and self.has_schema:
            return Verdict("no_table", f"no such table: {table.name}", table.name)
        column = next((c for c in refs.columns if c.status == "missing"), None)
        if column is not None and self.has_schema:
            return Verdict("no_column", f"no such column: {column.name}", column.name)
        return Verdict("foreign")

    def _references(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        schema: Schema,
        dialect: str = "sqlite",
    ) -> References | None:
        st = sqlglot_text(text, placeholders)
        key = st.text if dialect == "sqlite" else f"{dialect}\x00{st.text}"
        tree = self._parsed.get(key, _MISSING)
        if tree is _MISSING:
            tree = _parse(st.text, dialect)
            self._parsed[key] = tree
        if tree is None:
            return None
        try:
            return references(tree, st, schema)
        except Exception:  # sqlglot trees vary by dialect and version: never fail a check on them
            return None


_MISSING = object()


def _parse(text: str, dialect: str = "sqlite") -> Any:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(text, read=dialect)
    except (SqlglotError, RecursionError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _prepare(oracle: Sandbox, text: str) -> Verdict:
    body = text.strip()
    if not body or (body.startswith("--") and "\n" not in body):
        return Verdict("ok")
    try:
        oracle.explain(text)
    except (Refused, BudgetExceeded) as exc:
        # dbheal never runs what the sandbox refuses (PRAGMA x = y, ATTACH): not judged, and
        # so not a finding against the application, which may well run it.
        return Verdict("ok", f"not judged: {exc.message}")
    except sqlite3.ProgrammingError as exc:
        # Raised after a successful prepare: bindings missing, or more statements follow.
        message = str(exc)
        if "binding" in message or "one statement" in message:
            return Verdict("ok")
        return Verdict("error", message)
    except sqlite3.Warning:
        return Verdict("ok")
    except sqlite3.Error as exc:
        return _already_applied(text, _verdict_of(str(exc)))
    return Verdict("ok")


def _already_applied(text: str, verdict: Verdict) -> Verdict:
    """Return `verdict`, or an "applied" one when `text` is DDL the schema already reflects.

    Upgrade code keeps its old steps: `CREATE TABLE x` when x exists, `ALTER TABLE ... ADD
    COLUMN` of a column that exists, `DROP TABLE x` when x is gone. Against today's schema they
    fail, but that is what running them again does, not a defect. A CREATE TABLE naming one
    column twice is broken on every run, so that stays an error, pointing at the second one.
    """
    message = verdict.message
    keyword = first_keyword(text)
    if keyword == "CREATE" and (m := _EXISTS.match(message)):
        return Verdict("applied", message, _unquote(m.group(1)))
    if (m := _DUPLICATE_COLUMN.match(message)) is not None:
        name = _unquote(m.group(1))
        if keyword == "ALTER":
            return Verdict("applied", message, name)
        return Verdict("error", f"column {name}{_TWICE}", name)
    if keyword == "DROP" and (m := _NO_OBJECT.match(message)):
        return Verdict("applied", message, _unquote(m.group(1)))
    return verdict


_CLAUSE = re.compile(
    r"\b(SELECT|FROM|JOIN|ON|USING|WHERE|GROUP|HAVING|ORDER|LIMIT|SET|VALUES|UNION|INTO)\b",
    re.IGNORECASE,
)
_TABLE_CLAUSES = frozenset({"FROM", "JOIN", "ON", "USING"})


def _fragment_among_tables(part: Rendered) -> bool:
    """Return whether an unknown piece of SQL stands where tables are named, or starts it."""
    mask = masked(part.text)
    for sr in part.slots:
        if sr.role != "fragment":
            continue
        clauses = _CLAUSE.findall(mask, 0, sr.start)
        if not clauses or clauses[-1].upper() in _TABLE_CLAUSES:
            return True
    return False


def _is_probe(facts: Facts) -> bool:
    """Return whether the statement probes, inside a `try` that handles the database error,
    for a table or column that may not exist yet (upgrade code): missing is the expected case."""
    return facts.statement.guarded and facts.verdict.kind in ("no_table", "no_column")


def _sandbox_of(conn: sqlite3.Connection) -> Sandbox:
    # oracle_connection is annotated with the base class; it always makes a Sandbox.
    if not isinstance(conn, Sandbox):
        raise TypeError("oracle_connection did not return a sandbox")
    return conn


def _verdict_of(message: str) -> Verdict:
    if m := _NO_TABLE.search(message):
        database, dot, _ = m.group(1).rpartition(".")
        if dot and _unquote(database).lower() != "temp":
            # A table of an attached database: that file is not the schema checked here.
            return Verdict("ok", f"not judged: {message} (an attached database)")
        return Verdict("no_table", message, _unquote(m.group(1)))
    if m := _NO_COLUMN.search(message):
        qualifier, _, name = m.group(1).rpartition(".")
        return Verdict("no_column", message, _unquote(name), _unquote(qualifier) or None)
    if m := _HAS_NO_COLUMN.search(message):
        return Verdict("no_column", message, _unquote(m.group(2)), _unquote(m.group(1)))
    if m := _NEAR.search(message):
        return Verdict("syntax", message, m.group(1).replace('""', '"'))
    if (
        "syntax error" in message
        or "incomplete input" in message
        or "unrecognized token" in message
    ):
        return Verdict("syntax", message)
    if m := _AMBIGUOUS.search(message):
        qualifier, _, name = m.group(1).rpartition(".")
        return Verdict("error", message, _unquote(name), _unquote(qualifier) or None)
    if any(text in message for text in _RUNTIME_DEPENDENT):
        return Verdict("ok", message)
    return Verdict("error", message)


def _unquote(name: str) -> str:
    return name.strip("\"'`[]")


def _split_script(rendered: Rendered) -> list[Rendered]:
    """Split an executescript() text into its statements, each still mapped to the file."""
    text = rendered.text
    mask = masked(text)
    parts: list[Rendered] = []
    start = 0
    for m in re.finditer(";", mask):
        chunk = text[start : m.end()]
        if not sqlite3.complete_statement(chunk):
            continue  # a trigger body: BEGIN ... END has semicolons inside
        parts.append(_slice(rendered, start, m.end()))
        start = m.end()
    if text[start:].strip():
        parts.append(_slice(rendered, start, len(text)))
    return [p for p in parts if masked(p.text).strip(" \n\t;")]


def _slice(rendered: Rendered, start: int, end: int) -> Rendered:
    slots = tuple(
        SlotRange(s.slot, s.start - start, s.end - start, s.role)
        for s in rendered.slots
        if start <= s.start < end
    )
    return Rendered(rendered.text[start:end], rendered.positions[start : end + 1], slots)


def _stand_in_index(token: str | None) -> int | None:
    """Return the slot number of a stand-in SQLite names in its message, if it is one."""
    m = _STAND_IN_NUMBER.search(token or "")
    return int(m.group(1)) if m else None


def _as_identifiers(
    statement: Statement, part: Rendered, only: frozenset[int] | None = None
) -> Rendered:
    mine = frozenset(s.slot.index for s in part.slots)
    full = render(statement, identifier_slots=mine if only is None else only)
    if not statement.is_script:
        return Rendered(normalize_placeholders(full.text), full.positions, full.slots)
    for piece in _split_script(full):
        if {s.slot.index for s in piece.slots} == mine:
            return Rendered(normalize_placeholders(piece.text), piece.positions, piece.slots)
    return part


# --- building issues --------------------------------------------------------------------------


def _issue(
    facts: Facts,
    kind: IssueType,
    start: int,
    end: int,
    message: str,
    *,
    span_override: Any = None,
    **fields: Any,
) -> Issue:
    span = span_override or facts.rendered.span(start, end)
    token = facts.rendered.text[start:end] if 0 <= start < end else ""
    return Issue(
        type=kind,
        severity=kind.default_severity,
        path=facts.path,
        span=span,
        message=_without_stand_ins(message),
        statement_span=facts.statement.span,
        call_span=facts.statement.call_span,
        sql=facts.sql,
        fingerprint=facts.fingerprint(kind, token, fields.get("table"), fields.get("column_name")),
        **fields,
    )


def _without_stand_ins(message: str) -> str:
    r"""Return `message` with every word that holds a stand-in name (`__dbheal_N`, `:__dbheal_N`,
    `orders___dbheal_2`) spelled "an interpolated name". A scan outward from each stand-in: a
    pattern such as `\w*__dbheal_\d+` retries from every position of a long word."""
    marker = "__dbheal_"
    at = message.find(marker)
    if at < 0:
        return message
    parts: list[str] = []
    done = 0
    while at >= 0:
        start = at
        while start > done and (message[start - 1].isalnum() or message[start - 1] == "_"):
            start -= 1
        if start > done and message[start - 1] == ":":
            start -= 1
        end = at + len(marker)
        while end < len(message) and (message[end].isalnum() or message[end] == "_"):
            end += 1
        parts.append(message[done:start])
        parts.append("an interpolated name")
        done = end
        at = message.find(marker, done)
    parts.append(message[done:])
    return "".join(parts)


def _find_name(text: str, name: str, after: int = 0) -> tuple[int, int]:
    """Return the offsets of `name` as a whole word (quoted or not) in `text`, or the whole text."""
    mask = masked(text)
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)", re.IGNORECASE)
    for haystack in (mask, text):
        m = pattern.search(haystack, after)
        if m:
            return m.start(), m.end()
    leading = len(text) - len(text.lstrip())
    return leading, len(text.rstrip())


def _did_you_mean(name: str, candidates: Any) -> str | None:
    options = {c.lower(): c for c in candidates if not is_stand_in(c)}
    match = difflib.get_close_matches(name.lower(), list(options), n=1, cutoff=0.7)
    return options[match[0]] if match else None


def _expected_origin(facts: Facts, table: str, column: str | None = None) -> Origin | None:
    if facts.expected is None:
        return None
    found = facts.expected.table(table)
    if found is None:
        return None
    if column is None:
        return facts.settings.shown(found.origin)
    col = found.column(column)
    return facts.settings.shown(col.origin) if col else None


# --- the checks -------------------------------------------------------------------------------


def missing_tables(facts: Facts) -> Iterator[Issue]:
    """MISSING_TABLE: a table the schema does not have (SQLite says so; sqlglot says where)."""
    if not facts.has_schema or facts.verdict.kind not in ("no_table", "no_column"):
        return
    seen: set[str] = set()
    found_refs = facts.refs.tables if facts.refs else ()
    for ref in found_refs:
        if ref.missing and not is_stand_in(ref.name):
            seen.add(ref.name.lower())
            yield _missing_table(facts, ref.name, ref.start, ref.end)
    name = facts.verdict.name
    if (
        facts.verdict.kind == "no_table"
        and name
        and name.lower() not in seen
        and not is_stand_in(name)
    ):
        start, end = _find_name(facts.rendered.text, name)
        yield _missing_table(facts, name, start, end)


def _missing_table(facts: Facts, name: str, start: int, end: int) -> Issue:
    origin = _expected_origin(facts, name)
    if origin is not None:
        message = (
            f"no such table: {name} — it is defined in {origin} but the database has not "
            "applied that migration"
        )
        suggestion = None
    else:
        suggestion = _did_you_mean(name, [t.name for t in facts.schema.tables.values()])
        message = f"no such table: {name}" + (
            f"; did you mean '{suggestion}'?" if suggestion else ""
        )
    return _issue(
        facts,
        IssueType.MISSING_TABLE,
        start,
        end,
        message,
        table=name,
        origin=origin,
        suggestion=suggestion,
    )


def missing_columns(facts: Facts) -> Iterator[Issue]:
    """MISSING_COLUMN: a column its table does not have, through aliases, joins, CTEs, DML."""
    if (
        not facts.has_schema
        or facts.verdict.kind not in ("no_table", "no_column")
        or facts.columns_undecidable
    ):
        return
    seen: set[str] = set()
    virtual = _virtual_tables(facts)
    for ref in facts.refs.columns if facts.refs else ():
        if ref.status != "missing" or is_stand_in(ref.name):
            continue
        if virtual and (
            ref.name.lower() in virtual
            or (ref.table is not None and ref.table.name.lower() in virtual)
            or (ref.qualifier or "").lower() in virtual
        ):
            continue  # a virtual table's hidden column: `fts MATCH ?`, `fts.rank`, `fts.rowid`
        seen.add(ref.name.lower())
        table = ref.table.name if ref.table else ref.qualifier
        yield _missing_column(facts, ref.name, table, ref.start, ref.end, ref.candidates)
    name = facts.verdict.name
    if facts.verdict.kind == "no_column" and name and name.lower() not in seen:
        if is_stand_in(name) or (facts.verdict.qualifier and is_stand_in(facts.verdict.qualifier)):
            return
        if virtual and (
            (facts.verdict.qualifier or "").lower() in virtual or name.lower() in virtual
        ):
            return
        table = _table_of_qualifier(facts, facts.verdict.qualifier)
        start, end = _find_name(facts.rendered.text, name)
        candidates = [c.name for c in table.columns] if table else []
        yield _missing_column(facts, name, table.name if table else None, start, end, candidates)


def _virtual_tables(facts: Facts) -> frozenset[str]:
    """Return the (lower-case) names of the virtual tables the statement reads."""
    tables = facts.refs.tables if facts.refs else ()
    return frozenset(t.name.lower() for t in tables if t.table is not None and t.table.is_virtual)


def _table_of_qualifier(facts: Facts, qualifier: str | None) -> Any:
    if facts.refs is None:
        return facts.schema.table(qualifier) if qualifier else None
    if qualifier:
        real = next(
            (v for k, v in facts.refs.sources.items() if k.lower() == qualifier.lower()), qualifier
        )
        return facts.schema.table(real)
    tables = [t.table for t in facts.refs.tables if t.table is not None]
    return tables[0] if len(tables) == 1 else None


def _missing_column(
    facts: Facts, name: str, table: str | None, start: int, end: int, candidates: Any
) -> Issue:
    origin = _expected_origin(facts, table, name) if table else None
    where = f"{table}." if table else ""
    if origin is not None:
        message = (
            f"no such column: {where}{name} — it is added in {origin} but the database has not "
            "applied that migration"
        )
        suggestion = None
    else:
        suggestion = _did_you_mean(name, candidates)
        message = f"no such column: {where}{name}" + (
            f"; did you mean '{suggestion}'?" if suggestion else ""
        )
    return _issue(
        facts,
        IssueType.MISSING_COLUMN,
        start,
        end,
        message,
        table=table,
        column_name=name,
        origin=origin,
        suggestion=suggestion,
    )


def syntax_errors(facts: Facts) -> Iterator[Issue]:
    """SQL_SYNTAX: SQLite itself rejects the statement (decided by SQLite, not by sqlglot)."""
    verdict = facts.verdict
    if verdict.kind not in ("syntax", "error"):
        return
    text = facts.rendered.text
    if verdict.kind == "error" and not facts.has_schema:
        return
    if verdict.kind == "error" and _STAND_IN_NUMBER.search(verdict.message):
        # What SQLite lacks is named by an interpolated part (`tokenize = '{tok}'`, a
        # collation): known only at run time, so not the code's error to report.
        return
    if facts.rendered.slots and _VALUE_COUNT.search(verdict.message):
        # An interpolated part may be a list of placeholders (`VALUES (%s)` % "?, ?, ?"): how
        # many values it gives is not known here.
        return
    if facts.rendered.slots and verdict.kind == "syntax":
        # An interpolated part may hold any SQL fragment: only blame text the code spells out
        # before the first slot.
        near = verdict.name
        first_slot = min(s.start for s in facts.rendered.slots)
        if near is None:
            return
        start, _ = _find_name(text, near) if near else (0, 0)
        if start >= first_slot:
            return
    if verdict.message.endswith(_TWICE) and verdict.name:
        # Defined twice: point at the second definition.
        _, first_end = _find_name(text, verdict.name)
        start, end = _find_name(text, verdict.name, first_end)
    elif verdict.name:
        start, end = _find_token(text, verdict.name)
    else:
        stripped = text.rstrip()
        start, end = max(0, len(stripped) - 1), len(stripped)
    message = f"SQLite rejects this statement: {verdict.message}"
    if verdict.message.startswith("stopped"):
        # SQLite accepted it; the sandbox stopped it (a runaway script statement).
        message = f"this statement does not finish: {verdict.message}"
    yield _issue(facts, IssueType.SQL_SYNTAX, start, end, message)


def _find_token(text: str, token: str) -> tuple[int, int]:
    mask = masked(text)
    index = mask.find(token)
    if index < 0:
        index = text.find(token)
    if index < 0:
        leading = len(text) - len(text.lstrip())
        return leading, len(text.rstrip())
    return index, index + len(token)


_COMPATIBLE: dict[str, frozenset[str]] = {
    "INTEGER": frozenset({"INTEGER", "REAL", "NUMERIC"}),
    "REAL": frozenset({"REAL", "NUMERIC"}),
    "NUMERIC": frozenset({"INTEGER", "REAL", "NUMERIC"}),
    # Dates and times are commonly stored as text in DATETIME (NUMERIC affinity) columns.
    "TEXT": frozenset({"TEXT", "NUMERIC"}),
    "BLOB": frozenset({"BLOB"}),
}


def type_mismatches(facts: Facts) -> Iterator[Issue]:
    """TYPE_MISMATCH: a value whose type is evident in the code meets a column of another affinity."""
    if facts.refs is None:
        return
    for comparison in facts.refs.comparisons:
        column = comparison.column
        table = column.table
        if table is None:
            continue
        col = table.column(column.name)
        if col is None or col.affinity == "BLOB":
            continue
        value = _value_of(facts, comparison.value)
        if value is None or value.code_type is None:
            continue
        if col.affinity in _COMPATIBLE.get(value.code_type, frozenset({value.code_type})):
            continue
        if _is_clean_up(facts, comparison.value, value):
            continue
        yield _type_mismatch(
            facts,
            table.name,
            col.name,
            col.declared_type or col.affinity,
            value,
            comparison.context,
        )


def result_type_mismatches(facts: Facts) -> Iterator[Issue]:
    """TYPE_MISMATCH on a read: the code casts a result column to a number (`int(version)`)
    that the database declares TEXT (a type changed under the code, or a leftover cast)."""
    casts = facts.statement.result_casts
    if not casts or facts.refs is None or facts.refs.kind != "select":
        return
    tree = _parse(facts.rendered.text, facts.settings.dialect)
    import sqlglot.expressions as exp

    if not isinstance(tree, exp.Select):
        return  # a UNION or a CTE's outer query: which table a result column is from is not read
    items = tree.expressions
    for cast in casts:
        if cast.column >= len(items) or isinstance(items[cast.column], exp.Star):
            continue
        item = items[cast.column].unalias()
        if not isinstance(item, exp.Column):
            continue
        ref = next((c for c in facts.refs.columns if c.name.lower() == item.name.lower()), None)
        if ref is None or ref.status != "ok" or ref.table is None:
            continue
        col = ref.table.column(ref.name)
        if col is None or col.affinity != "TEXT":
            continue
        yield _issue(
            facts,
            IssueType.TYPE_MISMATCH,
            ref.start,
            ref.end,
            f"{ref.table.name}.{col.name} is {col.declared_type or col.affinity} in the database, "
            f"but the code reads it as a number: {cast.helper}({cast.source}) at line "
            f"{cast.span.line}; the column type is wrong or the {cast.helper}() cast is a leftover",
            table=ref.table.name,
            column_name=col.name,
            db_type=col.declared_type or col.affinity,
            code_type="int" if cast.helper == "int" else "float",
            # No "remove the cast" fix: without it the code would compute with text.
            helper=None,
        )


def _is_clean_up(facts: Facts, ref: ValueRef, value: _Value) -> bool:
    """Return whether a text value meets a column in a way no cast would make right.

    `int_col = ''` finds rows an old version stored as empty text, and `LIKE`/`GLOB` compare as
    text whatever the column's type: clean-up queries, not mismatches.
    """
    if value.source.strip() in ("''", '""'):
        return True
    before = masked(facts.rendered.text)[: ref.start]
    return _PATTERN_OPERATOR.search(before) is not None


@dataclass(frozen=True)
class _Value:
    code_type: str | None
    helper: str | None
    source: str
    span: Any  # Span in the Python file, or None for a SQL literal
    start: int
    end: int


def _value_of(facts: Facts, value: ValueRef) -> _Value | None:
    if value.kind == "literal":
        if value.start < 0:
            return None
        slot = facts.rendered.slot_at(value.start, value.end)
        if slot is None:
            for sr in facts.rendered.slots:
                if value.start <= sr.start and sr.end <= value.end:
                    slot = sr
        if slot is not None:
            text_info = slot.slot.value
            return _Value("TEXT", None, text_info.source, text_info.span, value.start, value.end)
        # Shown as the SQL spells it: `'ten'`, and `''` rather than nothing at all.
        spelled = facts.rendered.text[value.start : value.end].strip() or value.text
        return _Value(value.literal_type, None, spelled, None, value.start, value.end)
    ph = value.placeholder
    if ph is None:
        return None
    info = _bound_value(facts, ph)
    if info is None:
        return None
    return _Value(info.code_type, info.helper, info.source, info.span, ph.start, ph.end)


def _bound_value(facts: Facts, ph: Placeholder) -> ValueInfo | None:
    if ph.name and is_stand_in(ph.name):
        for sr in facts.rendered.slots:
            if sr.stand_in == ph.name:
                # Interpolated text becomes SQL text: `= " + str(n)` makes a number literal.
                # Only a numeric cast says what SQL type the text will spell.
                value = sr.slot.value
                return value if value.numeric_cast else None
        return None
    params = facts.statement.parameters
    if not params:
        return None
    for p in params:
        if ph.name is not None and p.name == ph.name:
            return p.value
        if ph.name is None and p.position == ph.position:
            return p.value
    return None


def _type_mismatch(
    facts: Facts, table: str, column: str, db_type: str, value: _Value, context: str
) -> Issue:
    verb = {"compare": "compares", "insert": "inserts", "set": "assigns"}.get(context, "uses")
    shown = f"{value.helper}()" if value.helper else value.source
    source = value.source or "a value"  # never an empty word in a message
    message = (
        f"{table}.{column} is {db_type} in the database, but the code {verb} "
        f"{source} ({value.code_type}" + (f", made by {shown}" if value.helper else "") + ")"
    )
    if value.helper:
        message += f"; the {value.helper}() cast is redundant or the column type is wrong"
    return _issue(
        facts,
        IssueType.TYPE_MISMATCH,
        value.start,
        value.end,
        message,
        span_override=value.span,
        table=table,
        column_name=column,
        db_type=db_type,
        code_type=value.code_type,
        helper=value.helper,
    )


def missing_indexes(facts: Facts) -> Iterator[Issue]:
    """MISSING_INDEX: a filter SQLite answers with a full scan where an index would serve."""
    if (
        facts.refs is None
        or not facts.refs.filters
        or facts.verdict.kind != "ok"
        or not facts.has_schema
    ):
        return
    plan = facts.plan
    scanned = {(m.group(1) or m.group(2)).lower() for line in plan if (m := _SCAN.match(line))}
    automatic = [(m.group(1).lower(), m.group(2)) for line in plan if (m := _AUTOMATIC.match(line))]
    done: set[str] = set()
    for f in facts.refs.filters:
        table = f.column.table
        if table is None or table.is_view or table.name.lower() in done:
            continue
        source = f.source.lower()
        auto = [col for src, col in automatic if src == source]
        if source not in scanned and f.column.name not in auto:
            continue
        columns = _index_columns(facts, source, table.name)
        if not columns or _has_usable_index(facts.schema, table.name, columns[0]):
            continue
        name = f"idx_{table.name}_{'_'.join(columns)}"
        if facts.plan_with_index is not None and not _index_serves(
            plan, facts.plan_with_index(table.name, tuple(columns), name), name
        ):
            continue  # SQLite would read as much with the index: it cures nothing
        done.add(table.name.lower())
        plan_line = next(
            (p for p in plan if p.lower().startswith(("scan " + source, "search " + source))), ""
        )
        message = (
            f"{table.name} is read in full to filter on {', '.join(columns)} "
            f"(query plan: {plan_line}); an index {name} on {table.name}({', '.join(columns)}) "
            "would let SQLite search it"
        )
        yield _issue(
            facts,
            IssueType.MISSING_INDEX,
            f.column.start,
            f.column.end,
            message,
            table=table.name,
            column_name=columns[0],
            suggestion=name,
        )


def missing_sort_indexes(facts: Facts) -> Iterator[Issue]:
    """MISSING_INDEX: the first rows by a column (`ORDER BY c DESC LIMIT n`) that SQLite finds
    by reading the whole table and sorting it, where an index on c would let it read them in
    order and stop at the limit."""
    if (
        facts.verdict.kind != "ok"
        or not facts.has_schema
        or _TEMP_SORT not in facts.plan
        or facts.plan_with_index is None
    ):
        return
    mask = masked(facts.rendered.text)
    scanned = {(m.group(1) or "").lower() for line in facts.plan if (m := _SCAN.match(line))}
    for match in _SORTED_LIMIT.finditer(mask):
        qualifier, column = match.group(1), match.group(2)
        tables = [
            t
            for t in facts.schema.tables.values()
            if t.name.lower() in scanned
            and (qualifier is None or qualifier.lower() == t.name.lower())
            and t.column(column) is not None
            and not t.is_view
        ]
        if len(tables) != 1 or _has_usable_index(facts.schema, tables[0].name, column):
            continue
        table, name = tables[0], f"idx_{tables[0].name}_{column}"
        if facts.refs is not None and any(
            f.column.table is not None
            and f.column.table.name.lower() == table.name.lower()
            and f.column.name.lower() == column.lower()
            for f in facts.refs.filters
        ):
            continue  # filtered on too: the filter's MISSING_INDEX proposes the same index
        after = facts.plan_with_index(table.name, (column,), name)
        if not after or _TEMP_SORT in after or not any(name in line for line in after):
            continue  # the index would not spare the sort: nothing to propose
        start, end = match.start(2), match.end(2)
        yield _issue(
            facts,
            IssueType.MISSING_INDEX,
            start,
            end,
            f"{table.name} is read in full and sorted to return its first rows by {column} "
            f"(query plan: SCAN {table.name}, {_TEMP_SORT}); an index {name} on "
            f"{table.name}({column}) would let SQLite read them in order and stop at the LIMIT",
            table=table.name,
            column_name=column,
            suggestion=name,
        )


def _index_serves(before: tuple[str, ...], after: tuple[str, ...], name: str) -> bool:
    """Return whether the plan `after` searches with index `name` and reads fewer tables in
    full than `before` (a join that only swaps which table is scanned gains nothing)."""

    def full_reads(plan: tuple[str, ...]) -> int:
        return sum(1 for line in plan if _SCAN.match(line) or "AUTOMATIC" in line)

    searches = any(line.startswith("SEARCH ") and f"INDEX {name} " in line for line in after)
    return searches and full_reads(after) < full_reads(before)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _index_columns(facts: Facts, source: str, table: str) -> list[str]:
    seen: list[str] = []
    for f in facts.refs.filters if facts.refs else ():
        if f.source.lower() == source and f.column.table and f.column.table.name == table:
            col = f.column.table.column(f.column.name)
            if col is not None and col.name not in seen and col.primary_key == 0:
                seen.append(col.name)
    return seen


def _has_usable_index(schema: Schema, table: str, column: str) -> bool:
    found = schema.table(table)
    if found is not None:
        alias = found.rowid_alias
        if alias and alias.lower() == column.lower():
            return True
    return any(
        i.columns and i.columns[0].lower() == column.lower() for i in schema.indexes_on(table)
    )


def injections(facts: Facts) -> Iterator[Issue]:
    """SQL_INJECTION and DYNAMIC_IDENTIFIER: non-constant values built into the SQL text."""
    how = {
        "fstring": "an f-string",
        "percent": "% formatting",
        "format": ".format()",
        "concat": "string concatenation (+)",
        "join": "str.join()",
    }
    for sr in facts.rendered.slots:
        value = sr.slot.value
        if value.constant or value.safe_identifier or value.numeric_cast or value.program_data:
            # Literal text, an allow-listed name, a number, or the program's own data: none
            # carries text someone outside the program chose.
            continue
        if sr.role == "in_string" and value.quote_escaped:
            continue  # `'{x.replace("'", "''")}'`: it cannot end the literal it is in
        start, end = sr.start, sr.end
        if sr.role == "identifier":
            yield _issue(
                facts,
                IssueType.DYNAMIC_IDENTIFIER,
                start,
                end,
                f"a table or column name is built into the SQL text from {value.source} with "
                f"{how[sr.slot.kind]}; pass it through an allow-list or quoting helper "
                "(see identifier-helpers in the configuration)",
                span_override=value.span,
            )
        else:
            yield _issue(
                facts,
                IssueType.SQL_INJECTION,
                start,
                end,
                f"{value.source} is built into the SQL text with {how[sr.slot.kind]}; "
                "pass it as a bound parameter instead",
                span_override=value.span,
            )


def select_stars(facts: Facts) -> Iterator[Issue]:
    """SELECT_STAR: `SELECT *` couples the code to every column of the table, in order."""
    stars = facts.refs.stars if facts.refs else star_offsets(facts.rendered.text)
    if not stars:
        return
    if facts.refs:
        tables = [t.name for t in facts.refs.tables]
    else:
        tables = _FROM_TABLE.findall(masked(facts.rendered.text))
    # A stand-in is the name of an interpolated slot, never a table a user knows.
    tables = ["an interpolated table" if is_stand_in(t) else t for t in tables]
    named = [t for t in tables if t != "an interpolated table"]
    mask = masked(facts.rendered.text)
    for start, end in stars:
        if _inside_exists(mask, start):
            continue  # `EXISTS (SELECT * ...)` returns no column to the code
        what = f" of {', '.join(dict.fromkeys(tables))}" if tables else ""
        yield _issue(
            facts,
            IssueType.SELECT_STAR,
            start,
            end,
            f"SELECT * returns every column{what}; name the columns the code uses",
            table=named[0] if len(tables) == 1 and named else None,
        )


def _inside_exists(mask: str, at: int) -> bool:
    """Return whether offset `at` of the (masked) SQL lies in the subquery of an EXISTS."""
    depth = 0
    for i in range(at - 1, -1, -1):
        if mask[i] == ")":
            depth += 1
        elif mask[i] == "(":
            if depth == 0:
                return mask[:i].rstrip().upper().endswith("EXISTS")
            depth -= 1
    return False


_FROM_TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", re.IGNORECASE)


def drift_on_queries(facts: Facts) -> Iterator[Issue]:
    """SCHEMA_DRIFT: a query reads a column whose type differs between database and migrations."""
    if facts.refs is None or not facts.drift.types:
        return
    reported: set[tuple[str, str]] = set()
    # Only where a value meets the column (compared, inserted, assigned) does its type matter.
    for ref in (c.column for c in facts.refs.comparisons):
        if ref.status != "ok" or ref.table is None:
            continue
        key = (ref.table.name.lower(), ref.name.lower())
        diff = facts.drift.types.get(key)
        if diff is None or key in reported:
            continue
        reported.add(key)
        origin = facts.settings.shown(diff.origin)
        yield _issue(
            facts,
            IssueType.SCHEMA_DRIFT,
            ref.start,
            ref.end,
            f"{ref.table.name}.{ref.name} is {diff.db_type or 'untyped'} in the database but "
            f"{diff.expected_type or 'untyped'} in {origin or 'the migrations'}: the "
            "database has drifted from its migrations",
            table=ref.table.name,
            column_name=ref.name,
            db_type=diff.db_type,
            origin=origin,
        )


CHECKS: tuple[Callable[[Facts], Iterator[Issue]], ...] = (
    missing_tables,
    missing_columns,
    syntax_errors,
    type_mismatches,
    result_type_mismatches,
    missing_indexes,
    missing_sort_indexes,
    injections,
    select_stars,
    drift_on_queries,
    parameter_mismatches,
)
_TEXT_CHECKS: tuple[Callable[[Facts], Iterator[Issue]], ...] = (
    syntax_errors,
    injections,
    select_stars,
)
