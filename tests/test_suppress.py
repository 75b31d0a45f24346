"""`# dbheal: ignore[...]` comments: what the editor and `dbheal check` no longer report.

The engine's own door (`Project.check_source`, what the language server and the hook call) on a
real SQLite database, the `dbheal check` command in a subprocess, and the pure reader of
`dbheal_lsp.suppress` on text that is not valid Python.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project, load_project
from dbheal_lsp.model import FileNote, Issue, IssueType, Severity, Span
from dbheal_lsp.suppress import apply_suppressions
from tests.conftest import run_dbheal

HEADER = 'import sqlite3\n\nconn = sqlite3.connect("app.db")\n\n\n'


def make_project(root: Path) -> Project:
    """A project with a real app.db (users without an index on name) and its Project."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n', encoding="utf-8")
    conn = sqlite3.connect(root / "app.db")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)")
    conn.close()
    return load_project(root)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")


def found(project: Project, body: str) -> list[tuple[int, str]]:
    """Return (line, TYPE) of every issue the editor would show for HEADER + `body`."""
    source = HEADER + textwrap.dedent(body)
    result = project.check_source("app.py", source)
    return sorted((i.span.line, i.type.value) for i in result.issues)


def notes_of(project: Project, body: str) -> list[FileNote]:
    return list(project.check_source("app.py", HEADER + textwrap.dedent(body)).notes)


# Line 7 (after HEADER): SELECT_STAR, MISSING_INDEX and SQL_INJECTION on one line.
INJECTED = """\
def f(name):
    conn.execute(f"SELECT * FROM users WHERE name = '{{name}}'"){comment}
"""


def test_without_a_comment_all_three_are_reported(project: Project) -> None:
    assert found(project, INJECTED.format(comment="")) == [
        (7, "MISSING_INDEX"),
        (7, "SELECT_STAR"),
        (7, "SQL_INJECTION"),
    ]


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        pytest.param(
            "  # dbheal: ignore[SELECT_STAR]", ["MISSING_INDEX", "SQL_INJECTION"], id="one"
        ),
        pytest.param(
            "  # dbheal: ignore[SQL_INJECTION, SELECT_STAR]", ["MISSING_INDEX"], id="several"
        ),
        pytest.param("  # dbheal: ignore", [], id="bare"),
        pytest.param(
            "  # dbheal:ignore[select-star]", ["MISSING_INDEX", "SQL_INJECTION"], id="case"
        ),
        pytest.param(
            "  # dbheal: ignore [SELECT_STAR]", ["MISSING_INDEX", "SQL_INJECTION"], id="spaced"
        ),
        pytest.param(
            "  # noqa: E501  # dbheal: ignore[MISSING_INDEX]",
            ["SELECT_STAR", "SQL_INJECTION"],
            id="after-another-tool",
        ),
    ],
)
def test_an_ignore_comment_on_the_line_hides_the_named_types(
    project: Project, comment: str, left: list[str]
) -> None:
    assert [t for _, t in found(project, INJECTED.format(comment=comment))] == left


def test_a_comment_on_any_line_of_the_call_covers_the_statement(project: Project) -> None:
    body = """\
    def f():
        sql = "SELECT * FROM users"
        conn.execute(
            sql,
        )  # dbheal: ignore[SELECT_STAR]
        conn.execute(
            "SELECT * FROM users WHERE id = ?",  # dbheal: ignore[SELECT_STAR]
            (1,),
        )
    """
    assert found(project, body) == []


def test_a_comment_on_the_assignment_line_covers_the_finding_there(project: Project) -> None:
    body = """\
    def f():
        sql = "SELECT * FROM users"  # dbheal: ignore[SELECT_STAR]
        conn.execute(sql)
    """
    assert found(project, body) == []


def test_a_comment_does_not_reach_the_next_statement(project: Project) -> None:
    body = """\
    def f():
        conn.execute("SELECT * FROM users")  # dbheal: ignore[SELECT_STAR]
        conn.execute("SELECT * FROM users WHERE id = 1")
        conn.execute("SELECT nmae FROM users")  # dbheal: ignore[SELECT_STAR]
    """
    assert found(project, body) == [(8, "SELECT_STAR"), (9, "MISSING_COLUMN")]


def test_text_inside_a_string_is_not_a_comment(project: Project) -> None:
    body = """\
    def f():
        conn.execute("SELECT *, '# dbheal: ignore' AS x FROM users")
        conn.execute('''SELECT *  -- # dbheal: ignore
                        FROM users''')
    """
    assert found(project, body) == [(7, "SELECT_STAR"), (8, "SELECT_STAR")]


