"""bench/accuracy/run.py on a small app in a real git mirror: the figures it writes are the ones a
reader of the app's code expects (statements, clean precision, breakage recall and precision)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "bench" / "accuracy" / "run.py"

APP_CODE = textwrap.dedent(
    """\
    import sqlite3


    class Store:
        def __init__(self, path):
            self.db = sqlite3.connect(path)

        def run(self, sql, args=()):
            return self.db.execute(sql, args)


    def names(store):
        return store.run("SELECT name FROM users WHERE id = ?", (1,))


    def emails(db):
        sql = (
            "SELECT email"
            " FROM users"
        )
        return db.execute(sql)


    def typo(db):
        return db.execute("SELECT qqq FROM users")
    """
)


def _line(text: str) -> int:
    return next(n for n, line in enumerate(APP_CODE.splitlines(), 1) if text in line)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def _make_app(tmp: Path) -> tuple[Path, Path]:
    """Return (apps folder, mirrors folder) holding a one-module app pinned at a real commit."""
    src = tmp / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "db.py").write_text(APP_CODE)
    (src / "pyproject.toml").write_text(
        '[tool.other]\nkeep = 1\n\n[tool.dbheal]\nexclude = ["app"]\n'
    )
    _git(src, "init", "-q")
    _git(src, "add", ".")
    _git(src, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "app")
    commit = _git(src, "rev-parse", "HEAD")
    mirrors = tmp / "mirrors"
    _git(tmp, "clone", "-q", "--bare", str(src), str(mirrors / "someone+demo" / "repo"))

    app = tmp / "apps" / "demo"
    app.mkdir(parents=True)
    (app / "app.toml").write_text(
        textwrap.dedent(
            f"""\
            name = "demo"
            repo = "someone/demo"
            commit = "{commit}"
            paths = ["app", "pyproject.toml"]
            database = "app.db"
            sql_call_sites = 3
            [dbheal]
            extra-calls = ["run"]
            """
        )
    )
    (app / "schema.py").write_text(
        textwrap.dedent(
            """\
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[2])
            db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
            db.commit()
            """
        )
    )
    typo = _line("qqq")
    (app / "labels.toml").write_text(
        f'[[finding]]\nfile = "app/db.py"\nline = {typo}\ntype = "MISSING_COLUMN"\n'
        'true = true\npattern = ""\nwhy = "qqq is no column"\n'
    )
    emails_call = _line("return db.execute(sql)")
    names_call = _line("store.run(")
    (app / "breakages.toml").write_text(
        textwrap.dedent(
            f"""\
            [[breakage]]
            name = "rename column users.email"
            sql = ["ALTER TABLE users RENAME COLUMN email TO mail"]
            affected = ["app/db.py:{emails_call}"]

            [[breakage]]
            name = "drop column users.name"
            sql = ["ALTER TABLE users DROP COLUMN name"]
            affected = ["app/db.py:{names_call}"]
            """
        )
    )
    return tmp / "apps", mirrors


def test_runner_measures_an_app_from_its_mirror(tmp_path: Path) -> None:
    apps, mirrors = _make_app(tmp_path)
    corpus, results = tmp_path / "corpus", tmp_path / "results"
    args = [sys.executable, str(RUNNER), "--apps", str(apps), "--mirrors", str(mirrors)]
    args += ["--corpus", str(corpus), "--results", str(results), "--label", "t"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    data = json.loads((results / "demo-t.json").read_text())
    # Three statements: the helper's (configured in extra-calls), the one whose SQL is bound to
    # a name above its call, and the typo.
    assert (data["statements_found"], data["sql_call_sites"]) == (3, 3)
    clean = data["clean"]
    assert (clean["total"], clean["true"], clean["unlabelled"]) == (1, 1, 0)
    assert clean["precision"] == 100.0
    # The rename is reported on the SQL text above `execute(sql)`: it still counts for that
    # statement. The dropped column is reported in the helper's statement.
    breakage = data["breakage"]
    assert (breakage["found"], breakage["affected"]) == (2, 2)
    assert (breakage["recall"], breakage["precision"]) == (100.0, 100.0)
    assert "| demo | t | 3 / 3 | 1 (1/0/0) | 100.0% | 100.0% (2/2) |" in done.stdout

    # The copy's pyproject.toml has app.toml's [tool.dbheal] in place of the repository's,
    # and keeps its other tables.
    pyproject = (corpus / "demo" / "pyproject.toml").read_text()
    assert "[tool.other]\nkeep = 1" in pyproject
    assert "exclude" not in pyproject and 'extra-calls = ["run"]' in pyproject


def test_an_unknown_app_is_one_line_and_status_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--apps", str(tmp_path), "--app", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("--app: no apps/nope/app.toml")
    assert "Traceback" not in done.stderr
