"""The file watcher, with real files under `tmp_path` and the real watchdog observer.

Waits poll for up to several seconds (CI machines are noisy) and no test asserts how long
anything took. To show that something was *not* reported, a test writes a marker file after it
and waits for the marker: events are handled in order, so by then the first change has been seen.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dbheal_lsp.lsp.watch import ChangeSet, Watcher

WAIT = 8.0  # seconds any one wait may take before the test fails

# watchdog warns when, under load, it adds the same inotify watch twice for a folder made with
# its parents in one go (its own recursive walk and the folder's event race); it is harmless.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")


class Recorder:
    """Collects the change sets a watcher delivers (on its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: list[ChangeSet] = []

    def __call__(self, change: ChangeSet) -> None:
        with self._lock:
            self._changes.append(change)

    @property
    def changes(self) -> list[ChangeSet]:
        with self._lock:
            return list(self._changes)

    def files(self) -> set[Path]:
        return {f for c in self.changes for f in c.source_files}

    def wait_for(self, predicate: Callable[[list[ChangeSet]], bool], timeout: float = WAIT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.changes):
                return True
            time.sleep(0.02)
        return predicate(self.changes)

    def wait_for_file(self, path: Path, timeout: float = WAIT) -> bool:
        return self.wait_for(lambda cs: any(path in c.source_files for c in cs), timeout)


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_sql(database: Path, *statements: str) -> None:
    """Run statements in another connection, as the application would."""
    conn = sqlite3.connect(database)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write(root / "app" / "views.py")
    write(root / "migrations" / "001_init.sql", "CREATE TABLE items (id INTEGER PRIMARY KEY);\n")
    write(root / ".venv" / "lib" / "site.py")
    run_sql(root / "app.db", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    return root.resolve()


WatcherFactory = Callable[..., tuple[Watcher, Recorder]]


@pytest.fixture
def make_watcher(workspace: Path) -> Iterator[WatcherFactory]:
    started: list[Watcher] = []

    def make(
        debounce: float = 0.2, on_change: Callable[[ChangeSet], None] | None = None
    ) -> tuple[Watcher, Recorder]:
        recorder = Recorder()
        watcher = Watcher(
            workspace,
            migrations=workspace / "migrations",
            database=workspace / "app.db",
            on_change=on_change or recorder,
            debounce=debounce,
        )
        watcher.start()
        started.append(watcher)
        return watcher, recorder

    yield make
    for watcher in started:
        watcher.stop()


def test_a_written_python_file_is_reported(workspace: Path, make_watcher: WatcherFactory) -> None:
    _, recorder = make_watcher()
    views = write(workspace / "app" / "views.py", "y = 2\n")
    created = write(workspace / "app" / "sub" / "new.py")
    top = write(workspace / "manage.py")
    for path in (views, created, top):
        assert recorder.wait_for_file(path), path
    change = next(c for c in recorder.changes if views in c.source_files)
    assert not change.migrations_changed and not change.database_changed


def test_many_writes_in_a_burst_make_one_change_set(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    # A debounce much longer than the burst, so that a noisy machine cannot split it.
    _, recorder = make_watcher(debounce=1.0)
    files = [workspace / "app" / f"m{n}.py" for n in range(5)]
    for round_ in range(10):
        for path in files:
            write(path, f"value = {round_}\n")
        time.sleep(0.01)
    assert recorder.wait_for(lambda cs: bool(cs))
    time.sleep(1.5)  # anything split off the burst would have arrived by now
    assert len(recorder.changes) == 1
    assert recorder.changes[0].source_files == frozenset(files)


def test_moves_and_deletions_report_both_names(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    _, recorder = make_watcher()
    old, new = workspace / "app" / "views.py", workspace / "app" / "renamed.py"
    old.rename(new)
    assert recorder.wait_for(lambda cs: {old, new} <= {f for c in cs for f in c.source_files})
    new.unlink()
    gone = len(recorder.changes)
    assert recorder.wait_for(lambda cs: len(cs) > gone and new in cs[-1].source_files)


def test_a_new_migration_is_reported(workspace: Path, make_watcher: WatcherFactory) -> None:
    _, recorder = make_watcher()
    write(
        workspace / "migrations" / "002_more.sql", "ALTER TABLE items ADD COLUMN price INTEGER;\n"
    )
    assert recorder.wait_for(lambda cs: any(c.migrations_changed for c in cs))
    assert all(not c.source_files and not c.database_changed for c in recorder.changes)


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_schema_change_by_another_connection_is_reported(
    workspace: Path, make_watcher: WatcherFactory, journal_mode: str
) -> None:
    run_sql(workspace / "app.db", f"PRAGMA journal_mode={journal_mode}")
    _, recorder = make_watcher()
    run_sql(workspace / "app.db", "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT)")
    assert recorder.wait_for(lambda cs: any(c.database_changed for c in cs))


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_data_write_by_another_connection_is_not_reported(
    workspace: Path, make_watcher: WatcherFactory, journal_mode: str
) -> None:
    run_sql(workspace / "app.db", f"PRAGMA journal_mode={journal_mode}")
    _, recorder = make_watcher()
    for n in range(3):
        run_sql(workspace / "app.db", f"INSERT INTO items (name) VALUES ('item {n}')")
        time.sleep(0.1)
    marker = write(workspace / "app" / "marker.py")
    assert recorder.wait_for_file(marker)
    assert not any(c.database_changed for c in recorder.changes)


def test_a_schema_change_under_a_long_lock_is_reported_after_it(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    _, recorder = make_watcher()
    holder = sqlite3.connect(workspace / "app.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE tags (id INTEGER PRIMARY KEY)")
        time.sleep(1.5)  # the watcher finds the database locked meanwhile, and waits
        assert not any(c.database_changed for c in recorder.changes)
        holder.execute("COMMIT")
    finally:
        holder.close()
    assert recorder.wait_for(lambda cs: any(c.database_changed for c in cs))


def test_a_deleted_or_replaced_database_is_reported(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    _, recorder = make_watcher()
    (workspace / "app.db").unlink()
    assert recorder.wait_for(lambda cs: any(c.database_changed for c in cs))
    seen = len(recorder.changes)
    run_sql(workspace / "app.db", "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    assert recorder.wait_for(lambda cs: any(c.database_changed for c in cs[seen:]))


def test_ignore_writes_hides_the_servers_own_writes(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    watcher, recorder = make_watcher()
    views = workspace / "app" / "views.py"
    migration = workspace / "migrations" / "006_add_index.sql"
    watcher.ignore_writes([views, migration, workspace / "app.db"])
    write(views, "fixed = True\n")
    write(migration, "CREATE INDEX idx_items_name ON items (name);\n")
    run_sql(workspace / "app.db", "CREATE INDEX idx_items_name ON items (name)")
    marker = write(workspace / "app" / "marker.py")
    assert recorder.wait_for_file(marker)
    assert recorder.files() == {marker}
    assert not any(c.migrations_changed or c.database_changed for c in recorder.changes)


def test_the_database_after_an_ignored_migration_is_the_new_baseline(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    watcher, recorder = make_watcher()
    watcher.ignore_writes([workspace / "app.db"], seconds=0.5)
    run_sql(workspace / "app.db", "ALTER TABLE items ADD COLUMN price INTEGER")
    # Once the ignored time is over, the watcher takes the new schema version as its own...
    assert wait_until(lambda: watcher._db_resync_at is None)
    # ...so that the application's next ordinary write is not taken for a schema change.
    run_sql(workspace / "app.db", "INSERT INTO items (name, price) VALUES ('a', 1)")
    marker = write(workspace / "app" / "marker.py")
    assert recorder.wait_for_file(marker)
    assert not any(c.database_changed for c in recorder.changes)
    # The ignored time is over for everything: a write is reported again.
    run_sql(workspace / "app.db", "CREATE TABLE later (id INTEGER)")
    assert recorder.wait_for(lambda cs: any(c.database_changed for c in cs))


def test_skipped_folders_are_not_reported(workspace: Path, make_watcher: WatcherFactory) -> None:
    _, recorder = make_watcher()
    write(workspace / ".venv" / "lib" / "site.py", "changed = 1\n")
    write(workspace / ".venv" / "lib" / "new_package" / "mod.py")
    write(workspace / "app" / "__pycache__" / "views.py")
    write(workspace / "app" / "node_modules" / "pkg" / "x.py")
    write(workspace / "build" / "lib" / "app.py")
    write(workspace / "app" / "notes.txt", "not python")
    marker = write(workspace / "app" / "marker.py")
    assert recorder.wait_for_file(marker)
    assert recorder.files() == {marker}


def test_a_failing_callback_does_not_stop_the_watcher(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    recorder = Recorder()
    calls: list[ChangeSet] = []

    def flaky(change: ChangeSet) -> None:
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("the server had a bad moment")
        recorder(change)

    make_watcher(on_change=flaky)
    write(workspace / "app" / "first.py")
    assert wait_until(lambda: len(calls) >= 1)
    second = write(workspace / "app" / "second.py")
    assert recorder.wait_for_file(second)


def test_watched_folders_may_be_deleted_and_come_back(
    workspace: Path, make_watcher: WatcherFactory
) -> None:
    _, recorder = make_watcher()
    shutil.rmtree(workspace / "migrations")
    shutil.rmtree(workspace / "app")
    assert recorder.wait_for(lambda cs: any(c.migrations_changed for c in cs))

    top = write(workspace / "settings.py")
    assert recorder.wait_for_file(top)

    seen = len(recorder.changes)
    write(workspace / "migrations" / "001_init.sql", "CREATE TABLE items (id INTEGER);\n")
    assert recorder.wait_for(lambda cs: any(c.migrations_changed for c in cs[seen:]))
    back = write(workspace / "app" / "views.py", "back = True\n")
    assert recorder.wait_for_file(back)
    # And the folder that came back is watched again, not only reported once.
    later = write(workspace / "app" / "later.py")
    assert recorder.wait_for_file(later)


def test_a_missing_workspace_part_is_watched_once_it_appears(tmp_path: Path) -> None:
    root = (tmp_path / "empty").resolve()
    root.mkdir()
    recorder = Recorder()
    watcher = Watcher(
        root, migrations=root / "migrations", database=root / "app.db", on_change=recorder
    )
    with watcher:
        write(root / "migrations" / "001.sql", "CREATE TABLE t (x);\n")
        assert recorder.wait_for(lambda cs: any(c.migrations_changed for c in cs))
        run_sql(root / "app.db", "CREATE TABLE t (x)")
        assert recorder.wait_for(lambda cs: any(c.database_changed for c in cs))


def test_stop_leaves_no_thread_behind(workspace: Path) -> None:
    before = set(threading.enumerate())
    recorder = Recorder()
    watcher = Watcher(
        workspace,
        migrations=workspace / "migrations",
        database=workspace / "app.db",
        on_change=recorder,
    )
    watcher.start()
    watcher.start()  # a second start does nothing
    assert watcher.running
    assert len(set(threading.enumerate()) - before) >= 2  # the observer and the worker at least
    changed = write(workspace / "app" / "views.py", "z = 3\n")
    assert recorder.wait_for_file(changed)
    shutil.rmtree(workspace / "app")  # a watched folder gone while running
    watcher.stop()
    assert not watcher.running
    assert [t for t in threading.enumerate() if t not in before] == []
    watcher.stop()  # stopping twice is harmless

    # It can be started again, and stopped again, cleanly.
    watcher.start()
    again = write(workspace / "again.py")
    assert recorder.wait_for_file(again)
    watcher.stop()
    assert [t for t in threading.enumerate() if t not in before] == []


def test_stop_from_inside_the_callback(workspace: Path) -> None:
    before = set(threading.enumerate())
    done = threading.Event()
    holder: list[Watcher] = []

    def stop_now(change: ChangeSet) -> None:
        holder[0].stop()
        done.set()

    watcher = Watcher(workspace, migrations=None, database=None, on_change=stop_now)
    holder.append(watcher)
    watcher.start()
    write(workspace / "app" / "views.py", "q = 1\n")
    assert done.wait(WAIT)
    assert wait_until(lambda: [t for t in threading.enumerate() if t not in before] == [])
