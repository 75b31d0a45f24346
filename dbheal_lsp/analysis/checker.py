"""StatementChecker: a statement's Facts, gathered once, then every rule of `rules.RULES`.

The checker owns the judge statements are prepared against (the database back end's copy of
the schema, databases/database.py), follows the DDL a file or script runs so that later
statements see its tables, and applies the configuration (severities, enabled types) to what
the rules report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.oracle import Facts, Verdict, parse, split_script, stand_in_index
from dbheal_lsp.analysis.placeholders import (
    Placeholder,
    find_placeholders,
    normalize_placeholders,
    sqlglot_text,
)
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.sqllex import first_keyword
from dbheal_lsp.analysis.sqlmask import masked, masked_values
from dbheal_lsp.analysis.sqlrefs import References, references
from dbheal_lsp.analysis.statement import Rendered, Statement, is_stand_in, render
from dbheal_lsp.databases.database import Judge
from dbheal_lsp.model import Issue, IssueType, Origin, Severity
from dbheal_lsp.rules import DEFAULT_SEVERITIES, RULES
from dbheal_lsp.rules.missing_index import FULL_READ, SORTED_LIMIT
from dbheal_lsp.rules.rule import Check

if TYPE_CHECKING:
    from dbheal_lsp.analysis.drift import Drift

_FILTERS = re.compile(r"\b(WHERE|JOIN|ON)\b", re.IGNORECASE)
# A literal meeting a column: `= 'x'`, `> 5`, `IN ('a', 3)`, `VALUES (1, 'x')`, `SET a = 2`.
_LITERAL_VALUE = re.compile(r"(=|<|>|\bIN\s*\(|\bVALUES\s*\(|,)\s*(-?\d|')", re.IGNORECASE)
# What a script may run on the schema copy so that its later statements see its tables.
_DEFINITIONS = frozenset({"CREATE", "ALTER", "DROP"})
_CREATES_TABLE = re.compile(
    r"\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?:\w+\s*\.\s*)?([\w\"`\[\]]+)",
    re.IGNORECASE,
)
# An identifier stand-in (a value's is `:__dbheal_N`, a fragment's a comment).
_STAND_IN = re.compile(r"(?<![\w:*])__dbheal_\d+(?![\w*])")
_CLAUSE = re.compile(
    r"\b(SELECT|FROM|JOIN|ON|USING|WHERE|GROUP|HAVING|ORDER|LIMIT|SET|VALUES|UNION|INTO)\b",
    re.IGNORECASE,
)
_TABLE_CLAUSES = frozenset({"FROM", "JOIN", "ON", "USING"})
_MISSING = object()

# Each check once, in the registry's order (one check may report for two rules).
_CHECKS: tuple[Check, ...] = tuple(dict.fromkeys(rule.check for rule in RULES))
# What a statement SQLite rejected is still checked for: what its text alone shows.
_REJECTED_CHECKS: tuple[Check, ...] = tuple(
    dict.fromkeys(rule.check for rule in RULES if rule.runs_on_rejected)
)


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


class _ScriptSchema:
    """The schema a script's statement is judged against, read again only when needed.

    A script's DDL runs on the schema copy; reading the whole schema after each statement made
    a script of n CREATE TABLE take n² time. It is read when a statement's checks need it
    (see `StatementChecker._facts_of`), and only if DDL ran since it was last read.
    """

    def __init__(self, schema: Schema, judge: Judge | None = None) -> None:
        self.last = schema
        self.judge = judge
        self.dirty = False

    def get(self) -> Schema:
        """Return the schema as it stands now."""
        if self.dirty and self.judge is not None:
            self.last = self.judge.schema(self.last.source)
            self.dirty = False
        return self.last

    def has_objects(self) -> bool:
        """Return whether there is a table, view, index or trigger (cheap: one row read)."""
        if not self.dirty or self.judge is None:
            return not self.last.is_empty
        return self.judge.has_objects()


class StatementChecker:
    """Checks statements against one schema; owns the judge's copy statements are prepared on.

    The copy is the database back end's `Judge` (databases/database.py; for SQLite a sandbox,
    databases/sqlite/judge.py): statements are only prepared on it, and a script's
    CREATE/ALTER/DROP run on it under the back end's limits, and are undone afterwards.
    """

    def __init__(
        self,
        schema: Schema,
        expected: Schema | None,
        drift: Drift,
        judge: Judge,
        settings: CheckSettings,
    ) -> None:
        self.schema = schema
        self.expected = expected
        self.drift = drift
        self.judge = judge
        self.settings = settings
        self.has_schema = not schema.is_empty
        self._parsed: dict[str, Any] = {}
        self._verdicts: dict[str, Verdict] = {}
        # EXPLAIN QUERY PLAN of each text, with its placeholders, against the schema as it is
        # (a third of a project's statements repeat another's text).
        self._plans: dict[tuple[str, tuple[Placeholder, ...]], tuple[str, ...]] = {}
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
            checks = _REJECTED_CHECKS if rejected or _is_probe(facts) else _CHECKS
            for check in checks:
                issues.extend(i for i in check(facts) if not self._may_exist(i, facts))
        note = f" (SQL built by {statement.built_by})" if statement.built_by else ""
        return [
            replace(
                i,
                severity=self.settings.severities.get(i.type, i.severity),
                message=i.message + note,
            )
            for i in issues
            if i.type in self.settings.enabled
            and (not statement.built_by or i.type in _CALL_SITE_TYPES)
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
        for part in split_script(facts.rendered):
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
        current = _ScriptSchema(self.schema, self.judge)
        changed = False
        running = True  # until a statement breaks the budget or the savepoint is lost
        with self.judge.undone("dbheal_script"):
            for part in split_script(rendered):
                facts = self._facts_of(statement, path, part, current, cached=not changed)
                if (
                    running
                    and facts.verdict.kind == "ok"
                    and first_keyword(part.text) in _DEFINITIONS
                ):
                    if not self.judge.in_transaction:
                        running = False  # rolled back under us: DDL would be kept for good
                    else:
                        ran = self.judge.run(part.text)
                        if ran.kind == "over_budget":
                            # It would hang the application too: say so on its line. One
                            # runaway statement is enough: the script's later DDL is not run.
                            running = False
                            facts = replace(facts, verdict=Verdict("error", ran.message))
                        elif ran.kind == "ran":
                            current.dirty = True
                            changed = True
                yield facts

    def _facts_after(
        self, ddl: list[str], statement: Statement, path: str, rendered: Rendered
    ) -> Facts:
        """Return the facts of `statement` judged after `ddl` ran on the schema copy (inside a
        savepoint, rolled back afterwards): the tables its function created just above."""
        current = _ScriptSchema(self.schema, self.judge)
        current.dirty = True
        with self.judge.undone("dbheal_function"):
            for sql in ddl:
                if not self.judge.in_transaction:
                    break
                # A failure is another branch's DDL, or DDL a real run would refuse too.
                if self.judge.run(sql).kind == "over_budget":
                    break
            facts = self._facts_of(statement, path, rendered, current, cached=False)
            # Upgrade code filling what it just built runs once: no index to propose for it.
            return replace(facts, plan=())

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
        verdict = self.verdict(text) if cached else self.judge.verdict(text)
        if verdict.kind == "syntax" and part.slots:
            part, verdict = self._as_names(statement, part, verdict, cached=cached)
        placeholders = find_placeholders(part.text)
        # A judge that speaks the code's dialect (a PostgreSQL server) has the last word.
        if self.settings.dialect != self.judge.dialect and verdict.kind in ("syntax", "error"):
            verdict = self._foreign_verdict(part.text, placeholders, current.get(), verdict)
        plan_text = part.text
        if verdict.kind == "no_column" and is_stand_in(verdict.name or ""):
            # Only the interpolated column is unknown (`COUNT(DISTINCT %s)`): the rest of the
            # statement is judged, and planned, with a NULL where that column stands.
            plan_text = _STAND_IN.sub("NULL", part.text)
            if self.judge.verdict(plan_text).kind == "ok":
                verdict = Verdict("ok", f"not judged: {verdict.message} (an interpolated name)")
        has_schema = self.has_schema or current.has_objects()
        plan: tuple[str, ...] = ()
        if (
            verdict.kind == "ok"
            and has_schema
            and (_FILTERS.search(text) or SORTED_LIMIT.search(masked(text)))
        ):
            plan = self._plan(plan_text, placeholders, cached=cached)
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
            partial(self.judge.plan_with_index, plan_text, placeholders) if plan else None,
            self.judge.engine,
        )

    def _as_names(
        self, statement: Statement, part: Rendered, verdict: Verdict, *, cached: bool
    ) -> tuple[Rendered, Verdict]:
        """Return `part` with slots read as names, and its verdict, if SQLite then accepts it.

        A slot may stand where a name belongs (`FROM ({x})`, `PRAGMA v = {n}`): read the slot
        SQLite stumbles on as a name and retry, one slot at a time; then every slot.
        """
        forced: frozenset[int] = frozenset()
        retry, retry_verdict = part, verdict
        while retry_verdict.kind == "syntax":
            index = stand_in_index(retry_verdict.name)
            if index is None or index in forced:
                break
            forced |= {index}
            retry = _as_identifiers(statement, part, forced)
            retry_verdict = self.verdict(retry.text) if cached else self.judge.verdict(retry.text)
        if retry_verdict.kind == "syntax":
            retry = _as_identifiers(statement, part)
            retry_verdict = self.verdict(retry.text) if cached else self.judge.verdict(retry.text)
        if retry_verdict.kind != "syntax":
            return retry, retry_verdict
        return part, verdict

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
        if any(FULL_READ.match(line) or "AUTOMATIC" in line for line in plan):
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
            cached = self.judge.verdict(text)
            self._verdicts[text] = cached
        return cached

    def _plan(
        self, text: str, placeholders: tuple[Placeholder, ...], *, cached: bool
    ) -> tuple[str, ...]:
        """Return the query plan of `text`: cached by text, as verdicts are, while the schema
        copy is unchanged (`cached`); run again after a function's or script's DDL."""
        if not cached:
            return tuple(self.judge.plan(text, placeholders))
        key = (text, placeholders)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = tuple(self.judge.plan(text, placeholders))
        return plan

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
            tree = parse(st.text, dialect)
            self._parsed[key] = tree
        if tree is None:
            return None
        try:
            return references(tree, st, schema)
        except Exception:  # sqlglot trees vary by dialect and version: never fail a check on them
            return None


# What a statement made at a helper's call reports: what the schema says of the names the call
# gives. Advice on the query's shape (SELECT *, an index) is the helper's: its own statement.
_CALL_SITE_TYPES = frozenset(
    {
        IssueType.MISSING_TABLE,
        IssueType.MISSING_COLUMN,
        IssueType.SQL_SYNTAX,
        IssueType.TYPE_MISMATCH,
    }
)


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


def _as_identifiers(
    statement: Statement, part: Rendered, only: frozenset[int] | None = None
) -> Rendered:
    mine = frozenset(s.slot.index for s in part.slots)
    full = render(statement, identifier_slots=mine if only is None else only)
    if not statement.is_script:
        return Rendered(normalize_placeholders(full.text), full.positions, full.slots)
    for piece in split_script(full):
        if {s.slot.index for s in piece.slots} == mine:
            return Rendered(normalize_placeholders(piece.text), piece.positions, piece.slots)
    return part
