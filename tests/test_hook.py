"""`dbheal hook` in real git repositories: every commit here is a real `git commit`.

Each test works on a copy of the demo shop (tests/conftest.py `copy_shop`) made into a git
repository with a baseline commit, and installs the hook with `python -m dbheal_lsp hook install`
as a user would. git runs with an empty global and system configuration, so a developer's own
`core.hooksPath` or signing settings cannot leak in (nor out).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_shop, run_dbheal

ROOT = Path(__file__).resolve().parent.parent

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


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The demo shop as a git repository with one baseline commit and no hook."""
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
def hooked(repo: Path) -> Path:
    """`repo` with dbheal's pre-commit hook installed."""
    done = dbheal(repo, "hook", "install")
    assert done.returncode == 0, done.stderr
    return repo


# --- commits ------------------------------------------------------------------------------------


def test_a_staged_critical_issue_blocks_the_commit(hooked: Path) -> None:
    before = head(hooked)
    write(hooked, "app/wish.py", CRITICAL)
    git_ok(hooked, "add", "app/wish.py")

    status, output = commit(hooked)

    assert status != 0
    assert head(hooked) == before
    assert "app/wish.py:6:" in output
    assert "critical MISSING_COLUMN no such column: products.nmae" in output
    assert "commit blocked" in output
    assert "git commit --no-verify" in output


def test_a_clean_change_is_committed(hooked: Path) -> None:
    write(hooked, "app/wish.py", CLEAN)
    git_ok(hooked, "add", "app/wish.py")

    status, output = commit(hooked)

    assert status == 0, output
    assert "dbheal: 1 staged file checked, no issues." in output
    assert git_ok(hooked, "show", "HEAD:app/wish.py") == CLEAN


def test_issues_below_fail_on_are_shown_but_do_not_block(hooked: Path) -> None:
    write(hooked, "app/wish.py", LOW)
    git_ok(hooked, "add", "app/wish.py")

    status, output = commit(hooked)

    assert status == 0, output
    assert "low SELECT_STAR" in output
    assert "commit allowed: 1 issue below critical" in output


def test_the_staged_content_is_judged_not_the_working_tree(hooked: Path) -> None:
    # The index is clean, the working tree has the bug: allowed, and the bug stays uncommitted.
    write(hooked, "app/wish.py", CLEAN)
    git_ok(hooked, "add", "app/wish.py")
    write(hooked, "app/wish.py", CRITICAL)

    status, output = commit(hooked)

    assert status == 0, output
    assert git_ok(hooked, "show", "HEAD:app/wish.py") == CLEAN
    assert (hooked / "app/wish.py").read_text(encoding="utf-8") == CRITICAL


def test_a_bug_in_the_index_blocks_even_when_the_working_tree_is_fixed(hooked: Path) -> None:
    write(hooked, "app/wish.py", CRITICAL)
    git_ok(hooked, "add", "app/wish.py")
    write(hooked, "app/wish.py", CLEAN)
    before = head(hooked)

    status, output = commit(hooked)

    assert status != 0
    assert head(hooked) == before
    assert "MISSING_COLUMN" in output and "nmae" in output


def test_a_partially_staged_file_is_judged_by_its_staged_hunks(hooked: Path) -> None:
    # An existing file: stage a clean change, then break another line without staging it.
    path = hooked / "app/db.py"
    original = path.read_text(encoding="utf-8")
    write(hooked, "app/db.py", original + "\n\n" + CLEAN.split("\n\n\n", 1)[1])
    git_ok(hooked, "add", "app/db.py")
    write(
        hooked, "app/db.py", path.read_text(encoding="utf-8").replace("SELECT name", "SELECT nmae")
    )

    status, output = commit(hooked)

    assert status == 0, output
    assert "nmae" not in git_ok(hooked, "show", "HEAD:app/db.py")