def test_other_dbheal_comments_are_not_directives(project: Project) -> None:
    body = """\
    def f():
        conn.execute("SELECT * FROM users")  # dbheal: planted SELECT_STAR
        conn.execute("SELECT * FROM users")  # dbheal: ignored, says nothing
    """
    assert found(project, body) == [(7, "SELECT_STAR"), (8, "SELECT_STAR")]


@pytest.mark.parametrize(
    ("where", "left"),
    [
        pytest.param("top", ["MISSING_INDEX", "SQL_INJECTION"], id="first-comment-block"),
        pytest.param("bottom", ["MISSING_INDEX", "SQL_INJECTION"], id="end-of-file"),
    ],
)
def test_ignore_file_hides_a_type_in_the_whole_file(
    project: Project, where: str, left: list[str]
) -> None:
    directive = "# dbheal: ignore-file[SELECT_STAR]\n"
    body = textwrap.dedent(INJECTED.format(comment=""))
    source = directive + HEADER + body if where == "top" else HEADER + body + directive
    result = project.check_source("app.py", source)
    assert sorted(i.type.value for i in result.issues) == left


def test_bare_ignore_file_hides_everything(project: Project) -> None:
    source = "# dbheal: ignore-file\n" + HEADER + INJECTED.format(comment="")
    assert project.check_source("app.py", source).issues == ()


def test_an_unknown_type_is_a_note_and_the_known_ones_still_apply(project: Project) -> None:
    body = INJECTED.format(comment="  # dbheal: ignore[SELECT_STAR, SELEKT_STAR]")
    assert [t for _, t in found(project, body)] == ["MISSING_INDEX", "SQL_INJECTION"]
    (note,) = notes_of(project, body)
    assert note.line == 7
    assert "SELEKT_STAR" in note.message
    assert "dbheal: ignore" in note.message


@pytest.mark.parametrize(
    "bad", ["ignore[]", "ignore[SELECT_STAR", "ignore: SELECT_STAR", "ignore-file=SELECT_STAR"]
)
def test_a_malformed_list_hides_nothing_and_says_so(project: Project, bad: str) -> None:
    body = INJECTED.format(comment=f"  # dbheal: {bad}")
    assert len(found(project, body)) == 3
    (note,) = notes_of(project, body)
    assert note.line == 7


def test_an_edit_that_adds_or_removes_a_file_comment_is_seen_at_once(project: Project) -> None:
    # The editor re-checks on every change and reuses the issues of unchanged functions: a
    # comment added above them changes no function, and must still take effect.
    source = HEADER + INJECTED.format(comment="")
    assert len(project.check_source("app.py", source).issues) == 3
    ignored = "# dbheal: ignore-file[SQL_INJECTION, MISSING_INDEX]\n" + source
    assert [i.type.value for i in project.check_source("app.py", ignored).issues] == ["SELECT_STAR"]
    assert len(project.check_source("app.py", source).issues) == 3


@pytest.mark.asyncio
async def test_the_editor_shows_no_diagnostic_for_an_ignored_finding(tmp_path: Path) -> None:
    from tests.lsp.client import diagnostics, open_doc, session

    root = tmp_path / "proj"
    make_project(root)
    app = root / "app.py"
    text = HEADER + textwrap.dedent(
        """\
        def f():
            conn.execute("SELECT * FROM users")  # dbheal: ignore[SELECT_STAR]
            conn.execute("SELECT * FROM users WHERE id = 1")
        """
    )
    app.write_text(text, encoding="utf-8")
    async with session(root, "visual-studio-code") as client:
        uri = open_doc(client, app)
        found = await diagnostics(client, uri, lambda d: len(d) > 0, version=1)
    assert [(d.code, d.range.start.line + 1) for d in found] == [("SELECT_STAR", 8)]


# --- the reader on text that is not valid Python -------------------------------------------------


def _issue(line: int, kind: IssueType = IssueType.SELECT_STAR) -> Issue:
    return Issue(
        type=kind,
        severity=Severity.LOW,
        path="a.py",
        span=Span.point(line, 1),
        message="m",
        fingerprint=f"f{line}",
    )


@pytest.mark.parametrize(
    "source",
    [
        'x = 1  # dbheal: ignore\ns = """never closed\n',
        "x = 1  # dbheal: ignore\ndef f(:\n  \tpass\n   bad_indent\n",
        "x = 1  # dbheal: ignore \udcff\n(\n",
        "x = 1  # dbheal: ignore\n\x00\x00 garbage \x7f\n",
    ],
    ids=["unclosed-string", "bad-indent", "lone-surrogate", "nul-bytes"],
)
def test_broken_text_keeps_the_comments_before_the_break(source: str) -> None:
    kept, notes = apply_suppressions("a.py", source, (_issue(1), _issue(2)))
    assert [i.span.line for i in kept] == [2]
    assert notes == ()


