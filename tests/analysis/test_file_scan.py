"""Finding a project's Python files (`analysis/file_scan.py`): what is skipped, what is noted."""

from __future__ import annotations

import os
from pathlib import Path

from dbheal_lsp.analysis.file_scan import scan_files, source_files
from dbheal_lsp.config import load_config


def _tree(root: Path) -> None:
    for rel in [
        "app/db.py",
        "app/views.py",
        ".venv/lib/x.py",
        "node_modules/y.py",
        "build/z.py",
        "tests/test_db.py",
        "app/readme.txt",
    ]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def test_environments_and_dependencies_are_never_walked(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = source_files(load_config(tmp_path), [tmp_path])
    assert sorted(p.relative_to(tmp_path.resolve()).as_posix() for p in found) == [
        "app/db.py",
        "app/views.py",
        "tests/test_db.py",
    ]


def test_exclude_wins_and_a_pattern_that_matches_nothing_is_noted(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.dbheal]\nexclude = ["tests", "nothing_here"]\n')
    found, notes = scan_files(load_config(tmp_path), [tmp_path])
    assert sorted(p.name for p in found) == ["db.py", "views.py"]
    assert any("nothing_here" in n.message for n in notes), notes


def test_a_link_out_of_the_project_is_noted_not_read(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside.py"
    (project / "app").mkdir(parents=True)
    outside.write_text("SECRET = 1\n")
    os.symlink(outside, project / "app" / "linked.py")
    (project / "app" / "db.py").write_text("x = 1\n")
    found, notes = scan_files(
        load_config(project), [project / "app" / "linked.py", project / "app" / "db.py"]
    )
    assert [p.name for p in found] == ["db.py"]
    assert [n.path for n in notes] == ["app/linked.py"] and "skipped" in notes[0].message
