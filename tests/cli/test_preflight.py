"""Every failure a user can cause before a change: one line, exit 2, nothing changed."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.projects import joined_project
from tests.conftest import run_dbheal


def dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dbheal ARGS` in `cwd` as a user would and return the finished process."""
    return run_dbheal(cwd, *args)


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` at `folder` for the block (skip where mounting is not allowed)."""
    folder.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        why = f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}"
        if os.environ.get("CI"):  # CI runs as root: there the test must run, not skip
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def _refusal(done: subprocess.CompletedProcess[str]) -> str:
    """Assert exit 2, no traceback, and exactly one error line on stderr; return it."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    errors = [x for x in done.stderr.splitlines() if x.startswith("dbheal: error:")]
    assert len(errors) == 1, done.stderr
    assert all(x.startswith("dbheal: ") for x in done.stderr.splitlines()), done.stderr
    return errors[0]


def test_read_only_project_folder_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "20m") as mnt:
        root = joined_project(mnt / "proj")
        assert dbheal(root, "migrate", "list").returncode == 0
        before = (root / "app.db").read_bytes()
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=False)
        assert remount.returncode == 0
        for args in (("heal", ".", "--yes"), ("migrate", "apply", "1", "--yes")):
            line = _refusal(dbheal(root, *args))
            assert "read-only" in line, line
        assert (root / "app.db").read_bytes() == before


def test_full_disk_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        root = joined_project(mnt / "proj")
        before = (root / "app.db").read_bytes()
        # Fill the file system to the last block.
        with contextlib.suppress(OSError), open(mnt / "filler", "wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 4096)
        line = _refusal(dbheal(root, "heal", ".", "--yes"))
        assert "space" in line, line
        assert (root / "app.db").read_bytes() == before


def test_corrupt_database_is_one_line(tmp_path: Path) -> None:
    root = joined_project(tmp_path / "proj")
    assert dbheal(root, "migrate", "list").returncode == 0
    data = bytearray((root / "app.db").read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree: garbage
    (root / "app.db").write_bytes(bytes(data))
    for args in (("heal", ".", "--yes"), ("migrate", "apply", "1", "--yes")):
        line = _refusal(dbheal(root, *args))
        assert "corrupt" in line or "malformed" in line, line
    assert (root / "app.db").read_bytes() == bytes(data)


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.readline()  # hold it until the test says so
conn.execute("ROLLBACK")
"""


def test_a_lock_held_by_the_app_is_waited_for_then_one_line(tmp_path: Path) -> None:
    root = joined_project(tmp_path / "proj")
    assert dbheal(root, "migrate", "list").returncode == 0
    before = (root / "app.db").read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(root / "app.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        for args in (("heal", ".", "--yes"), ("migrate", "apply", "1", "--yes")):
            done = subprocess.run(
                [sys.executable, "-m", "dbheal_lsp", *args, "--lock-timeout", "1"],
                cwd=root,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=60,
            )
            line = _refusal(done)
            assert "locked" in line and "--lock-timeout" in line, line
            assert done.stderr.count("waiting for the lock held by another connection") == 1
    finally:
        holder.communicate("\n", timeout=30)
    assert (root / "app.db").read_bytes() == before
