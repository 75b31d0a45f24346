"""Writing [tool.dbheal] from the Settings form: validated first, the rest of the file kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.admin import settings
from dbheal_lsp.config import ConfigError, load_config

PYPROJECT = """\
[project]
name = "demo"   # the name
dependencies = ["a>=1",
    "b"]

[tool.dbheal]
# where the data lives
database = "app.db"  # built by make_db.py
fail_on = "critical"
severity = { select_star = "low" }

[tool.other]
key = 1
"""


def _project(tmp_path: Path, text: str = PYPROJECT) -> Path:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    (tmp_path / "app.db").write_bytes(b"")
    (tmp_path / "migrations").mkdir()
    return tmp_path


def _form(**changes: str) -> dict[str, str]:
    fields = {"database": "app.db", "fail-on": "critical", "severity.SELECT_STAR": "low"}
    fields.update(changes)
    return fields


def test_only_changed_keys_are_rewritten(tmp_path: Path) -> None:
    root = _project(tmp_path)
    values = settings.parse_form(_form(**{"fail-on": "high", "exclude": "a/*\n\n b.py "}))
    config = settings.save(root, values)
    text = (root / "pyproject.toml").read_text()
    assert text == PYPROJECT.replace('fail_on = "critical"', 'fail_on = "high"').replace(
        'severity = { select_star = "low" }',
        'severity = { select_star = "low" }\nexclude = ["a/*", "b.py"]',
    )
    assert config.fail_on.value == "high" and config.exclude == ("a/*", "b.py")
    assert config.sources["exclude"] == "pyproject.toml"


def test_an_emptied_field_removes_its_key(tmp_path: Path) -> None:
    root = _project(tmp_path)
    settings.save(root, settings.parse_form(_form(**{"fail-on": "", "severity.SELECT_STAR": ""})))
    text = (root / "pyproject.toml").read_text()
    assert "fail_on" not in text and "severity" not in text
    assert "# where the data lives" in text and "[tool.other]" in text
    config = load_config(root)
    assert config.sources["fail-on"] == "default"


def test_an_inline_comment_stays_with_its_changed_value(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "other.db").write_bytes(b"")
    settings.save(root, settings.parse_form(_form(database="other.db")))
    assert 'database = "other.db"  # built by make_db.py' in (root / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"migrations": "nowhere"}, "migrations folder not found"),
        ({"jobs": "-1"}, "jobs must be a whole number >= 0"),
        ({"jobs": "many"}, "jobs must be a whole number >= 0, not 'many'"),
        ({"dialect": "oracle"}, "dialect must be one of"),
        ({"cache": "maybe"}, "cache must be true or false"),
        ({"severity.SELECT_STAR": "hint"}, "unknown severity 'hint'"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_written(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    root = _project(tmp_path)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        settings.save(root, settings.parse_form(_form(**changes)))
    assert (root / "pyproject.toml").read_text() == PYPROJECT


def test_the_section_is_created_when_missing(tmp_path: Path) -> None:
    root = _project(tmp_path, '[project]\r\nname = "x"\r\n')
    settings.save(root, settings.parse_form({"fail-on": "medium"}))
    text = (root / "pyproject.toml").read_bytes().decode()
    assert text.startswith('[project]\r\nname = "x"\r\n')
    assert '[tool.dbheal]\r\nfail-on = "medium"\r\n' in text
    assert "\n" not in text.replace("\r\n", "")
    assert load_config(root).fail_on.value == "medium"


def test_form_fields_read_the_file_as_written(tmp_path: Path) -> None:
    root = _project(tmp_path)
    from dbheal_lsp.config import read_pyproject

    fields = settings.form_fields(read_pyproject(root))
    assert fields["database"] == "app.db"
    assert fields["fail-on"] == "critical"
    assert fields["severity.SELECT_STAR"] == "low"
    assert fields["severity.MISSING_TABLE"] == "" and fields["exclude"] == ""


def test_a_project_with_dbheal_toml_is_saved_there_and_pyproject_is_left_alone(
    tmp_path: Path,
) -> None:
    # A Node app keeps its settings in dbheal.toml and has a pyproject.toml of something else:
    # writing [tool.dbheal] there would leave settings in both files, which loading refuses.
    (tmp_path / "pyproject.toml").write_text("[tool.other]\nkey = 1\n", encoding="utf-8")
    (tmp_path / "dbheal.toml").write_text(
        '# the Node app\'s settings\ndatabase = "app.db"\nfail-on = "critical"\n', encoding="utf-8"
    )
    (tmp_path / "app.db").write_bytes(b"")
    config = settings.save(tmp_path, settings.parse_form(_form(**{"fail-on": "high"})))
    assert (tmp_path / "dbheal.toml").read_text() == (
        '# the Node app\'s settings\ndatabase = "app.db"\nfail-on = "high"\n'
        'severity = {SELECT_STAR = "low"}\n'
    )
    assert (tmp_path / "pyproject.toml").read_text() == "[tool.other]\nkey = 1\n"
    assert config.fail_on.value == "high" and config.sources["fail-on"] == "dbheal.toml"
