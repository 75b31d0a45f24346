"""The layering contracts of scripts/check_layers.py: the package keeps them, and each kind of
break is caught (so a contract cannot silently stop being checked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parent.parent


check_layers = load_script("check_layers")


def test_the_package_keeps_its_layering() -> None:
    found = check_layers.violations(ROOT / "dbheal_lsp")
    assert [str(v) for v in found] == []


@pytest.mark.parametrize(
    ("module", "source", "reason"),
    [
        (
            "analysis/health.py",
            "from dbheal_lsp.fixes.state import StateStore\n",
            "engine must not import fixes",
        ),
        (
            "analysis/x.py",
            "def f():\n    from ..fixes import apply\n",
            "engine must not import fixes",
        ),
        ("rules/x.py", "import dbheal_lsp.lsp.server\n", "engine must not import lsp"),
        ("fixes/x.py", "from dbheal_lsp.admin import app\n", "fixes must not import admin"),
        (
            "admin/app.py",
            "from dbheal_lsp.cli.fix import _outcome_line\n",
            "admin must not import cli",
        ),
        ("lsp/x.py", "from dbheal_lsp import hook\n", "lsp must not import hook"),
        ("runtime/x.py", "from ..lsp.convert import Lines\n", "runtime must not import lsp"),
        ("model.py", "from dbheal_lsp.analysis import schema\n", "base must not import engine"),
        ("fixes/x.py", "import pygls.server\n", "only lsp imports pygls"),
        ("analysis/x.py", "from lsprotocol import types\n", "only lsp imports lsprotocol"),
        ("analysis/checker.py", "import sqlite3\n", "only sqlite imports sqlite3"),
        (
            "lsp/watch.py",
            "def f():\n    from sqlite3 import connect\n",
            "only sqlite imports sqlite3",
        ),
        ("databases/database.py", "import sqlite3\n", "only sqlite imports sqlite3"),
        # PostgreSQL's driver is its back end's alone, even lazily and even for another back end.
        ("analysis/x.py", "def f():\n    import psycopg\n", "only postgres imports psycopg"),
        ("databases/sqlite/x.py", "from psycopg import pq\n", "only postgres imports psycopg"),
        ("databases/__init__.py", "import psycopg\n", "only postgres imports psycopg"),
        (
            "cli/x.py",
            "from dbheal_lsp.databases.postgres.judge import PostgresJudge\n",
            "cli must not import postgres",
        ),
        (
            "languages/javascript/x.py",
            "from dbheal_lsp.languages.python.codefix.rename import rename\n",
            "javascript must not import python",
        ),
        (
            "databases/postgres/x.py",
            "from dbheal_lsp.databases.sqlite.judge import SqliteJudge\n",
            "postgres must not import sqlite",
        ),
        # Above the seam, a back end's modules are reached through the seam only.
        (
            "fixes/x.py",
            "from dbheal_lsp.databases.sqlite.plans import plans_for\n",
            "fixes must not import sqlite",
        ),
        (
            "cli/x.py",
            "from dbheal_lsp.databases.sqlite import backup\n",
            "cli must not import sqlite",
        ),
        # The executor is above the seam: its transaction is the back end's.
        ("fixes/apply.py", "import sqlite3\n", "only sqlite imports sqlite3"),
        (
            "analysis/x.py",
            "def f():\n    from dbheal_lsp.languages.python.extract import Extractor\n",
            "engine must not import python: only through languages/language.py",
        ),
        (
            "fixes/x.py",
            "from dbheal_lsp.languages.python import codefix\n",
            "fixes must not import python: only through languages/language.py",
        ),
        (
            "cli/x.py",
            "import dbheal_lsp.languages.python.codefix\n",
            "cli must not import python: only through languages/language.py",
        ),
    ],
)
def test_each_kind_of_break_is_caught(
    tmp_path: Path, module: str, source: str, reason: str
) -> None:
    package = tmp_path / "dbheal_lsp"
    target = package / module
    target.parent.mkdir(parents=True, exist_ok=True)
    for folder in [package, *target.parent.relative_to(package).parents, target.parent]:
        (package / folder / "__init__.py").touch()
    target.write_text(source)
    found = check_layers.violations(package)
    assert [v.reason for v in found] == [reason]
    assert found[0].path == f"dbheal_lsp/{module}"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("cli/serve.py", "from dbheal_lsp.lsp import server\nfrom dbheal_lsp.admin import app\n"),
        (
            "lsp/x.py",
            "from dbheal_lsp.fixes import apply\nfrom dbheal_lsp import report\nimport pygls\n",
        ),
        ("fixes/x.py", "from dbheal_lsp.analysis import schema\n"),
        ("analysis/x.py", "import sqlglot\nfrom dbheal_lsp import model\n"),
        ("databases/sqlite/judge.py", "import sqlite3\n"),
        ("databases/postgres/judge.py", "def f():\n    from psycopg import pq\n"),
        ("databases/x.py", "from dbheal_lsp.databases.postgres.database import PostgresDatabase\n"),
        # Exempt: dbheal's own history store, and runtime/ (it wraps the app's connections).
        ("fixes/state.py", "import sqlite3\n"),
        ("runtime/transaction.py", "import sqlite3\n"),
        ("runtime/x.py", "from dbheal_lsp.databases.sqlite.plans import create_table_plan\n"),
        ("databases/x.py", "from dbheal_lsp.databases.sqlite.database import SqliteDatabase\n"),
        # The registry names the languages; the engine names the registry and the seam.
        ("languages/__init__.py", "from dbheal_lsp.languages.python.language import X\n"),
        ("analysis/x.py", "from dbheal_lsp.languages import LANGUAGES, language\n"),
    ],
)
def test_allowed_imports_pass(tmp_path: Path, module: str, source: str) -> None:
    package = tmp_path / "dbheal_lsp"
    target = package / module
    target.parent.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").touch()
    (target.parent / "__init__.py").touch()
    target.write_text(source)
    assert check_layers.violations(package) == []
