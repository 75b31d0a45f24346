"""What dbheal opens on a stranger's repository, and what it keeps in `.dbheal/`.

The repository is untrusted: a `*.py` that is a FIFO or a link to `/dev/zero`, a database path
in pyproject.toml that points at `/dev/stdin` or out of the project, a committed `.dbheal/` that
is a link or holds a doctored cache. Each test builds such a project under `tmp_path` (mostly a
copy of the shop demo) and runs the real `dbheal` in a subprocess, with a generous timeout as
the failure mode of "does not hang".
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dbheal_lsp import files
from dbheal_lsp.files import (
    FileRefused,
    UnsafeStateDir,
    atomic_write,
    create_private_file,
    is_inside,
    open_private_file,
    private_dir,
    project_cache_dir,
    read_regular_file,
    user_cache_dir,
)
from tests.conftest import run_dbheal

TIMEOUT = 60  # seconds: only the failure mode of "hangs"; a normal run takes about one


def dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dbheal ARGS` in `cwd` as a user would and return the finished process."""
    return run_dbheal(cwd, *args)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """Assert `done` failed the way bad input must (exit 2, one line, no traceback)."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its output."""
    return subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


# --- read_regular_file ---------------------------------------------------------------------------


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")

    assert read_regular_file(path, max_bytes=100, root=tmp_path) == b"x = 1\n"


def test_a_link_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.py"
    link.symlink_to("/dev/zero")

    with pytest.raises(FileRefused, match=r"zero\.py: not a regular file"):
        read_regular_file(link, max_bytes=1000)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "x.py"
    os.mkfifo(fifo)
    # In a child process: if the open blocked, the test fails by timeout instead of hanging.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom dbheal_lsp.files import read_regular_file, FileRefused\n"
            "try:\n    read_regular_file(sys.argv[1], max_bytes=10)\n"
            "except FileRefused as exc:\n    print(exc.reason)\n",
            str(fifo),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert done.stdout.strip() == "not a regular file"


def test_a_file_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * 2_000_001)

    with pytest.raises(FileRefused) as caught:
        read_regular_file(path, max_bytes=2_000_000)
    assert str(caught.value) == f"{path}: larger than 2 MB"


def test_a_link_out_of_the_project_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "home" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("password")
    root = tmp_path / "project"
    root.mkdir()
    (root / "notes.py").symlink_to(secret)
    (root / "inner.py").write_text("x = 1\n")
    (root / "alias.py").symlink_to(root / "inner.py")

    with pytest.raises(FileRefused, match="links out of the project"):
        read_regular_file(root / "notes.py", max_bytes=100, root=root)
    assert read_regular_file(root / "alias.py", max_bytes=100, root=root) == b"x = 1\n"
    assert is_inside(root / "alias.py", root)
    assert not is_inside(root / "notes.py", root)
    assert not is_inside(tmp_path / "project-other" / "x", root)  # a prefix is not a parent


# --- .dbheal/ -----------------------------------------------------------------------------------


