"""The language seam (`languages/language.py`), proven by a language that is not Python.

"SQL lines" is a toy file type (`*.sqll`) whose lines `sql: SELECT ...` are statements. Given
to a Project beside or instead of Python, its statements go through the same checker as
Python's: the same issues, at positions in the toy file, the same notes for a file it cannot
read, and the schema from the code's DDL when there is no database.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dbheal_lsp.analysis.databases import DatabaseRouter
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.statement import Statement, TextPiece
from dbheal_lsp.config import Config, load_config
from dbheal_lsp.files import SourceNotText
from dbheal_lsp.languages import LANGUAGES, SOURCE_EXTENSIONS, extensions_of, language_for
from dbheal_lsp.languages.language import (
    Analyzer,
    CallNotRead,
    CheckedStatements,
    Language,
    Run,
    SourceFile,
    SourceSyntaxError,
)
from dbheal_lsp.model import FileNote, Issue, IssueType, Origin, Span
from tests.analysis.test_project import BROKEN, BROKEN_LINE, make_db, write

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.file_texts import FileTexts
    from dbheal_lsp.model import CodeFix

_PREFIX = "sql:"


class SqlLines:
    """The toy language: `*.sqll` files, UTF-8, one statement per `sql:` line."""

    name = "sqllines"
    extensions: tuple[str, ...] = (".sqll",)

    def decode(self, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceNotText(f"not UTF-8 text (byte {exc.start})") from None

    def encoding(self, data: bytes) -> str:
        return "utf-8"

    def syntax_problem(self, text: str) -> SourceSyntaxError | None:
        return None

    def analyzer(self, config: Config) -> SqlLinesAnalyzer:
        return SqlLinesAnalyzer()

    def code_fixes(
        self, source: str, issue: Issue, project: Project | None = None
    ) -> tuple[CodeFix, ...]:
        return ()


class SqlLinesAnalyzer:
    """The toy's reading of a project: nothing learned, nothing kept."""

    def might_contain_sql(self, text: str) -> bool:
        return _PREFIX in text

    def parse(self, path: str, text: str, texts: FileTexts | None = None) -> SourceFile:
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip() == _PREFIX:
                raise SourceSyntaxError(f"SQL lines: empty statement (line {number})", number)
        return SourceFile(path, text, tuple(lines))

    def statements(self, source: SourceFile) -> tuple[Statement, ...]:
        assert isinstance(source.tree, tuple)
        found = []
        for number, line in enumerate(source.tree, 1):
            if not line.startswith(_PREFIX):
                continue
            sql = line[len(_PREFIX) :].lstrip()
            first = len(line) - len(sql) + 1  # the 1-based column of the SQL's first character
            positions = tuple((number, first + k) for k in range(len(sql) + 1))
            span = Span(number, first, number, first + len(sql))
            found.append(
                Statement(
                    pieces=(TextPiece(sql, positions),),
                    call="sql",
                    span=span,
                    name_span=Span(number, 1, number, len(_PREFIX) + 1),
                    call_span=Span(number, 1, number, len(line) + 1),
                    parameters=None,
                    function="",
                )
            )
        return tuple(found)

    def repaired_statements(self, path: str, text: str, line: int) -> tuple[Statement, ...]:
        return ()

    def check(
        self,
        source: SourceFile,
        checker: StatementChecker | DatabaseRouter,
        state_key: str,
        deadline: float,
    ) -> CheckedStatements:
        statements = self.statements(source)
        if isinstance(checker, DatabaseRouter):
            checker.expect(statements)
        issues: list[Issue] = []
        for statement in statements:
            assert time.monotonic() < deadline
            issues.extend(checker.check(statement, source.path))
        return CheckedStatements(tuple(issues), (), len(statements), len(statements), None)

    def learn(self, files: Sequence[Path], run: Run) -> None:
        pass

    def note(self, source: SourceFile) -> None:
        pass

    def digest(self) -> str:
        return ""

    def learned(self) -> object:
        return None

    def use(self, learned: object) -> None:
        pass

    def code_ddl(self, files: Sequence[Path], run: Run) -> list[tuple[str, Origin]]:
        ddl = []
        for file in files:
            rel = file.name
            source = self.parse(rel, run.texts.source(file, rel))
            for statement in self.statements(source):
                if statement.literal_text.upper().startswith("CREATE"):
                    ddl.append((statement.literal_text, Origin(rel, statement.span.line)))
        return ddl

    def end_run(self) -> None:
        pass

    def unread_calls(
        self, source: SourceFile, statements: Sequence[Statement]
    ) -> tuple[CallNotRead, ...]:
        return ()

    def reads_calls(self) -> frozenset[str]:
        return frozenset({"sql"})


