"""settings.py: the editor's settings, their defaults, and what invalid values do."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.config import load_config
from dbheal_lsp.lsp.settings import (
    DEFAULT_SETTINGS,
    ProjectSettings,
    Settings,
    merge_raw,
    parse_settings,
    section_of,
)
from dbheal_lsp.model import IssueType, Severity


def test_nothing_set_gives_the_defaults() -> None:
    parsed = parse_settings(None)
    assert parsed.settings == DEFAULT_SETTINGS == Settings()
    assert parsed.problems == ()
    assert parsed.settings.diagnostics.check_on == "save"
    assert parsed.settings.diagnostics.debounce_ms == 100
    assert parsed.settings.scan.periodic_minutes == 5
    assert parsed.settings.project.overrides() == {
        "database": None,
        "migrations": None,
        "dialect": None,
        "extra-calls": None,
        "identifier-helpers": None,
    }


def test_every_documented_setting_is_read() -> None:
    parsed = parse_settings(
        {
            "database": "db/app.sqlite",
            "migrations": "db/migrations",
            "dialect": "Postgres",
            "checkOn": "change",
            "debounceMs": 250,
            "periodicScanMinutes": 0,
            "severity": {"select-star": "medium", "MISSING_INDEX": "critical"},
            "extraCalls": ["run_sql"],
            "identifierHelpers": "quote_ident",
            "trace": {"server": "verbose"},  # the client's own setting
        }
    )
    assert parsed.problems == ()
    settings = parsed.settings
    assert settings.project.database == "db/app.sqlite"
    assert settings.project.dialect == "postgres"
    assert settings.project.extra_calls == ("run_sql",)
    assert settings.project.identifier_helpers == ("quote_ident",)
    assert dict(settings.project.severity) == {
        IssueType.MISSING_INDEX: Severity.CRITICAL,
        IssueType.SELECT_STAR: Severity.MEDIUM,
    }
    assert settings.diagnostics.check_on == "change"
    assert settings.diagnostics.debounce_ms == 250
    assert settings.scan.periodic_minutes == 0


def test_snake_and_kebab_case_keys_are_accepted() -> None:
    parsed = parse_settings({"check_on": "change", "debounce-ms": 5, "extra_calls": ["q"]})
    assert parsed.settings.diagnostics.check_on == "change"
    assert parsed.settings.diagnostics.debounce_ms == 5
    assert parsed.settings.project.extra_calls == ("q",)


def test_each_invalid_value_is_named_and_falls_back() -> None:
    parsed = parse_settings(
        {
            "checkOn": "typing",
            "debounceMs": -1,
            "periodicScanMinutes": "often",
            "dialect": "oracle",
            "database": 3,
            "extraCalls": [1, 2],
            "severity": {"SELECT_STAR": "hint", "NOPE": "low", "SQL_SYNTAX": "high"},
        }
    )
    settings = parsed.settings
    assert settings.diagnostics == DEFAULT_SETTINGS.diagnostics
    assert settings.scan == DEFAULT_SETTINGS.scan
    assert settings.project.dialect is None and settings.project.database is None
    assert settings.project.extra_calls is None
    assert dict(settings.project.severity) == {IssueType.SQL_SYNTAX: Severity.HIGH}
    text = "\n".join(parsed.problems)
    for name in (
        "dbheal.checkOn",
        "dbheal.debounceMs",
        "dbheal.periodicScanMinutes",
        "dbheal.dialect",
        "dbheal.database",
        "dbheal.extraCalls",
        "dbheal.severity.SELECT_STAR",
        "dbheal.severity.NOPE",
    ):
        assert name in text
    assert len(parsed.problems) == 8


def test_booleans_are_not_numbers() -> None:
    assert parse_settings({"debounceMs": True}).problems
    assert parse_settings({"debounceMs": 1.5}).problems
    assert parse_settings({"periodicScanMinutes": 0.5}).problems == ()


def test_section_of_what_clients_send() -> None:
    assert section_of({"dbheal": {"checkOn": "change"}}) == {"checkOn": "change"}
    assert section_of({"checkOn": "change"}) == {"checkOn": "change"}
    assert section_of(None) == {} and section_of([1]) == {}


def test_later_layers_win_and_severity_maps_merge() -> None:
    merged = merge_raw(
        {"checkOn": "save", "severity": {"SELECT_STAR": "medium"}},
        {"check_on": "change", "severity": {"MISSING_INDEX": "low"}},
    )
    assert merged == {
        "checkOn": "change",
        "severity": {"SELECT_STAR": "medium", "MISSING_INDEX": "low"},
    }


def test_editor_settings_override_tool_dbheal_type_by_type(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.dbheal]\n"
        'dialect = "mysql"\n'
        'severity = { SELECT_STAR = "medium", MISSING_INDEX = "critical" }\n'
    )
    editor = ProjectSettings(dialect="sqlite", severity=((IssueType.SELECT_STAR, Severity.HIGH),))
    config = load_config(
        tmp_path, editor.overrides({"SELECT_STAR": "medium", "missing-index": "critical"})
    )
    assert config.dialect == "sqlite"
    assert config.severity[IssueType.SELECT_STAR] is Severity.HIGH
    assert config.severity[IssueType.MISSING_INDEX] is Severity.CRITICAL
