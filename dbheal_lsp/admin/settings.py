"""The Settings page's model: the project's settings (`[tool.dbheal]` of pyproject.toml, or the
top level of dbheal.toml when the project has one) as a form, validated by `load_config` before
it is written with tomlkit, so the rest of the file — other tables, comments, key order,
formatting — stays exactly as it was.

The form edits the section itself: a field left empty means "not set in the file" (the setting
then comes from discovery or its default, as `Config.sources` says), and only the keys whose
value changed are rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomlkit
import tomlkit.items

from dbheal_lsp.config import DIALECTS, Config, ConfigError, load_config, read_pyproject
from dbheal_lsp.database_url import is_postgres_url, redacted
from dbheal_lsp.files import atomic_write
from dbheal_lsp.languages import SOURCE_EXTENSIONS
from dbheal_lsp.model import IssueType, Severity
from dbheal_lsp.rules import DEFAULT_SEVERITIES
from dbheal_lsp.settings_file import DBHEAL_TOML, settings_file_name

__all__ = [
    "KEYS",
    "LIST_KEYS",
    "SettingRow",
    "effective_rows",
    "form_fields",
    "parse_form",
    "save",
    "validate",
]

# The keys of [tool.dbheal] in the order the page shows them (and adds them to the file).
KEYS: tuple[str, ...] = (
    "database",
    "migrations",
    "dialect",
    "include",
    "exclude",
    "extra-calls",
    "identifier-helpers",
    "severity",
    "fail-on",
    "jobs",
    "cache",
)
LIST_KEYS = frozenset({"include", "exclude", "extra-calls", "identifier-helpers"})
CHOICES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "dialect": DIALECTS,
        "fail-on": tuple(s.value for s in Severity),
        "cache": ("true", "false"),
    }
)

# What an empty `include` checks: every file of the languages dbheal reads.
_EVERY_SOURCE = "all " + " ".join(f"*{ending}" for ending in SOURCE_EXTENSIONS)

# Each key's value when it is not set, as load_config reads it. Validating with every key given
# explicitly checks exactly the section that would be written, whatever the file holds now.
_UNSET: Mapping[str, Any] = MappingProxyType(
    {
        "database": "",
        "migrations": "",
        "dialect": "sqlite",
        "include": [],
        "exclude": [],
        "extra-calls": [],
        "identifier-helpers": [],
        "severity": {},
        "fail-on": "critical",
        "jobs": 0,
        "cache": True,
    }
)


@dataclass(frozen=True)
class SettingRow:
    """One effective setting: its key, its value as text, and where it came from."""

    key: str
    value: str
    source: str


def effective_rows(config: Config) -> list[SettingRow]:
    """Return the effective configuration, one row per setting, with `Config.sources`."""

    def path(value: Path | None) -> str:
        return config.relative(value) if value is not None else "none"

    def strings(values: tuple[str, ...]) -> str:
        return ", ".join(values) if values else "none"

    changed = {t: s for t, s in config.severity.items() if DEFAULT_SEVERITIES.get(t) is not s}
    severity = (
        ", ".join(f"{t.value} = {s.value}" for t, s in sorted(changed.items()))
        if changed
        else "the defaults (docs/rules.md)"
    )
    values = {
        "database": (
            redacted(config.database_url) if config.database_url else path(config.database)
        ),
        "migrations": path(config.migrations),
        "dialect": config.dialect,
        "include": strings(config.include) if config.include else _EVERY_SOURCE,
        "exclude": strings(config.exclude),
        "extra-calls": strings(config.extra_calls),
        "identifier-helpers": strings(config.identifier_helpers),
        "severity": severity,
        "fail-on": config.fail_on.value,
        "jobs": f"{config.jobs} (one per core)" if config.jobs == 0 else str(config.jobs),
        "cache": "true" if config.cache else "false",
    }
    return [SettingRow(key, values[key], config.sources.get(key, "default")) for key in KEYS]


# --- the form -----------------------------------------------------------------------------------


def form_fields(section: Mapping[str, Any]) -> dict[str, str]:
    """Return the form's field values for a [tool.dbheal] table as read from the file: a list
    one item per line, `severity.TYPE` per issue type, "" for what is not set."""
    fields: dict[str, str] = {}
    for key in KEYS:
        if key == "severity":
            continue
        value = section.get(key)
        if value is None:
            fields[key] = ""
        elif isinstance(value, bool):
            fields[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            fields[key] = "\n".join(str(v) for v in value)
        else:
            fields[key] = str(value)
    if is_postgres_url(fields["database"]):
        # The page never shows a password: the field holds the URL without it (`save` keeps
        # the file's own URL when the field comes back unchanged).
        fields["database"] = redacted(fields["database"])
    raw = section.get("severity")
    severity = raw if isinstance(raw, Mapping) else {}
    for name, value in severity.items():
        try:
            fields[f"severity.{IssueType.parse(str(name)).value}"] = str(value).lower()
        except ValueError:
            continue
    for issue_type in IssueType:
        fields.setdefault(f"severity.{issue_type.value}", "")
    return fields


def parse_form(form: Mapping[str, str]) -> dict[str, Any]:
    """Return the [tool.dbheal] values a submitted form asks for; None means "not set".

    Values are converted only as far as their type is clear (a number for jobs, a bool for
    cache); anything else is passed on as typed, for load_config to accept or name the error.
    """
    values: dict[str, Any] = {}
    for key in KEYS:
        if key == "severity":
            continue
        text = form.get(key, "").strip()
        if key in LIST_KEYS:
            items = [line.strip() for line in text.splitlines() if line.strip()]
            values[key] = items or None
        elif key == "jobs":
            values[key] = _number(text) if text else None
        elif key == "cache":
            values[key] = {"true": True, "false": False}.get(text.lower(), text) if text else None
        else:
            values[key] = text or None
    severity = {
        t.value: form[f"severity.{t.value}"].strip().lower()
        for t in IssueType
        if form.get(f"severity.{t.value}", "").strip()
    }
    values["severity"] = severity or None
    return values


def _number(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


# --- validating and writing ---------------------------------------------------------------------


def validate(root: Path, values: Mapping[str, Any]) -> Config:
    """Return the configuration `values` would give as [tool.dbheal], or raise ConfigError."""
    overrides = {key: _UNSET[key] if values.get(key) is None else values[key] for key in KEYS}
    return load_config(root, overrides)


def save(root: Path, values: Mapping[str, Any]) -> Config:
    """Validate `values`, write them where the project keeps its settings (the top level of
    root/dbheal.toml when it has one, else [tool.dbheal] of root/pyproject.toml; only the keys
    that changed, everything else in the file kept as it is), and return the configuration the
    file now gives. Raise ConfigError, writing nothing, when a value is invalid."""
    current = read_pyproject(root)
    kept = current.get("database")
    if is_postgres_url(kept) and values.get("database") == redacted(str(kept)):
        values = {**values, "database": kept}  # the form showed it without its password
    validate(root, values)
    name = settings_file_name(root)
    target = root / name
    before = _read(target) if target.exists() else ""
    after = _updated(before, current, values, top_level=name == DBHEAL_TOML)
    if after == before:
        return load_config(root)
    _write(target, after)
    try:
        return load_config(root)
    except ConfigError:
        # The check above makes this unreachable; should it not, the file goes back as it was.
        _write(target, before)
        raise


def _read(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def _updated(
    text: str, current: Mapping[str, Any], values: Mapping[str, Any], *, top_level: bool
) -> str:
    """Return the text of the settings file with its settings holding `values`: the top level
    of dbheal.toml (`top_level`), or [tool.dbheal] of pyproject.toml."""
    doc = tomlkit.parse(text)
    section = doc if top_level else _tool_dbheal(doc)
    names = {str(name).replace("_", "-"): str(name) for name in section}
    for key in KEYS:
        new = values.get(key)
        name = names.get(key)
        if new is None:
            if name is not None:
                del section[name]
            continue
        if name is not None and _same(key, current.get(key), new):
            continue  # unchanged: the file keeps its own spelling and formatting
        item = _item(key, new)
        if name is not None:
            old = section.item(name)
            if isinstance(old, tomlkit.items.Item):  # an inline comment stays with its key
                item.trivia.comment_ws = old.trivia.comment_ws
                item.trivia.comment = old.trivia.comment
            section[name] = item
        else:
            section[key] = item
    out = tomlkit.dumps(doc)
    if "\r\n" in text:  # new lines follow the file's line endings
        out = re.sub(r"(?<!\r)\n", "\r\n", out)
    return out


def _tool_dbheal(doc: tomlkit.TOMLDocument) -> tomlkit.items.Table:
    """Return pyproject.toml's [tool.dbheal] table, made when it is missing."""
    tool = doc.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        doc["tool"] = tool
    if not isinstance(tool, tomlkit.items.Table):
        raise ConfigError("pyproject.toml: [tool] is not a table")
    section = tool.get("dbheal")
    if section is None:
        section = tomlkit.table()
        tool["dbheal"] = section
    if not isinstance(section, tomlkit.items.Table):
        raise ConfigError("pyproject.toml: [tool.dbheal] is not a table")
    return section


def _same(key: str, old: Any, new: Any) -> bool:
    if key == "severity" and isinstance(old, Mapping) and isinstance(new, Mapping):
        try:
            normal = {IssueType.parse(str(k)).value: str(v).lower() for k, v in old.items()}
        except ValueError:
            return False
        return normal == dict(new)
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        return list(old) == list(new)
    return type(old) is type(new) and bool(old == new)


def _item(key: str, value: Any) -> tomlkit.items.Item:
    if key == "severity":
        table = tomlkit.inline_table()
        table.update(dict(value))
        return table
    if isinstance(value, (list, tuple)):
        array = tomlkit.array()
        array.extend(value)
        return array
    item: tomlkit.items.Item = tomlkit.item(value)
    return item


def _write(path: Path, text: str) -> None:
    """Replace the settings file with `text` (never half-written), keeping its permission bits;
    a new one is world-readable, as a committed file is."""
    mode = path.stat().st_mode if path.is_file() else 0o644
    atomic_write(path, text.encode("utf-8"), mode=mode)
