"""`dbheal hook run` judges what a commit would contain: staged files and staged migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import copy_shop
from tests.hook.repo import (
    CLEAN,
    CRITICAL,
    LOW,
    WISHLIST_MIGRATION,
    WISHLIST_QUERY,
    commit,
    dbheal,
    git_ok,
    head,
    write,
)

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


# --- JavaScript and TypeScript --------------------------------------------------------------------

WISH_TS = """\
// The wish list, café 🍵 edition.
export function wishes(db: Database, userId: number) {
  return db.prepare("SELECT product_id FROM wishlist WHERE user_id = ?").all(userId);
}
"""


def test_a_staged_typescript_file_is_checked_against_the_staged_migrations(hooked: Path) -> None:
    before = head(hooked)
    write(hooked, "web/wish.ts", WISH_TS)
    git_ok(hooked, "add", "web/wish.ts")

    status, output = commit(hooked)

    assert status != 0, output
    assert head(hooked) == before
    # Line 3, column 45: the table's name (1-based).
    assert "web/wish.ts:3:45: critical MISSING_TABLE no such table: wishlist" in output

    write(hooked, "migrations/006_wishlist.sql", WISHLIST_MIGRATION)
    git_ok(hooked, "add", "migrations/006_wishlist.sql")
    status, output = commit(hooked)
    assert status == 0, output
    assert git_ok(hooked, "show", "HEAD:web/wish.ts") == WISH_TS


def test_a_staged_migration_dropping_a_table_blocks_on_committed_javascript(hooked: Path) -> None:
    write(hooked, "web/wish.js", WISH_TS.replace("db: Database, userId: number", "db, userId"))
    write(hooked, "migrations/006_wishlist.sql", WISHLIST_MIGRATION)
    git_ok(hooked, "add", "web/wish.js", "migrations/006_wishlist.sql")
    status, output = commit(hooked)
    assert status == 0, output

    write(hooked, "migrations/007_drop.sql", "DROP TABLE wishlist;\n")
    git_ok(hooked, "add", "migrations/007_drop.sql")
    status, output = commit(hooked)

    assert status != 0, output
    assert "web/wish.js:3:" in output
    assert "no such table: wishlist" in output