def test_commit_all_checks_the_index_git_builds_for_it(hooked: Path) -> None:
    # `git commit -a` stages into a temporary index (GIT_INDEX_FILE): that is what is judged.
    write(hooked, "app/wish.py", CLEAN)
    git_ok(hooked, "add", "app/wish.py")
    git_ok(hooked, "commit", "-q", "-m", "clean")
    write(hooked, "app/wish.py", CRITICAL)

    status, output = commit(hooked, "-a")

    assert status != 0
    assert "nmae" in output


def test_no_verify_bypasses_the_hook(hooked: Path) -> None:
    write(hooked, "app/wish.py", CRITICAL)
    git_ok(hooked, "add", "app/wish.py")

    status, output = commit(hooked, "--no-verify")

    assert status == 0, output
    assert "dbheal" not in output
    assert git_ok(hooked, "show", "HEAD:app/wish.py") == CRITICAL


def test_nothing_python_or_migration_staged_passes_silently(hooked: Path) -> None:
    write(hooked, "NOTES.txt", "nothing to see\n")
    git_ok(hooked, "add", "NOTES.txt")

    status, output = commit(hooked)

    assert status == 0, output
    assert "dbheal" not in output


def test_files_the_project_excludes_are_not_checked(hooked: Path) -> None:
    # The shop's pyproject.toml excludes make_db.py.
    path = hooked / "make_db.py"
    write(hooked, "make_db.py", path.read_text(encoding="utf-8") + "\n# touched\n")
    git_ok(hooked, "add", "make_db.py")

    status, output = commit(hooked)

    assert status == 0, output
    assert "dbheal" not in output


def test_a_file_that_is_not_utf8_is_skipped_with_a_note(hooked: Path) -> None:
    (hooked / "app/latin1.py").write_bytes(b"# caf\xe9\nx = 1\n")
    git_ok(hooked, "add", "app/latin1.py")

    status, output = commit(hooked)

    assert status == 0, output
    assert "app/latin1.py: note: skipped: not UTF-8 text (byte 5)" in output


# --- migrations ---------------------------------------------------------------------------------


def test_a_staged_migration_makes_a_staged_query_on_its_table_pass(hooked: Path) -> None:
    write(hooked, "migrations/006_wishlist.sql", WISHLIST_MIGRATION)
    write(hooked, "app/wish.py", WISHLIST_QUERY)
    git_ok(hooked, "add", "migrations/006_wishlist.sql", "app/wish.py")

    status, output = commit(hooked)

    assert status == 0, output
    assert "dbheal: 2 staged files checked, no issues." in output


def test_an_unstaged_migration_does_not_count(hooked: Path) -> None:
    # The migration is in the working tree, and even applied to the local database, but the
    # commit does not contain it: the query is judged as the commit would run it.
    write(hooked, "migrations/006_wishlist.sql", WISHLIST_MIGRATION)
    conn = sqlite3.connect(hooked / "shop.db")
    conn.executescript(WISHLIST_MIGRATION)
    conn.close()
    write(hooked, "app/wish.py", WISHLIST_QUERY)
    git_ok(hooked, "add", "app/wish.py")

    status, output = commit(hooked)

    assert status != 0
    assert "critical MISSING_TABLE no such table: wishlist" in output


def test_a_staged_migration_that_fails_blocks_the_commit(hooked: Path) -> None:
    write(hooked, "migrations/006_broken.sql", "ALTER TABLE nothere ADD COLUMN x TEXT;\n")
    git_ok(hooked, "add", "migrations/006_broken.sql")

    status, output = commit(hooked)

    assert status != 0
    assert "migrations/006_broken.sql:1:1: critical SQL_SYNTAX" in output
    assert "no such table: nothere" in output


def test_against_database_checks_like_dbheal_check(hooked: Path) -> None:
    # profile.py queries user_preferences, which migration 004 defines and the database lacks.
    plain = dbheal(hooked, "hook", "run", "app/routes/profile.py")
    against_db = dbheal(hooked, "hook", "run", "--against", "database", "app/routes/profile.py")

    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert against_db.returncode == 1, against_db.stdout + against_db.stderr
    assert (
        "it is defined in migrations/004_user_preferences.sql:4 but the database has not "
        "applied that migration" in against_db.stdout
    )


