"""Tests of the per-database lock, across threads and real processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.fixes.lock import (
    LockTimeout,
    _exclusive_file_lock,
    database_lock,
    files_lock,
    lock_path,
)


def _hold_lock(root: str, db: str, held: Any, release: Any) -> None:
    with database_lock(Path(db), 10, root=Path(root)):
        held.set()
        release.wait(30)


def _hold_and_die(root: str, db: str, held: Any) -> None:
    lock = database_lock(Path(db), 10, root=Path(root))
    lock.__enter__()
    held.set()
    time.sleep(0.2)
    os._exit(0)  # dies holding the lock: the kernel must release it


def test_lock_file_is_named_by_the_resolved_database_path(tmp_path: Path) -> None:
    db = tmp_path / "data" / "app.sqlite"
    expected = hashlib.sha1(str(db.resolve()).encode()).hexdigest()
    assert lock_path(tmp_path, db) == tmp_path / ".dbheal" / "locks" / f"{expected}.lock"
    # The same database reached another way is the same lock.
    assert lock_path(tmp_path, tmp_path / "data" / ".." / "data" / "app.sqlite") == lock_path(
        tmp_path, db
    )


def test_a_second_process_waits_for_the_first(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), str(db), held, release))
    holder.start()
    try:
        assert held.wait(30)
        started = time.monotonic()
        with pytest.raises(LockTimeout) as caught, database_lock(db, 0.3, root=tmp_path):
            pytest.fail("took a lock another process holds")
        assert 0.3 <= time.monotonic() - started < 5
        message = str(caught.value)
        assert f"another dbheal process is changing {db}; try again" in message
        assert f"process {holder.pid}" in message
        assert caught.value.lock_file == lock_path(tmp_path, db)
        release.set()
        with database_lock(db, 10, root=tmp_path):  # waits for the release, then takes it
            pass
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    holder = context.Process(target=_hold_and_die, args=(str(tmp_path), str(db), held))
    holder.start()
    assert held.wait(30)
    holder.join(30)
    with database_lock(db, 2, root=tmp_path):
        pass


def test_threads_take_turns(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    inside = 0
    overlaps: list[int] = []
    order: list[str] = []

    def work(name: str) -> None:
        nonlocal inside
        for _ in range(5):
            with database_lock(db, 20, root=tmp_path):
                inside += 1
                if inside > 1:
                    overlaps.append(inside)
                order.append(name)
                time.sleep(0.005)
                inside -= 1

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    assert len(order) == 20


def test_different_databases_do_not_wait_for_each_other(tmp_path: Path) -> None:
    with (
        database_lock(tmp_path / "a.sqlite", 0.2, root=tmp_path),
        database_lock(tmp_path / "b.sqlite", 0.2, root=tmp_path),
        files_lock(tmp_path, 0.2),
    ):
        pass


def test_the_lock_is_released_on_error(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    with pytest.raises(RuntimeError), database_lock(db, 1, root=tmp_path):
        raise RuntimeError("the fix failed")
    with database_lock(db, 0.1, root=tmp_path):
        pass


def test_the_root_defaults_to_the_project_of_the_database(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dbheal]\n")
    (tmp_path / "db").mkdir()
    db = tmp_path / "db" / "app.sqlite"
    with database_lock(db, 1) as held:
        assert held == lock_path(tmp_path, db)
        with pytest.raises(LockTimeout), database_lock(db, 0.1, root=tmp_path):
            pass


# --- the last-resort lock (no flock, no msvcrt) ------------------------------------------------


def test_exclusive_file_lock_excludes_and_times_out(tmp_path: Path) -> None:
    lock_file = tmp_path / "x.lock"
    with _exclusive_file_lock(lock_file, 1, "app.sqlite"):
        assert (tmp_path / "x.lock.excl").exists()
        with (
            pytest.raises(LockTimeout, match=r"another dbheal process is changing app\.sqlite"),
            _exclusive_file_lock(lock_file, 0.1, "app.sqlite"),
        ):
            pass
    assert not (tmp_path / "x.lock.excl").exists()
    inside = 0
    overlaps: list[int] = []

    def work() -> None:
        nonlocal inside
        for _ in range(5):
            with _exclusive_file_lock(lock_file, 20, "app.sqlite"):
                inside += 1
                if inside > 1:
                    overlaps.append(inside)
                time.sleep(0.002)
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_exclusive_file_lock_takes_over_from_a_dead_or_ancient_holder(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    gone = context.Process(target=time.sleep, args=(0,))
    gone.start()
    gone.join()
    lock_file = tmp_path / "x.lock"
    marker = tmp_path / "x.lock.excl"
    marker.write_text(f"{socket.gethostname()} {gone.pid} 0\n")
    with _exclusive_file_lock(lock_file, 1, "app.sqlite"):
        assert marker.read_text().split()[1] == str(os.getpid())
    # A holder on another machine cannot be asked: only its age makes it stale.
    marker.write_text("elsewhere 1 0\n")
    with (
        pytest.raises(LockTimeout, match="held by process 1 on elsewhere"),
        _exclusive_file_lock(lock_file, 0.1, "app.sqlite"),
    ):
        pass
    old = time.time() - 7200
    os.utime(marker, (old, old))
    with _exclusive_file_lock(lock_file, 1, "app.sqlite", stale_after=3600):
        pass
    assert not marker.exists()
