"""Where settings are read from: pyproject.toml's [tool.dbheal], or dbheal.toml (a Node project
has no pyproject.toml), never both; and `dbheal check` run in such a project."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.config import ConfigError, find_root, load_config
from dbheal_lsp.settings_file import (
    SettingsFileError,
    has_settings,
    read_settings,
    settings_file_name,
)
from tests.conftest import run_dbheal


def _node_app(root: Path) -> Path:
    """A Node app with its settings in dbheal.toml, a package.json and no pyproject.toml."""
    (root / "src").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "app", "private": true}\n', encoding="utf-8")
    (root / "dbheal.toml").write_text(
        '# dbheal\'s settings, the keys of [tool.dbheal]\ndatabase = "data/app.db"\n'
        'extra_calls = ["runSql"]\nexclude = ["scripts"]\n',
        encoding="utf-8",
    )
    (root / "data").mkdir()
    with sqlite3.connect(root / "data" / "app.db") as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    (root / "src" / "users.js").write_text(
        "export const names = (db) => db.runSql('SELECT nmae FROM users');\n", encoding="utf-8"
    )
    (root / "scripts").mkdir()
    (root / "scripts" / "seed.js").write_text(
        "db.all('SELECT * FROM nowhere');\n", encoding="utf-8"
    )
    return root


def test_dbheal_toml_is_read_with_the_keys_of_tool_dbheal(tmp_path: Path) -> None:
    root = _node_app(tmp_path / "app")
    settings, name = read_settings(root)
    assert name == "dbheal.toml"
    assert settings == {
        "database": "data/app.db",
        "extra-calls": ["runSql"],
        "exclude": ["scripts"],
    }
    config = load_config(root)
    assert config.database == root / "data" / "app.db"
    assert "runSql" in config.extra_calls
    assert config.sources["database"] == config.sources["extra-calls"] == "dbheal.toml"


def test_dbheal_check_in_a_node_project_with_dbheal_toml(tmp_path: Path) -> None:
    root = _node_app(tmp_path / "app")
    proc = run_dbheal(root / "src", "check", "--format", "json", "--no-cache")
    assert proc.returncode == 1, proc.stderr
    found = [(i["path"], i["type"]) for i in json.loads(proc.stdout)]
    # The root is the folder of dbheal.toml; the call name it adds is read; scripts/ is excluded.
    assert found == [("src/users.js", "MISSING_COLUMN")]


def test_find_root_stops_at_dbheal_toml(tmp_path: Path) -> None:
    root = _node_app(tmp_path / "app")
    (tmp_path / "pyproject.toml").write_text("[tool.dbheal]\n", encoding="utf-8")
    assert find_root(root / "src" / "users.js") == root
    assert has_settings(root) and has_settings(tmp_path)
    assert not has_settings(root / "src")


def test_settings_in_both_files_are_an_error(tmp_path: Path) -> None:
    root = _node_app(tmp_path / "app")
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "x.db"\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=re.escape("both pyproject.toml [tool.dbheal] and dbheal.toml")
    ):
        load_config(root)
    # A pyproject.toml without a [tool.dbheal] section is no conflict.
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_config(root).sources["database"] == "dbheal.toml"


def test_a_bad_dbheal_toml_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "dbheal.toml").write_text("database = \n", encoding="utf-8")
    with pytest.raises(SettingsFileError, match=re.escape("dbheal.toml is not valid TOML")):
        read_settings(tmp_path)
    (tmp_path / "dbheal.toml").write_text('databse = "a.db"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(
        f"{tmp_path.resolve() / 'dbheal.toml'}: unknown setting databse"
    )


def test_settings_are_written_to_dbheal_toml_only_when_the_project_has_one(tmp_path: Path) -> None:
    assert settings_file_name(tmp_path) == "pyproject.toml"
    (tmp_path / "pyproject.toml").write_text("[tool.other]\n", encoding="utf-8")
    assert settings_file_name(tmp_path) == "pyproject.toml"
    (tmp_path / "dbheal.toml").write_text('database = "app.db"\n', encoding="utf-8")
    assert settings_file_name(tmp_path) == "dbheal.toml"