# --- configuration ------------------------------------------------------------------------------


def test_fail_on_from_the_project_and_from_the_flag(hooked: Path) -> None:
    pyproject = hooked / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            "[tool.dbheal]\n", '[tool.dbheal]\nfail-on = "low"\n'
        ),
        encoding="utf-8",
    )
    git_ok(hooked, "commit", "-q", "--no-verify", "-am", "fail on low")
    write(hooked, "app/wish.py", LOW)
    git_ok(hooked, "add", "app/wish.py")

    flagged = dbheal(hooked, "hook", "run", "--fail-on", "high")
    status, output = commit(hooked)

    assert flagged.returncode == 0, flagged.stdout
    assert status != 0
    assert "1 issue at or above low" in output


# --- the pre-commit framework -------------------------------------------------------------------


def test_file_arguments_are_checked_by_their_staged_content(hooked: Path) -> None:
    # What the pre-commit framework runs: `dbheal hook run FILE...`, from the top of the repo.
    write(hooked, "app/wish.py", CRITICAL)
    git_ok(hooked, "add", "app/wish.py")
    write(hooked, "app/wish.py", CLEAN)
    write(hooked, "app/untracked.py", CRITICAL)

    staged = dbheal(hooked, "hook", "run", "app/wish.py", "app/untracked.py")
    committed = dbheal(hooked / "app", "hook", "run", "db.py")

    assert staged.returncode == 1, staged.stdout + staged.stderr
    assert "app/wish.py:6:" in staged.stdout
    assert "app/untracked.py: note: skipped: not in the index" in staged.stdout
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert "1 staged file checked, no issues" in committed.stdout


def test_pre_commit_hooks_yaml_declares_the_hook() -> None:
    yaml = pytest.importorskip("yaml")
    hooks_file = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (entry,) = hooks_file
    assert entry["id"] == "dbheal"
    assert entry["name"]
    assert entry["entry"] == "dbheal hook run"
    assert entry["language"] == "python"
    assert entry["types_or"] == ["python", "sql"]
    assert entry["pass_filenames"] is True


# --- install and uninstall ----------------------------------------------------------------------


def _earlier_hook(repo: Path, marker: Path, folder: Path | None = None) -> tuple[Path, bytes]:
    hook = (folder or hooks(repo)) / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    content = MARKER_HOOK.format(marker=marker).encode()
    hook.write_bytes(content)
    hook.chmod(0o750)
    return hook, content


