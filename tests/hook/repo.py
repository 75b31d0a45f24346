"""A real git repository around the demo shop for the hook's tests, and the helpers that drive
it: every commit here is a real `git commit`.

Each test works on a copy of the demo shop (tests/conftest.py `copy_shop`) made into a git
repository with a baseline commit, and installs the hook with `python -m dbheal_lsp hook install`
as a user would. git runs with an empty global and system configuration, so a developer's own
`core.hooksPath` or signing settings cannot leak in (nor out).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import copy_shop, run_dbheal

ROOT = Path(__file__).resolve().parent.parent.parent

HEADER = (
    "from app.db import get_db\n\n\ndef run(user_id: int) -> list[object]:\n    conn = get_db()\n"
)
CLEAN = (
    HEADER
    + '    return conn.execute("SELECT name FROM products WHERE id = ?", (user_id,)).fetchall()\n'
)
# MISSING_COLUMN, critical: blocks a commit with the default fail-on.
CRITICAL = (
    HEADER
    + '    return conn.execute("SELECT nmae FROM products WHERE id = ?", (user_id,)).fetchall()\n'
)
# SELECT_STAR, low: below the default fail-on.
LOW = (
    HEADER
    + '    return conn.execute("SELECT * FROM products WHERE id = ?", (user_id,)).fetchall()\n'
)
WISHLIST_QUERY = (
    HEADER + '    return conn.execute("SELECT product_id FROM wishlist WHERE user_id = ?", '
    "(user_id,)).fetchall()\n"
)
WISHLIST_MIGRATION = """-- the products a user would like
CREATE TABLE wishlist (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id)
);
CREATE INDEX idx_wishlist_user ON wishlist (user_id);
"""
MARKER_HOOK = '#!/bin/sh\n# a hook the team had before dbheal\necho ran >> "{marker}"\n'


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        NO_COLOR="1",
        LC_ALL="C",
    )
    return env


ENV = _environment()


def git(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` and return the finished process (not checked)."""
    return subprocess.run(
        ["git", *args], cwd=repo, env=env or ENV, capture_output=True, text=True, check=False
    )


def git_ok(repo: Path, *args: str) -> str:
    """Run git in `repo`, fail the test if it fails, and return its standard output."""
    done = git(repo, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dbheal(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m dbheal_lsp ARGS` in `repo` and return the finished process."""
    return run_dbheal(repo, *args, env=ENV)


def commit(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `git commit -m change ARGS`; return its exit status and everything it printed."""
    done = git(repo, "commit", "-m", "change", *args, env=env)
    return done.returncode, done.stdout + done.stderr


def head(repo: Path) -> str:
    return git_ok(repo, "rev-parse", "HEAD").strip()


def write(repo: Path, rel: str, text: str) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def hooks(repo: Path) -> Path:
    return repo / ".git" / "hooks"


def baseline_repository(tmp_path: Path) -> Path:
    """Return the demo shop as a git repository with one baseline commit and no hook."""
    shop = copy_shop(tmp_path)
    git_ok(shop, "init", "-q")
    git_ok(shop, "config", "user.name", "dbheal tests")
    git_ok(shop, "config", "user.email", "tests@dbheal.invalid")
    git_ok(shop, "config", "commit.gpgsign", "false")
    write(shop, ".gitignore", "shop.db\n.dbheal/\n__pycache__/\n")
    git_ok(shop, "add", "-A")
    git_ok(shop, "commit", "-q", "-m", "baseline")
    return shop


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The demo shop as a git repository with one baseline commit and no hook."""
    return baseline_repository(tmp_path)


@pytest.fixture
def hooked(repo: Path) -> Path:
    """`repo` with dbheal's pre-commit hook installed."""
    done = dbheal(repo, "hook", "install")
    assert done.returncode == 0, done.stderr
    return repo
