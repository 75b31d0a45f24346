"""The DDL of a project's code: found in file order, and kept by text and constants."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.languages.language import Run
from dbheal_lsp.languages.python.analyzer import PythonAnalyzer
from dbheal_lsp.languages.python.code_ddl import ddl_in
from dbheal_lsp.model import Origin
from tests.analysis.test_project import HEADER, project, write


def _tree(root: Path) -> list[Path]:
    write(root, "pyproject.toml", "[tool.dbheal]\n")
    return [
        write(root, "a.py", HEADER + "conn.execute('CREATE TABLE a (id INTEGER)')\n"),
        write(root, "b.py", HEADER + "conn.execute('SELECT 1')\n"),
        write(root, "c.py", HEADER + "conn.executescript('CREATE TABLE c (id INTEGER);')\n"),
    ]


def _found(root: Path, files: list[Path], use_cache: bool) -> list[tuple[str, Origin]]:
    checker = project(root)
    checker.learn(files)
    run = Run(FileTexts(root, use_cache=use_cache), use_cache)
    analyzer = checker.analyzer_for("a.py")
    assert isinstance(analyzer, PythonAnalyzer)
    return ddl_in(checker.config, files, run, analyzer).ddl


def test_the_ddl_of_the_code_comes_in_file_order_with_where_it_is(tmp_path: Path) -> None:
    found = _found(tmp_path, _tree(tmp_path), use_cache=False)

    assert found == [
        ("CREATE TABLE a (id INTEGER)", Origin("a.py", 4)),
        ("CREATE TABLE c (id INTEGER);", Origin("c.py", 4)),
    ]


def test_the_cached_ddl_is_what_the_files_give(tmp_path: Path) -> None:
    files = _tree(tmp_path)
    first = _found(tmp_path, files, use_cache=True)

    assert _found(tmp_path, files, use_cache=True) == first
    write(tmp_path, "b.py", HEADER + "conn.execute('CREATE TABLE b (id INTEGER)')\n")
    assert [o.path for _, o in _found(tmp_path, files, use_cache=True)] == ["a.py", "b.py", "c.py"]