def test_private_dir_is_0700_and_ignored_by_git(tmp_path: Path) -> None:
    folder = private_dir(tmp_path, "backups", "x")

    assert folder == tmp_path / ".dbheal" / "backups" / "x"
    for path in (tmp_path / ".dbheal", tmp_path / ".dbheal" / "backups", folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert (tmp_path / ".dbheal" / ".gitignore").read_text() == "*\n"
    git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text("x = 1\n")
    assert git(tmp_path, "status", "--porcelain", "--untracked-files=all") == "?? app.py\n"


def test_a_linked_dbheal_folder_is_refused_and_nothing_is_written_through_it(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other-project"
    other.mkdir()
    root = tmp_path / "project"
    root.mkdir()
    (root / ".dbheal").symlink_to(other)

    with pytest.raises(UnsafeStateDir, match=r"\.dbheal is a symbolic link"):
        private_dir(root, "backups")
    assert list(other.iterdir()) == []


def test_a_linked_folder_inside_dbheal_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other-project"
    other.mkdir()
    (tmp_path / ".dbheal").mkdir()
    (tmp_path / ".dbheal" / "backups").symlink_to(other)

    with pytest.raises(UnsafeStateDir, match=r"backups is a symbolic link \(to .*other-project"):
        private_dir(tmp_path, "backups")


def test_a_committed_gitignore_link_is_replaced_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("keep me\n")
    (tmp_path / "p" / ".dbheal").mkdir(parents=True)
    (tmp_path / "p" / ".dbheal" / ".gitignore").symlink_to(target)

    private_dir(tmp_path / "p")

    assert target.read_text() == "keep me\n"
    gitignore = tmp_path / "p" / ".dbheal" / ".gitignore"
    assert not gitignore.is_symlink() and gitignore.read_text() == "*\n"


def test_private_files_never_follow_a_planted_name(tmp_path: Path) -> None:
    folder = private_dir(tmp_path, "locks")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (folder / "db.lock").symlink_to(victim)

    with pytest.raises(UnsafeStateDir, match=r"db\.lock is a symbolic link"):
        open_private_file(folder / "db.lock")
    fd, path = create_private_file(folder, "manifest.", ".json")
    os.close(fd)
    assert path.parent == folder and stat.S_IMODE(path.stat().st_mode) == 0o600
    atomic_write(folder / "db.lock", b"mine\n")  # replaces the link itself
    assert victim.read_text() == "keep me\n"
    assert (folder / "db.lock").read_bytes() == b"mine\n"


def test_user_cache_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBHEAL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "dbheal"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "dbheal"
    monkeypatch.setenv("DBHEAL_CACHE_DIR", str(tmp_path / "mine"))
    folder = project_cache_dir(tmp_path / "project")
    assert folder.parent == tmp_path / "mine"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert project_cache_dir(tmp_path / "project") == folder
    assert project_cache_dir(tmp_path / "other") != folder


# --- dbheal check on a stranger's repository ---------------------------------------------------


def test_check_skips_a_fifo_a_device_link_a_huge_file_and_a_link_out(
    shop: Path, tmp_path: Path
) -> None:
    os.mkfifo(shop / "app" / "fifo.py")
    (shop / "app" / "zero.py").symlink_to("/dev/zero")
    (shop / "app" / "huge.py").write_bytes(b"x = 1\n" * 1_000_000)  # 6 MB
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "leak.py").write_text(
        'import sqlite3\nsqlite3.connect("x").execute("SELECT secret FROM vault")\n'
    )
    (shop / "app" / "leak.py").symlink_to(outside / "leak.py")
    (outside / "pkg").mkdir()
    (outside / "pkg" / "more.py").write_text((outside / "leak.py").read_text())
    (shop / "app" / "linked_pkg").symlink_to(outside / "pkg", target_is_directory=True)

    done = dbheal(shop, "check", "--no-cache")

    assert done.returncode == 1, done.stderr
    assert "app/fifo.py: note: skipped: not a regular file" in done.stdout
    assert "app/zero.py: note: skipped: links out of the project" in done.stdout
    assert "app/huge.py: note: skipped: larger than 5 MB" in done.stdout
    assert "app/leak.py: note: skipped: links out of the project" in done.stdout
    assert "vault" not in done.stdout
    assert "linked_pkg" not in done.stdout
    # The rest of the project is still checked.
    assert "app/store/orders.py:59:18: critical MISSING_COLUMN" in done.stdout


def test_a_database_outside_the_project_in_pyproject_is_refused(shop: Path) -> None:
    pyproject = shop / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('database = "shop.db"', 'database = "/dev/stdin"'))

    line = one_line_error(dbheal(shop, "check", "--no-cache"))

    assert line == (
        "dbheal: error: database /dev/stdin (from pyproject.toml) is outside the project; "
        "set it with --database or the editor setting to use it"
    )


def test_a_fifo_given_as_the_database_is_one_line_not_a_hang(shop: Path) -> None:
    os.mkfifo(shop / "fifo.db")

    line = one_line_error(dbheal(shop, "check", "--no-cache", "--db", "fifo.db"))

    assert line.endswith("fifo.db is not a regular file, not a SQLite database")