def test_many_comments_and_issues_are_read_in_linear_time() -> None:
    # Quadratic matching (every issue against every comment line) takes minutes here; the
    # generous timeout is only the failure mode of that.
    script = textwrap.dedent(
        """
        from dbheal_lsp.model import Issue, IssueType, Severity, Span
        from dbheal_lsp.suppress import apply_suppressions
        n = 60_000
        source = "".join(f"x{i} = {i}  # dbheal: ignore[SQL_INJECTION]\\n" for i in range(n))
        whole = Span(1, 1, n, 2)
        issues = tuple(
            Issue(IssueType.SELECT_STAR, Severity.LOW, "a.py", Span.point(i + 1, 1), "m",
                  call_span=whole, fingerprint=str(i))
            for i in range(20_000)
        )
        kept, _ = apply_suppressions("a.py", source, issues)
        print(len(kept))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "20000"


# --- dbheal check ---------------------------------------------------------------------------------


def test_dbheal_check_honours_the_comments(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    make_project(root)
    app = HEADER + textwrap.dedent(
        """\
        def f(name):
            conn.execute(f"SELECT id FROM users WHERE name = '{name}'")  # dbheal: ignore
            conn.execute("SELECT * FROM users")  # dbheal: ignore[SELECT_STAR]
        """
    )
    (root / "app.py").write_text(app, encoding="utf-8")

    done = run_dbheal(root, "check", "--no-cache", "--fail-on", "low")

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("No issues found in 1 file; 2 statements checked")
    assert done.stderr == ""


def test_dbheal_check_on_odd_comments_gives_notes_not_tracebacks(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    make_project(root)
    star = 'conn.execute("SELECT * FROM users")'
    (root / "typo.py").write_text(
        HEADER + star + "  # dbheal: ignore[SELEKT_STAR]\n", encoding="utf-8"
    )
    (root / "latin1.py").write_bytes(
        (HEADER + star + "  # dbheal: ignore \xe9\n").encode("latin-1")
    )
    (root / "broken.py").write_text(
        HEADER + star + '  # dbheal: ignore\ns = """never closed\n', encoding="utf-8"
    )

    done = run_dbheal(root, "check", "--no-cache")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "typo.py:6:22: low SELECT_STAR" in done.stdout
    assert "typo.py:6: note: '# dbheal: ignore[SELEKT_STAR]': unknown issue type" in done.stdout
    assert "latin1.py: note: skipped: not UTF-8 text" in done.stdout
    assert "broken.py:7: note: not checked: Python syntax error" in done.stdout


# --- JavaScript and TypeScript comments -----------------------------------------------------------

JS_APP = """\
// The users' pages.
export function all(db) {
  return db.all("SELECT * FROM users"); // dbheal: ignore[SELECT_STAR]
}
export function one(db, id) {
  return db.get("SELECT nmae FROM users WHERE id = ?", /* dbheal: ignore */ [id]);
}
export function two(db) {
  const note = `a ${"}"} // dbheal: ignore`;  // in a string and a template: no comment
  return db.all("SELECT agee FROM users -- // dbheal: ignore");
}
export const three = (db) =>
  db.all(
    "SELECT naem FROM users", // dbheal: ignore[MISSING_TABLE]
  );
"""


def test_js_and_ts_ignore_comments_hide_their_findings(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    for name in ("web/users.js", "web/users.ts"):
        result = project.check_source(name, JS_APP)
        found = [(i.span.line, i.type) for i in result.issues]
        # Line 3's SELECT * and line 6's misspelt column are hidden; a directive inside a
        # string or template is no comment (line 10 is reported); one naming another type
        # hides nothing (line 14).
        assert found == [(10, IssueType.MISSING_COLUMN), (14, IssueType.MISSING_COLUMN)], name
        assert result.notes == ()


def test_js_ignore_file_and_bad_directives(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    text = (
        "/*\n * dbheal: ignore-file[MISSING_COLUMN]\n */\n"
        "db.all('SELECT nmae FROM users');\n"
        "db.all('SELECT * FROM users'); // dbheal: ignore[SELECT_STARS]\n"
    )
    result = project.check_source("a.mjs", text)
    assert [(i.span.line, i.type) for i in result.issues] == [(5, IssueType.SELECT_STAR)]
    (note,) = result.notes
    assert note.line == 5 and note.message.startswith("'// dbheal: ignore[SELECT_STARS]'")