def test_an_existing_hook_is_chained_and_restored_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    hook, content = _earlier_hook(repo, marker)

    installed = dbheal(repo, "hook", "install")
    write(repo, "app/wish.py", CLEAN)
    git_ok(repo, "add", "app/wish.py")
    status, output = commit(repo)

    assert installed.returncode == 0, installed.stderr
    assert "runs the earlier hook first" in installed.stdout
    assert (hooks(repo) / "pre-commit.dbheal-chained").read_bytes() == content
    assert status == 0, output
    assert marker.read_text() == "ran\n"
    assert "no issues" in output

    # Both run: the earlier hook first, then dbheal, which still blocks.
    write(repo, "app/wish.py", CRITICAL)
    git_ok(repo, "add", "app/wish.py")
    status, output = commit(repo)
    assert status != 0
    assert marker.read_text() == "ran\nran\n"
    assert "nmae" in output

    removed = dbheal(repo, "hook", "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert hook.read_bytes() == content
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert not (hooks(repo) / "pre-commit.dbheal-chained").exists()


def test_a_failing_earlier_hook_still_blocks_the_commit(repo: Path) -> None:
    hook = hooks(repo) / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'the earlier hook says no' >&2\nexit 3\n")
    hook.chmod(0o755)
    assert dbheal(repo, "hook", "install").returncode == 0
    write(repo, "app/wish.py", CLEAN)
    git_ok(repo, "add", "app/wish.py")

    status, output = commit(repo)

    assert status != 0
    assert "the earlier hook says no" in output
    assert "dbheal" not in output  # it stops before dbheal runs


def test_install_twice_changes_nothing(repo: Path, tmp_path: Path) -> None:
    _, content = _earlier_hook(repo, tmp_path / "marker")

    first = dbheal(repo, "hook", "install")
    script = (hooks(repo) / "pre-commit").read_bytes()
    second = dbheal(repo, "hook", "install")

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "already installed" in second.stdout
    assert (hooks(repo) / "pre-commit").read_bytes() == script
    assert (hooks(repo) / "pre-commit.dbheal-chained").read_bytes() == content
    assert sorted(p.name for p in hooks(repo).iterdir() if not p.name.endswith(".sample")) == [
        "pre-commit",
        "pre-commit.dbheal-chained",
    ]
    # One uninstall is enough to get back to the start.
    assert dbheal(repo, "hook", "uninstall").returncode == 0
    assert (hooks(repo) / "pre-commit").read_bytes() == content


def test_uninstall_removes_the_hook_when_there_was_none(hooked: Path) -> None:
    removed = dbheal(hooked, "hook", "uninstall")
    again = dbheal(hooked, "hook", "uninstall")

    assert removed.returncode == 0
    assert not (hooks(hooked) / "pre-commit").exists()
    assert "not installed" in again.stdout
    write(hooked, "app/wish.py", CRITICAL)
    git_ok(hooked, "add", "app/wish.py")
    assert commit(hooked)[0] == 0


def test_a_foreign_hook_and_a_chained_one_are_not_overwritten(repo: Path) -> None:
    (hooks(repo) / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (hooks(repo) / "pre-commit.dbheal-chained").write_text("#!/bin/sh\nexit 0\n")

    done = dbheal(repo, "hook", "install")

    assert done.returncode == 2
    assert "move one of them away first" in done.stderr
    assert (hooks(repo) / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"


def test_core_hooks_path_is_respected(repo: Path, tmp_path: Path) -> None:
    git_ok(repo, "config", "core.hooksPath", ".githooks")
    marker = tmp_path / "marker"
    hook, content = _earlier_hook(repo, marker, repo / ".githooks")

    installed = dbheal(repo, "hook", "install")
    write(repo, "app/wish.py", CRITICAL)
    git_ok(repo, "add", "app/wish.py")
    status, output = commit(repo)

    assert installed.returncode == 0, installed.stderr
    assert "in the working tree" in installed.stdout
    assert not (hooks(repo) / "pre-commit").exists()
    assert (repo / ".githooks" / "pre-commit.dbheal-chained").read_bytes() == content
    assert status != 0 and "nmae" in output
    assert marker.read_text() == "ran\n"
    assert dbheal(repo, "hook", "uninstall").returncode == 0
    assert hook.read_bytes() == content


def test_a_worktree_shares_the_repository_hook(repo: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "feature"
    git_ok(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))

    installed = dbheal(worktree, "hook", "install")
    shutil.copy(repo / "shop.db", worktree / "shop.db")
    write(worktree, "app/wish.py", CRITICAL)
    git_ok(worktree, "add", "app/wish.py")
    status, output = commit(worktree)

    assert installed.returncode == 0, installed.stderr
    assert (hooks(repo) / "pre-commit").is_file()
    assert status != 0 and "nmae" in output


# --- the hook script's fall-backs ---------------------------------------------------------------


def test_without_its_python_the_hook_uses_dbheal_on_path(repo: Path) -> None:
    scripts = Path(sys.executable).parent
    if not (scripts / "dbheal").exists():
        pytest.skip("no dbheal script next to this Python")
    assert dbheal(repo, "hook", "install", "--python", "/nonexistent/python3").returncode == 0
    write(repo, "app/wish.py", CRITICAL)
    git_ok(repo, "add", "app/wish.py")
    env = dict(ENV, PATH=f"{scripts}{os.pathsep}{ENV['PATH']}")

    status, output = commit(repo, env=env)

    assert status != 0
    assert "nmae" in output


def test_without_python_nor_dbheal_the_hook_says_so(repo: Path) -> None:
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    path = os.pathsep.join(dict.fromkeys([str(git_dir), "/usr/bin", "/bin"]))
    if shutil.which("dbheal", path=path):
        pytest.skip("dbheal is installed system-wide")
    assert dbheal(repo, "hook", "install", "--python", "/nonexistent/python3").returncode == 0
    write(repo, "app/wish.py", CLEAN)
    git_ok(repo, "add", "app/wish.py")

    status, output = commit(repo, env=dict(ENV, PATH=path))

    assert status != 0
    assert "the pre-commit hook cannot run" in output
    assert "git commit --no-verify" in output


def test_outside_a_repository_hook_commands_fail_with_one_line(tmp_path: Path) -> None:
    for action in ("install", "uninstall", "run"):
        done = dbheal(tmp_path, "hook", action)
        assert done.returncode == 2
        assert done.stderr.startswith("dbheal: error: not inside a git working tree")
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_project_in_a_folder_of_the_repository(tmp_path: Path) -> None:
    # The repository holds more than the project: paths are shown from the top of the repo.
    top = tmp_path / "mono"
    shop = copy_shop(top)
    git_ok(top, "init", "-q")
    git_ok(top, "config", "user.name", "dbheal tests")
    git_ok(top, "config", "user.email", "tests@dbheal.invalid")
    write(top, ".gitignore", "*.db\n.dbheal/\n__pycache__/\n")
    write(top, "tools/other.py", 'print("not a dbheal project")\n')
    git_ok(top, "add", "-A")
    git_ok(top, "commit", "-q", "-m", "baseline")
    assert dbheal(shop / "app", "hook", "install").returncode == 0
    write(shop, "migrations/006_wishlist.sql", WISHLIST_MIGRATION)
    write(shop, "app/wish.py", WISHLIST_QUERY)
    write(shop, "app/bad.py", CRITICAL)
    git_ok(top, "add", "shop/migrations/006_wishlist.sql", "shop/app/wish.py", "shop/app/bad.py")

    status, output = commit(top)

    assert status != 0
    assert "shop/app/bad.py:6:" in output
    assert "wish.py" not in output
    assert "1 issue at or above critical in 1 of 3 staged files" in output


# --- a staged migration re-checks the committed code ---------------------------------------------


def test_a_staged_migration_renaming_a_table_blocks_on_the_code_using_it(hooked: Path) -> None:
    before = head(hooked)
    write(hooked, "migrations/006_rename.sql", "ALTER TABLE order_items RENAME TO line_items;\n")
    git_ok(hooked, "add", "migrations/006_rename.sql")

    status, output = commit(hooked)

    assert status != 0, output
    assert head(hooked) == before
    # The committed code (not staged) that still names the table is what would break.
    assert "app/store/orders.py:" in output
    assert "no such table: order_items" in output
    assert "commit blocked" in output


def test_a_staged_migration_deletion_blocks_on_the_code_using_it(hooked: Path) -> None:
    git_ok(hooked, "rm", "-q", "--cached", "migrations/005_order_tracking.sql")

    status, output = commit(hooked)

    assert status != 0, output
    assert "app/store/orders.py:106:" in output
    assert "tracking_number" in output


def test_a_harmless_staged_migration_edit_passes(hooked: Path) -> None:
    path = hooked / "migrations" / "005_order_tracking.sql"
    path.write_text(path.read_text() + "\n-- tracking numbers come from the carrier's API\n")
    write(
        hooked,
        "migrations/006_index.sql",
        "CREATE INDEX idx_orders_email ON orders (customer_email);\n",
    )
    git_ok(hooked, "add", "migrations/005_order_tracking.sql", "migrations/006_index.sql")

    status, output = commit(hooked)

    assert status == 0, output
    # The code's issues the commit does not change are not the commit's to answer for.
    assert "app/store/orders.py" not in output
