"""The re-analysis a schema fix runs inside its own transaction, before it commits.

The fixed issue must be gone, and no statement of the code that names the changed table may
get a new breaking issue: a fix that makes the code disagree with the database is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.statement import Statement
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.schema_fixes import FixTransaction, JudgingTransaction
from dbheal_lsp.files import SourceNotText, python_source, read_regular_file
from dbheal_lsp.model import Issue, IssueType, MigrationPlan, VerifyCheck, VerifyReport

# Issue types whose appearance after a schema fix means the fix broke the code.
_BREAKING = frozenset(
    {
        IssueType.MISSING_TABLE,
        IssueType.MISSING_COLUMN,
        IssueType.SQL_SYNTAX,
        IssueType.TYPE_MISMATCH,
    }
)

Reanalysis = Callable[[FixTransaction], VerifyReport]


def reanalysis(project: Project, issue: Issue | None, plan: MigrationPlan) -> Reanalysis:
    """Return the re-analysis of `plan` (fixing `issue`), to run inside the fix's transaction.

    A type change must not trade one mismatch for others, so every statement naming the table
    is checked against the schema before and after.

    The schema before the change is read, and the statements judged against it, now, before
    the transaction begins: once the transaction has spilled pages to the file (a rebuild of a
    large table does), a second connection cannot read the database until it ends, and on a
    server a second connection waits for the fix's locks; so the check itself reads only from
    the transaction it is given.
    """
    from dbheal_lsp.analysis.checker import CheckSettings, StatementChecker
    from dbheal_lsp.analysis.drift import Drift
    from dbheal_lsp.databases.database import SchemaError

    unreadable: tuple[type[Exception], ...] = (SchemaError, *DatabaseError)
    try:
        state = project.schema_state()
        before = project.checker(state)
        # Judged now, before the transaction: a server's judge has a connection of its own,
        # which would wait on the fix's locks (its lock_timeout) for every statement.
        baseline = [
            (rel, statement, {i.fingerprint for i in before.check(statement, rel)})
            for rel, statements in _statements_naming(project, plan.table, issue)
            for statement in statements
        ]
    except unreadable as exc:
        reason = f"cannot read the schema before the change: {exc}"

        def cannot(tx: FixTransaction) -> VerifyReport:
            return VerifyReport((VerifyCheck("re-analysis", False, reason),))

        return cannot

    def check(tx: FixTransaction) -> VerifyReport:
        after_schema = tx.schema()
        # A server judges in the fix's own transaction (PostgreSQL); SQLite on a copy of the
        # schema the transaction reads.
        if isinstance(tx, JudgingTransaction):
            judge = tx.own_judge()
        else:
            judge = project.database.judge(after_schema)
        after = StatementChecker(after_schema, state.expected, Drift(), judge, CheckSettings())
        still: list[Issue] = []
        added: list[Issue] = []
        try:
            for rel, statement, old in baseline:
                for found in after.check(statement, rel):
                    if issue is not None and _same_issue(found, issue):
                        still.append(found)
                    elif found.fingerprint not in old and found.type in _BREAKING:
                        added.append(found)
        finally:
            judge.close()
        return _verdict(issue, still, added)

    return check


def _verdict(issue: Issue | None, still: list[Issue], added: list[Issue]) -> VerifyReport:
    """Return the checks of a re-analysis: the issue is gone, no statement gets a new issue."""
    checks = []
    if issue is not None and not issue.path.endswith(".sql"):
        detail = "the issue is gone" if not still else f"still: {still[0].message}"
        checks.append(VerifyCheck("re-analysis", not still, detail))
    detail = "no statement of the code gets a new issue"
    if added:
        first = added[0]
        detail = (
            f"{len(added)} statement(s) would break, e.g. {first.path}:"
            f"{first.span.line}: {first.type.value} {first.message}"
        )
    checks.append(VerifyCheck("code still agrees", not added, detail))
    return VerifyReport(tuple(checks))


def _statements_naming(
    project: Project, table: str, issue: Issue | None
) -> Iterable[tuple[str, tuple[Statement, ...]]]:
    """Yield (path, statements) of every project file whose text names `table`."""
    needle = table.lower()
    for file in project.source_files([project.config.root]):
        rel = project.config.relative(file)
        try:
            source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
        except (OSError, SourceNotText):
            continue
        if needle not in source.lower() and (issue is None or rel != issue.path):
            continue
        try:
            yield rel, project.statements(source, rel)
        except (SyntaxError, ValueError):
            continue


def _same_issue(found: Issue, issue: Issue) -> bool:
    return found.type is issue.type and (
        found.fingerprint == issue.fingerprint or found.span == issue.span
    )
