"""Each file read and parsed at most once per check, and not read at all when unchanged."""

from __future__ import annotations

import ast
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.analysis.file_texts import SETTLE_SECONDS
from dbheal_lsp.analysis.workers import PARALLEL_THRESHOLD
from dbheal_lsp.model import IssueType
from tests.analysis.test_project import HEADER, SCHEMA, essentials, make_db, project, where, write


class _Opens:
    """The files opened while `recording` holds a root: a real audit hook (PEP 578) on every
    `open` Python does (os.open included), not a stand-in for dbheal's own code."""

    def __init__(self) -> None:
        self.root: str | None = None
        self.paths: list[str] = []

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and self.root is not None and args and args[0] is not None:
            path = os.fsdecode(args[0]) if isinstance(args[0], str | bytes) else ""
            if os.path.abspath(path).startswith(self.root):
                self.paths.append(path)


_OPENS = _Opens()
sys.addaudithook(_OPENS.hook)  # hooks cannot be removed: it records only inside `recording`


@pytest.fixture
def opens() -> Iterator[_Opens]:
    _OPENS.paths = []
    yield _OPENS
    _OPENS.root = None


def _code_schema_tree(root: Path) -> None:
    """A project whose schema is the CREATE statements of its code (no database, no
    migrations), with one misspelt column."""
    write(root, "pyproject.toml", "[tool.dbheal]\n")
    statements = [s.strip() for s in SCHEMA.split(";") if s.strip()]
    body = "".join(f"    conn.execute({s!r})\n" for s in statements)
    write(root, "app/schema.py", HEADER + "\n\ndef create() -> None:\n" + body)
    for n in range(6):
        write(
            root,
            f"app/queries_{n}.py",
            HEADER
            + f"\n\ndef user_{n}(user_id: int) -> object:\n"
            + "    return conn.execute('SELECT id, nmae FROM users WHERE id = ?', (user_id,))\n",
        )
    write(root, "app/plain.py", "VALUE = 1\n")


def _age(root: Path, seconds: float) -> None:
    """Make every file of `root` look written `seconds` ago (older than the settle time)."""
    then = time.time() - seconds
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(Path(folder) / name, (then, then))


@pytest.mark.parametrize("schema_from", ["code", "database"])
def test_a_warm_check_of_an_unchanged_tree_opens_no_file(
    tmp_path: Path, opens: _Opens, schema_from: str
) -> None:
    _code_schema_tree(tmp_path)
    settings: dict[str, Any] = {}
    if schema_from == "database":
        settings["database"] = str(make_db(tmp_path / "app.db"))
    _age(tmp_path / "app", 10 * SETTLE_SECONDS)
    cold = project(tmp_path, **settings).check_paths([tmp_path], use_cache=True)
    assert ("app/queries_0.py", 7, IssueType.MISSING_COLUMN) in where(cold.issues)

    opens.root = str(tmp_path / "app") + os.sep
    warm = project(tmp_path, **settings).check_paths([tmp_path], use_cache=True)
    opens.root = None

    assert opens.paths == []
    assert warm.cached_files == 8
    assert essentials(warm) == essentials(cold)


def test_a_file_changed_since_is_read_again(tmp_path: Path) -> None:
    _code_schema_tree(tmp_path)
    _age(tmp_path / "app", 10 * SETTLE_SECONDS)
    project(tmp_path).check_paths([tmp_path], use_cache=True)
    fixed = (tmp_path / "app/queries_0.py").read_text().replace("nmae", "name")
    write(tmp_path, "app/queries_0.py", fixed)

    warm = project(tmp_path).check_paths([tmp_path], use_cache=True)

    assert "app/queries_0.py" not in {i.path for i in warm.issues}
    assert warm.cached_files == 7


def test_a_file_written_within_the_settle_time_is_never_known_by_its_stat(tmp_path: Path) -> None:
    # The same size and, put back, the same mtime: only the content tells the change.
    _code_schema_tree(tmp_path)
    path = tmp_path / "app/queries_0.py"
    before = os.stat(path)
    project(tmp_path).check_paths([tmp_path], use_cache=True)
    path.write_text(path.read_text().replace("nmae", "name"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    warm = project(tmp_path).check_paths([tmp_path], use_cache=True)

    assert "app/queries_0.py" not in {i.path for i in warm.issues}


@pytest.mark.parametrize(("jobs", "large"), [(1, False), (1, True), (2, True)])
def test_a_schema_from_code_check_parses_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, large: bool
) -> None:
    # With 2 jobs and enough files the passes run in forked worker processes, which inherit
    # the counting parse: each writes the names it parses to a file (O_APPEND lines). With 1
    # job a large tree stays in this process (its constants pass once read it in processes of
    # its own, and the check parsed every file again).
    root = tmp_path / "project"
    _code_schema_tree(root)
    files = {f"app/queries_{n}.py" for n in range(6)} | {"app/schema.py", "app/plain.py"}
    for n in range(PARALLEL_THRESHOLD if large else 0):
        write(root, f"app/more_{n}.py", HEADER + f"\n\ndef f_{n}() -> None:\n    conn.commit()\n")
        files.add(f"app/more_{n}.py")
    log = tmp_path / "parsed.txt"
    real_parse = ast.parse

    def counting_parse(source: Any, filename: Any = "<unknown>", *args: Any, **kw: Any) -> Any:
        name = Path(os.fsdecode(filename))
        if name.is_absolute() and name.is_relative_to(root):
            name = name.relative_to(root)
        with log.open("a", encoding="utf-8") as out:
            out.write(name.as_posix() + "\n")
        return real_parse(source, filename, *args, **kw)

    monkeypatch.setattr(ast, "parse", counting_parse)
    result = project(root).check_paths([root], use_cache=False, jobs=jobs)

    assert ("app/queries_0.py", 7, IssueType.MISSING_COLUMN) in where(result.issues)
    parsed = Counter(log.read_text(encoding="utf-8").splitlines())
    assert {name: parsed[name] for name in files} == dict.fromkeys(files, 1)