def test_a_database_outside_the_project_given_by_flag_is_used(shop: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    shutil.copyfile(shop / "shop.db", elsewhere)

    done = dbheal(shop, "check", "--no-cache", "--db", str(elsewhere))

    assert done.returncode == 1, done.stderr
    assert "app/store/orders.py:59:18: critical MISSING_COLUMN" in done.stdout


def test_git_status_never_shows_dbheal_after_check_and_heal(shop: Path) -> None:
    git(shop, "init", "-q")
    git(shop, "add", "-A")
    git(shop, "commit", "-qm", "shop")

    assert dbheal(shop, "check").returncode == 1
    healed = dbheal(shop, "heal", "--yes")
    assert healed.returncode in (0, 1), healed.stderr
    assert (shop / ".dbheal" / "backups").is_dir()

    status = git(shop, "status", "--porcelain", "--untracked-files=all")
    assert ".dbheal" not in status
    assert stat.S_IMODE((shop / ".dbheal").stat().st_mode) == 0o700


# --- the result cache ---------------------------------------------------------------------------


def test_a_committed_cache_is_never_believed(shop: Path) -> None:
    """A forged `.dbheal/cache/check.json` that says "no issues" for every file, with the key
    today's dbheal computes for this very copy: the check still reports the shop's findings."""
    first = dbheal(shop, "check")
    assert first.returncode == 1
    forged = shop / ".dbheal" / "cache" / "check.json"
    if not forged.is_file():  # the cache no longer lives in the project: forge one anyway
        forged.parent.mkdir(parents=True, exist_ok=True)
        files = {
            p.relative_to(shop).as_posix(): {"hash": "", "issues": [], "notes": [], "statements": 0}
            for p in shop.rglob("*.py")
        }
        forged.write_text(json.dumps({"key": "any", "files": files}))
    data = json.loads(forged.read_text())
    for entry in data["files"].values():
        entry["issues"] = []
    forged.write_text(json.dumps(data))

    second = dbheal(shop, "check")

    assert second.returncode == 1
    assert second.stdout == first.stdout
    assert "app/store/orders.py:59:18: critical MISSING_COLUMN" in second.stdout


def _rebuild(db: Path, script: str) -> None:
    """Replace the database at `db` with one built by `script`, in the same file (inode)."""
    fresh = db.with_suffix(".new")
    conn = sqlite3.connect(fresh)
    conn.executescript(script)
    conn.close()
    shutil.copyfile(fresh, db)  # writes into the existing file: device and inode stay
    fresh.unlink()


def test_a_rebuilt_database_with_as_many_schema_changes_is_checked_again(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    (root / "queries.py").write_text(
        "import sqlite3\n\nconn = sqlite3.connect('app.db')\n"
        "conn.execute('SELECT b FROM t WHERE b = ?', (1,))\n"
    )
    first_schema = "CREATE TABLE t (a INTEGER); ALTER TABLE t RENAME COLUMN a TO b;"
    # (CREATE + DROP TABLE leaves no table at all, which dbheal checks differently.)
    second_schema = "CREATE TABLE t (a INTEGER); CREATE INDEX t_a ON t (a);"
    versions = []
    for script in (first_schema, second_schema):
        conn = sqlite3.connect(":memory:")
        conn.executescript(script)
        versions.append(conn.execute("PRAGMA schema_version").fetchone()[0])
        conn.close()
    db = root / "app.db"
    _rebuild(db, first_schema)
    first = dbheal(root, "check")
    assert first.returncode == 0, first.stdout + first.stderr

    _rebuild(db, second_schema)
    second = dbheal(root, "check")

    assert versions[0] == versions[1]  # not told apart by schema_version
    assert "queries.py:4:22: critical MISSING_COLUMN no such column: t.b" in second.stdout
    assert second.returncode == 1


# --- .dbheal/ when a fix is applied ---------------------------------------------------------------


def test_heal_refuses_a_linked_backups_folder_and_changes_nothing(
    shop: Path, tmp_path: Path
) -> None:
    neighbours = tmp_path / "neighbours"
    neighbours.mkdir()
    (shop / ".dbheal").mkdir()
    (shop / ".dbheal" / "backups").symlink_to(neighbours)
    before = (shop / "shop.db").read_bytes()

    done = dbheal(shop, "heal", "--yes")

    line = one_line_error(done)
    assert "backups is a symbolic link" in line and "refuses to use a linked .dbheal" in line
    assert list(neighbours.iterdir()) == []
    assert (shop / "shop.db").read_bytes() == before


def test_the_state_file_is_never_opened_through_a_planted_link(tmp_path: Path) -> None:
    from dbheal_lsp.fixes.state import StateError, StateStore

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    root = tmp_path / "project"
    (root / ".dbheal").mkdir(parents=True)
    (root / ".dbheal" / "state.sqlite-wal").symlink_to(victim)

    with pytest.raises(StateError, match=r"state\.sqlite-wal is a symbolic link"):
        StateStore(root)
    assert victim.read_text() == "keep me\n"


def test_a_lock_file_planted_as_a_link_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    from dbheal_lsp.fixes.lock import database_lock, lock_path

    root = tmp_path / "project"
    root.mkdir()
    db = root / "app.db"
    sqlite3.connect(db).close()
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH=/usr/bin\n")
    planted = lock_path(root, db)
    planted.parent.mkdir(parents=True)
    planted.symlink_to(victim)

    with (
        pytest.raises(UnsafeStateDir, match=r"\.lock is a symbolic link"),
        database_lock(db, 1.0, root=root),
    ):
        pass
    assert victim.read_text() == "export PATH=/usr/bin\n"


def test_text_hash_takes_text_decoded_from_bytes_that_were_not_utf8() -> None:
    """A buffer decoded with surrogateescape still hashes, and one changed byte changes it."""
    text = b"x = '\xff'".decode("utf-8", "surrogateescape")
    assert len(files.text_hash(text)) == 32
    assert files.text_hash(text) != files.text_hash(text.replace("x", "y"))


def test_relative_path_inside_and_outside_the_root(tmp_path: Path) -> None:
    """Inside the root a path prints relative with slashes; outside it prints absolute."""
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    assert files.relative_path(root / "app" / "db.py", root) == "app/db.py"
    assert files.relative_path("app/db.py", root) == "app/db.py"
    assert files.relative_path(root / "app" / ".." / "x.py", root) == "x.py"
    assert files.relative_path(tmp_path / "other.py", root) == (tmp_path / "other.py").as_posix()
