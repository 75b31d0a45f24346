"""The Settings page: the effective configuration with where each value comes from, and the
form that edits the project's settings file ([tool.dbheal] of pyproject.toml, or dbheal.toml)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from dbheal_lsp.model import IssueType, Severity
from dbheal_lsp.rules import DEFAULT_SEVERITIES
from dbheal_lsp.settings_file import DBHEAL_TOML, settings_file_name

from . import settings
from .html import Markup, el
from .layout import Frame, card, csrf_field, layout, table

__all__ = ["settings_page"]

_HELP: Mapping[str, str] = MappingProxyType(
    {
        "database": "the live SQLite database, opened read-only (relative to the project root)",
        "migrations": "the folder of migration *.sql files",
        "dialect": "the SQL dialect of the code",
        "include": "only check files matching one of these globs (one per line)",
        "exclude": "skip files or folders matching one of these globs (one per line)",
        "extra-calls": "more function names whose first argument is SQL (one per line)",
        "identifier-helpers": "functions that quote or allow-list an identifier (one per line)",
        "fail-on": "dbheal check exits 1 at or above this severity",
        "jobs": "worker processes for checking a tree (0: one per core)",
        "cache": "keep results in your cache directory (~/.cache/dbheal)",
    }
)


def settings_page(
    frame: Frame, rows: Sequence[settings.SettingRow], fields: Mapping[str, str]
) -> Markup:
    """The page of the effective `rows`, and the form holding `fields` (the file's values, or
    what was typed when they were not saved)."""
    body = el(
        "div",
        {"class": "grid grid-settings"},
        card(
            "Effective configuration",
            _effective_table(rows),
            el(
                "p",
                {"class": "muted small"},
                f"Sources, lowest precedence first: default, discovered, {_file(frame)}, override.",
            ),
        ),
        card(f"Edit {_section(frame)}", _form(frame, rows, fields)),
    )
    return layout(
        frame,
        title="Settings",
        path="/settings",
        body=body,
        subtitle=f"{_section(frame)} of {frame.root}/{_file(frame)}",
    )


def _file(frame: Frame) -> str:
    """The settings file the form writes."""
    return settings_file_name(Path(frame.root))


def _section(frame: Frame) -> str:
    return "the settings" if _file(frame) == DBHEAL_TOML else "[tool.dbheal]"


def _effective_table(rows: Sequence[settings.SettingRow]) -> Markup:
    """Each setting's value and the source it comes from."""
    body = el(
        "tbody",
        None,
        [
            el(
                "tr",
                None,
                el("td", None, el("code", None, row.key)),
                el("td", {"class": "value"}, row.value),
                el(
                    "td",
                    None,
                    el(
                        "span",
                        {"class": f"source source-{row.source.replace('.', '-')}"},
                        row.source,
                    ),
                ),
            )
            for row in rows
        ],
    )
    return table(("Setting", "Value", "Source"), body, cls="settings")


def _form(frame: Frame, rows: Sequence[settings.SettingRow], fields: Mapping[str, str]) -> Markup:
    """The form of [tool.dbheal]: a field for each key, a choice for each issue type's
    severity. An empty field shows the effective value as its placeholder."""
    placeholders = {row.key: row.value for row in rows}
    inputs = [
        _setting_field(key, fields.get(key, ""), placeholders.get(key, ""))
        for key in settings.KEYS
        if key != "severity"
    ]
    return el(
        "form",
        {"method": "post", "action": "/actions/settings", "class": "settings-form"},
        csrf_field(frame),
        inputs,
        el(
            "fieldset",
            None,
            el("legend", None, el("code", None, "severity"), " per issue type"),
            el("div", {"class": "sev-grid"}, _severity_fields(fields)),
        ),
        el(
            "div",
            {"class": "form-actions"},
            el("button", {"type": "submit", "class": "primary"}, f"Save to {_file(frame)}"),
            el(
                "span",
                {"class": "help"},
                "Checked first; only changed keys are rewritten, the rest of the file is kept as it is.",
            ),
        ),
    )


def _setting_field(key: str, value: str, placeholder: str) -> Markup:
    """The labelled control of one key: a choice, a list (one per line) or a text."""
    label = el("span", {"class": "field-name"}, el("code", None, key))
    help_text = el("span", {"class": "help"}, _HELP.get(key, ""))
    if key in settings.CHOICES:
        control = el(
            "select",
            {"name": key, "id": f"set-{key}"},
            el("option", {"value": ""}, f"not set ({placeholder})"),
            [el("option", {"value": c, "selected": c == value}, c) for c in settings.CHOICES[key]],
        )
    elif key in settings.LIST_KEYS:
        control = el(
            "textarea",
            {
                "name": key,
                "id": f"set-{key}",
                "rows": 2,
                "placeholder": f"not set ({placeholder})",
            },
            value,
        )
    else:
        control = el(
            "input",
            {
                "type": "text",
                "name": key,
                "id": f"set-{key}",
                "value": value,
                "placeholder": f"not set ({placeholder})",
                "inputmode": "numeric" if key == "jobs" else None,
            },
        )
    return el("label", {"class": "setting", "for": f"set-{key}"}, label, control, help_text)


def _severity_fields(fields: Mapping[str, str]) -> list[Markup]:
    """A severity choice for each issue type; empty is the type's default."""
    choices = []
    for issue_type in IssueType:
        name = f"severity.{issue_type.value}"
        value = fields.get(name, "")
        choices.append(
            el(
                "label",
                {"class": "sev-setting"},
                el("code", None, issue_type.value),
                el(
                    "select",
                    {"name": name},
                    el(
                        "option", {"value": ""}, f"default ({DEFAULT_SEVERITIES[issue_type].value})"
                    ),
                    [
                        el("option", {"value": s.value, "selected": s.value == value}, s.value)
                        for s in Severity
                    ],
                ),
            )
        )
    return choices
