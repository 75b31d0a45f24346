"""The worker processes (analysis/workers.py): a parallel check finds what a serial one does."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from dbheal_lsp.analysis.workers import (
    CHECK_GC_THRESHOLDS,
    PARALLEL_THRESHOLD,
    fewer_collections,
)
from tests.analysis.test_project import BROKEN, HEADER, essentials, make_db, project, write
from tests.analysis.test_result_cache import write_tree


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "app.db")


def test_parallel_and_serial_runs_agree(tmp_path: Path, db: Path) -> None:
    count = PARALLEL_THRESHOLD + 12
    write_tree(tmp_path, count)
    write(tmp_path, "pkg/broken.py", HEADER + "def f(:\n    conn.execute('SELECT 1')\n")
    (tmp_path / "pkg" / "latin.py").write_bytes(b"x = '\xe9'\n")

    serial = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False, jobs=1)
    parallel = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False, jobs=2)

    assert len(serial.issues) == count
    assert len(serial.notes) == 2
    assert essentials(parallel) == essentials(serial)


def test_a_check_collects_garbage_less_often_and_restores_the_collector(
    tmp_path: Path, db: Path
) -> None:
    # An editor's server runs many checks: each must leave the collector as it found it.
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == CHECK_GC_THRESHOLDS
        with fewer_collections():
            pass
        assert gc.get_threshold() == CHECK_GC_THRESHOLDS
    assert gc.get_threshold() == before
    write(tmp_path, "app/q.py", BROKEN)
    result = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False)
    assert any(i.path == "app/q.py" for i in result.issues)
    assert gc.get_threshold() == before