TOY: Language = SqlLines()
_ANALYZER: type[Analyzer] = SqlLinesAnalyzer  # the toy is an Analyzer as mypy reads it

SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
QUERIES = (
    "# a report\n"
    "sql: SELECT name FROM users\n"
    "\n"
    "sql:   SELECT id FROM accounts\n"
    "sql: SELECT nmae FROM users WHERE id = 1\n"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make_db(tmp_path / "app.db", SCHEMA)
    return tmp_path


def _project(root: Path, *languages: Language, **overrides: object) -> Project:
    return Project(load_config(root, {"database": str(root / "app.db"), **overrides}), languages)


def test_the_toy_statements_are_checked_with_their_own_positions(root: Path) -> None:
    result = _project(root, TOY).check_source("reports/q.sqll", QUERIES)

    assert [(i.type, i.span.line, i.span.column, i.span.end_column) for i in result.issues] == [
        (IssueType.MISSING_TABLE, 4, 23, 31),  # "accounts", after the spaces of its line
        (IssueType.MISSING_COLUMN, 5, 13, 17),  # "nmae"
    ]
    assert all(i.path == "reports/q.sqll" for i in result.issues)
    assert result.statements == 3


def test_a_text_the_toy_cannot_read_is_a_note_with_its_line(root: Path) -> None:
    result = _project(root, TOY).check_source("q.sqll", "sql: SELECT 1\nsql:\n")

    assert result.issues == ()
    assert result.notes == (
        FileNote("q.sqll", "not checked: SQL lines: empty statement (line 2)", 2),
    )


def test_a_tree_of_two_languages_is_checked_file_by_file(root: Path) -> None:
    write(root, "reports/q.sqll", QUERIES)
    write(root, "app/x.py", BROKEN)
    write(root, "notes.txt", "sql: SELECT * FROM nowhere\n")  # no language reads it

    python = LANGUAGES[0]
    write(root, "web/q.js", "db.all('SELECT * FROM nowhere')\n")  # not read: no JavaScript
    result = _project(root, python, TOY).check_paths([root], use_cache=False)

    assert [(i.path, i.span.line, i.type) for i in result.issues] == [
        ("app/x.py", BROKEN_LINE, IssueType.MISSING_COLUMN),
        ("reports/q.sqll", 4, IssueType.MISSING_TABLE),
        ("reports/q.sqll", 5, IssueType.MISSING_COLUMN),
    ]
    assert result.files_checked == 2
    # Without the toy, its files are not even found.
    alone = _project(root, python).check_paths([root], use_cache=False)
    assert {i.path for i in alone.issues} == {"app/x.py"}


def test_the_schema_comes_from_the_toy_code_when_there_is_no_database(tmp_path: Path) -> None:
    write(tmp_path, "schema.sqll", "sql: CREATE TABLE users (id INTEGER, name TEXT)\n")
    write(tmp_path, "q.sqll", "sql: SELECT name FROM users\nsql: SELECT nmae FROM users\n")

    project = Project(load_config(tmp_path), (TOY,))
    result = project.check_paths([tmp_path], use_cache=False)

    assert [(i.path, i.span.line, i.type) for i in result.issues] == [
        ("q.sqll", 2, IssueType.MISSING_COLUMN)
    ]


def test_a_toy_file_that_is_not_text_is_skipped_with_a_note(root: Path) -> None:
    (root / "bad.sqll").write_bytes(b"sql: SELECT \xff FROM users\n")

    result = _project(root, TOY).check_paths([root], use_cache=False)

    assert result.issues == ()
    assert [(n.path, n.message) for n in result.notes] == [
        ("bad.sqll", "skipped: not UTF-8 text (byte 12)")
    ]


def test_the_registry_reads_python_then_javascript() -> None:
    assert [language.name for language in LANGUAGES] == ["python", "javascript"]
    assert SOURCE_EXTENSIONS == (
        ".py",
        ".js",
        ".mjs",
        ".cjs",
        ".jsx",
        ".ts",
        ".mts",
        ".cts",
        ".tsx",
    )
    assert language_for("app/x.py") is LANGUAGES[0]
    assert language_for("web/x.tsx") is LANGUAGES[1]
    assert language_for("app/x.sqll") is None
    assert language_for("app/x.sqll", (LANGUAGES[0], TOY)) is TOY
    assert extensions_of((TOY, LANGUAGES[0], TOY)) == (".sqll", ".py")


def test_a_syntax_error_says_why_and_where() -> None:
    error = SourceSyntaxError("SQL lines: empty statement (line 2)", 2)
    assert isinstance(error, ValueError)  # what callers that read any file already catch
    assert (str(error), error.message, error.line) == (error.message, error.message, 2)
    assert SourceSyntaxError("too deep").line is None
