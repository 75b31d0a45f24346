"""Settings from `[tool.dbheal]` in pyproject.toml (or dbheal.toml), command-line flags and
editor options.

Precedence, lowest first: defaults, auto-discovery, the settings file (pyproject.toml's
[tool.dbheal], or dbheal.toml: settings_file.py), then explicit overrides (CLI flags or LSP
settings). `Config.sources` records where each value came from.

The repository may be a stranger's: paths it gives (pyproject.toml's `database` and
`migrations`, and what discovery finds) must resolve inside the project root, and
pyproject.toml is read only as a regular file of a sane size. Only the user's own settings
(the overrides) may point outside the project.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbheal_lsp.database_url import database_url_setting, redacted
from dbheal_lsp.discovery import discover_database, discover_migrations
from dbheal_lsp.files import is_inside, relative_path
from dbheal_lsp.globs import GlobSet
from dbheal_lsp.model import FileNote, IssueType, Severity
from dbheal_lsp.rules import DEFAULT_SEVERITIES
from dbheal_lsp.settings_file import (
    MAX_SETTINGS_BYTES,
    SettingsFileError,
    has_settings,
    read_settings,
)

DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".venv",
    "venv",
    ".git",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
    "dist",
    ".dbheal",
    "site-packages",
    ".eggs",
)
KNOWN_KEYS = frozenset(
    {
        "database",
        "migrations",
        "dialect",
        "include",
        "exclude",
        "severity",
        "extra-calls",
        "identifier-helpers",
        "safe-helpers",
        "cache",
        "jobs",
        "fail-on",
        "databases",
        "calls",
    }
)
DIALECTS = ("sqlite", "postgres", "mysql")
MAX_PYPROJECT_BYTES = MAX_SETTINGS_BYTES
#: Where a path setting may come from and still point outside the project: the user's own
#: settings. What the repository says (pyproject.toml, discovery) must stay inside it.
USER_SOURCES = frozenset({"override", "default"})


class ConfigError(Exception):
    """A setting is invalid; the message is one line that names the setting and the problem."""


@dataclass(frozen=True)
class DatabaseMap:
    """`[tool.dbheal.databases]`: statements of these files or receivers go to `path`."""

    path: str  # as written: relative to the root, or ":memory:"
    files: tuple[str, ...] = ()  # globs of project-relative paths ("app/cache.py", "store/*")
    receivers: tuple[str, ...] = ()  # "self.cache_db", "cache", "Store.conn" (self.conn in Store)


@dataclass(frozen=True)
class CallShape:
    """`[tool.dbheal.calls]`: where a helper carries SQL (0-based positional arguments).

    Exactly one of: `sql` (that argument is SQL; `params` its parameters, default the next
    one), `statements` (a list of SQL strings or of [sql, params] pairs), `table` (a table
    name, with `columns`: the arguments that are dicts keyed by column names).
    """

    name: str
    sql: int | None = None
    params: int | None = None
    statements: int | None = None
    table: int | None = None
    columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class Config:
    """The effective settings for one project root."""

    root: Path
    database: Path | None = None
    # A PostgreSQL server's URL (`database = "postgresql://..."` or $DATABASE_URL); `database`
    # is then None. Never shown as it is: `database_url.redacted` removes the password.
    database_url: str | None = None
    migrations: Path | None = None
    dialect: str = "sqlite"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    severity: Mapping[IssueType, Severity] = field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    extra_calls: tuple[str, ...] = ()
    identifier_helpers: tuple[str, ...] = ()
    safe_helpers: tuple[str, ...] = ()  # functions whose result cannot carry SQL (numbers)
    cache: bool = True
    jobs: int = 0  # 0: one per core
    fail_on: Severity = Severity.CRITICAL
    databases: tuple[DatabaseMap, ...] = ()  # [tool.dbheal.databases]
    calls: tuple[CallShape, ...] = ()  # [tool.dbheal.calls]
    sources: Mapping[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Return a key that changes when any setting that affects results changes."""
        data = {
            "database": str(self.database),
            "database_url": redacted(self.database_url) if self.database_url else None,
            "migrations": str(self.migrations),
            "dialect": self.dialect,
            "severity": {k.value: v.value for k, v in sorted(self.severity.items())},
            "extra_calls": self.extra_calls,
            "identifier_helpers": self.identifier_helpers,
            "safe_helpers": self.safe_helpers,
            "databases": [[d.path, d.files, d.receivers] for d in self.databases],
            "calls": [
                [c.name, c.sql, c.params, c.statements, c.table, c.columns] for c in self.calls
            ],
        }
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def relative(self, path: Path) -> str:
        """Return `path` relative to the root with forward slashes (or absolute if outside)."""
        return relative_path(path, self.root)


def find_root(start: Path) -> Path:
    """Return the project root for `start`: the nearest folder with dbheal settings (a
    dbheal.toml, or a pyproject.toml with a [tool.dbheal] section), else the nearest with a
    pyproject.toml or .git, else `start`."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    fallback: Path | None = None
    for candidate in (folder, *folder.parents):
        if has_settings(candidate):
            return candidate
        if (candidate / "pyproject.toml").is_file():
            fallback = fallback or candidate
        if (candidate / ".git").exists():
            return fallback or candidate
    return fallback or folder


def read_pyproject(root: Path) -> dict[str, Any]:
    """Return the project's settings: the [tool.dbheal] table of root/pyproject.toml, or the
    top level of root/dbheal.toml ({} if none), or raise ConfigError (settings_file.py)."""
    return _read_settings(root)[0]


def _read_settings(root: Path) -> tuple[dict[str, Any], str]:
    try:
        return read_settings(root)
    except SettingsFileError as exc:
        raise ConfigError(str(exc)) from None


def load_config(root: Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Return the effective configuration of `root`, or raise ConfigError with one line.

    `overrides` holds explicit settings (CLI flags, editor settings) with the same keys as
    [tool.dbheal] (kebab-case or snake_case); None values are ignored.
    """
    root = root.resolve()
    file_settings, file_name = _read_settings(root)
    unknown = sorted(set(file_settings) - KNOWN_KEYS)
    if unknown:
        table = "[tool.dbheal] " if file_name == "pyproject.toml" else ""
        raise ConfigError(
            f"{root / file_name}: unknown setting {table}{unknown[0]} "
            f"(known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    explicit = {str(k).replace("_", "-"): v for k, v in (overrides or {}).items() if v is not None}
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in file_settings.items():
        merged[key] = value
        sources[key] = file_name
    for key, value in explicit.items():
        if key not in KNOWN_KEYS:
            raise ConfigError(f"unknown setting {key!r} (known: {', '.join(sorted(KNOWN_KEYS))})")
        merged[key] = value
        sources[key] = "override"
    return _build(root, merged, sources)


def _build(root: Path, merged: dict[str, Any], sources: dict[str, str]) -> Config:
    database_url, from_environment = database_url_setting(merged.get("database"))
    if from_environment:
        sources["database"] = "environment"
    database = None if database_url else _path_setting(root, merged, "database")
    if database is None and database_url is None:
        database = discover_database(root)
        sources["database"] = "discovered" if database else "default"
    _inside_unless_user(root, database, "database", sources)
    migrations = _path_setting(root, merged, "migrations")
    if migrations is None:
        migrations = discover_migrations(root)
        sources["migrations"] = "discovered" if migrations else "default"
    elif not migrations.is_dir():
        raise ConfigError(f"migrations folder not found: {migrations}")
    _inside_unless_user(root, migrations, "migrations", sources)
    # A PostgreSQL server's code is written in PostgreSQL's dialect unless the user says else.
    dialect = str(merged.get("dialect", "postgres" if database_url else "sqlite")).lower()
    if dialect not in DIALECTS:
        raise ConfigError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    severity = dict(DEFAULT_SEVERITIES)
    raw_severity = merged.get("severity", {})
    if not isinstance(raw_severity, dict):
        raise ConfigError('severity must be a table of TYPE = "critical|high|medium|low"')
    try:
        for key, value in raw_severity.items():
            severity[IssueType.parse(str(key))] = Severity.parse(str(value))
    except ValueError as exc:
        raise ConfigError(f"severity: {exc}") from None
    try:
        fail_on = Severity.parse(str(merged.get("fail-on", "critical")))
    except ValueError as exc:
        raise ConfigError(f"fail-on: {exc}") from None
    jobs = merged.get("jobs", 0)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 0:
        raise ConfigError(f"jobs must be a whole number >= 0, not {jobs!r}")
    cache = merged.get("cache", True)
    if not isinstance(cache, bool):
        raise ConfigError(f"cache must be true or false, not {cache!r}")
    for key in sorted(set(KNOWN_KEYS) - set(sources)):
        sources[key] = "default"
    return Config(
        root=root,
        database=database,
        database_url=database_url,
        migrations=migrations,
        dialect=dialect,
        include=_patterns(merged, "include"),
        exclude=_patterns(merged, "exclude"),
        severity=severity,
        extra_calls=_strings(merged, "extra-calls"),
        identifier_helpers=_strings(merged, "identifier-helpers"),
        safe_helpers=_strings(merged, "safe-helpers"),
        cache=cache,
        jobs=jobs,
        fail_on=fail_on,
        databases=_databases(root, merged.get("databases", {})),
        calls=_calls(merged.get("calls", {})),
        sources=dict(sources),
    )


def _path_setting(root: Path, merged: Mapping[str, Any], key: str) -> Path | None:
    value = merged.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, Path)):
        raise ConfigError(f"{key} must be a path, not {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def _inside_unless_user(
    root: Path, path: Path | None, key: str, sources: Mapping[str, str]
) -> None:
    """Raise ConfigError if `path` came from the repository (pyproject.toml, discovery) and
    its real path is outside `root`: a stranger's repository must not make dbheal open
    `/dev/stdin` or the user's other files. The user's own settings may point anywhere."""
    source = sources.get(key, "default")
    if path is None or source in USER_SOURCES or is_inside(path, root):
        return
    flag = "--database" if key == "database" else "--migrations"
    origin = "found by discovery" if source == "discovered" else f"from {source}"
    raise ConfigError(
        f"{key} {path} ({origin}) is outside the project; "
        f"set it with {flag} or the editor setting to use it"
    )


def _strings(merged: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = merged.get(key, ())
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings, not {value!r}")
    return tuple(value)


_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_SHAPE_KEYS = ("sql", "statements", "table")


def _databases(root: Path, value: Any) -> tuple[DatabaseMap, ...]:
    """Read `databases`: a table of "path" = [file globs and receivers]; paths stay inside."""
    if not isinstance(value, dict):
        raise ConfigError(
            f'databases must be a table of "file.db" = ["app/cache.py", "self.cache_db"], '
            f"not {value!r}"
        )
    out: list[DatabaseMap] = []
    for path, targets in value.items():
        where = f"databases.{json.dumps(str(path))}"
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ConfigError(
                f"{where} must be a list of file globs and receivers, not {targets!r}"
            )
        if not str(path).strip():
            raise ConfigError("databases: a database path must not be empty")
        if path != ":memory:" and not is_inside(root / Path(str(path)).expanduser(), root):
            raise ConfigError(f"{where}: {path} is outside the project")
        # Imported here: the languages' modules read these settings.
        from dbheal_lsp.languages import SOURCE_EXTENSIONS

        files, receivers = [], []
        for target in targets:
            # A path or glob has a slash, a wildcard or a source file's ending (.py, .ts, ...);
            # a receiver is a dotted name.
            if (
                "/" in target
                or any(c in target for c in "*?[")
                or target.endswith(SOURCE_EXTENSIONS)
            ):
                files.append(target)
            elif _DOTTED_NAME.fullmatch(target):
                receivers.append(target)
            else:
                raise ConfigError(
                    f"{where}: {target!r} is neither a file glob (app/cache.py) "
                    "nor a receiver (self.cache_db)"
                )
        out.append(DatabaseMap(str(path), tuple(files), tuple(receivers)))
    return tuple(out)


def _calls(value: Any) -> tuple[CallShape, ...]:
    """Read `calls`: a table of name = { sql = N } | { statements = N } | { table = N,
    columns = [N, ...] } (0-based positional arguments; `params = N` with `sql`)."""
    if not isinstance(value, dict):
        raise ConfigError(f"calls must be a table of name = {{ sql = 0 }}, not {value!r}")
    out: list[CallShape] = []
    for name, shape in value.items():
        where = f"calls.{name}"
        if not _DOTTED_NAME.fullmatch(str(name)) or "." in str(name):
            raise ConfigError(f"{where}: {name!r} is not a function or method name")
        if not isinstance(shape, dict):
            raise ConfigError(
                f"{where} must be a table such as {{ sql = 1 }}, {{ statements = 0 }} or "
                f"{{ table = 0, columns = [1, 2] }}, not {shape!r}"
            )
        unknown = sorted(set(shape) - {*_SHAPE_KEYS, "params", "columns"})
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r} (known: sql, params, statements, table, "
                "columns)"
            )
        given = [k for k in _SHAPE_KEYS if k in shape]
        if len(given) != 1:
            raise ConfigError(f"{where} must have exactly one of sql, statements or table")
        numbers: dict[str, int] = {}
        for key in (*given, "params"):
            if key in shape:
                number = shape[key]
                if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                    raise ConfigError(
                        f"{where}.{key} must be an argument position >= 0, not {number!r}"
                    )
                numbers[key] = number
        columns = shape.get("columns", [])
        if not isinstance(columns, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in columns
        ):
            raise ConfigError(f"{where}.columns must be a list of argument positions >= 0")
        if ("table" in shape) != bool(columns) or ("params" in shape and "sql" not in shape):
            raise ConfigError(
                f"{where}: columns goes with table (and params with sql): "
                "{ table = 0, columns = [1, 2] }"
            )
        out.append(
            CallShape(
                str(name),
                sql=numbers.get("sql"),
                params=numbers.get("params"),
                statements=numbers.get("statements"),
                table=numbers.get("table"),
                columns=tuple(columns),
            )
        )
    return tuple(out)


def _patterns(merged: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """Return the globs of `include` or `exclude`, checked now: a bad one is the user's one-line
    error before any work, not a silent "matches nothing" later."""
    patterns = _strings(merged, key)
    try:
        GlobSet.of(patterns)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    return patterns


def excluded(parts: Sequence[str], patterns: Sequence[str]) -> bool:
    """Return whether the project file at `parts` (relative to the root) is left out: it is in
    a folder always skipped (`.venv`, `.git`, ...), or an `exclude` glob (dbheal_lsp/globs.py)
    matches it or a folder above it."""
    if any(part in DEFAULT_EXCLUDE for part in parts[:-1]):
        return True
    return GlobSet.of(patterns).matches("/".join(parts))


def included(parts: Sequence[str], include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Return whether `dbheal check` of the root checks the project file at `parts`: it is not
    excluded, and an `include` glob matches it when there are any (exclude wins)."""
    if excluded(parts, exclude):
        return False
    return not include or GlobSet.of(include).matches("/".join(parts))


#: Where a scan's "pattern matches no file" notes point: the settings are [tool.dbheal]'s.
PATTERN_NOTE_PATH = "pyproject.toml"
_UNMATCHED = " matches no file"


def unmatched_pattern_note(key: str, pattern: str) -> FileNote:
    """Return the note of a scan of the whole project: `key`'s `pattern` matched no file."""
    return FileNote(PATTERN_NOTE_PATH, f"{key} pattern {pattern!r}{_UNMATCHED}")


def split_pattern_warnings(
    notes: Iterable[FileNote],
) -> tuple[tuple[str, ...], tuple[FileNote, ...]]:
    """Return the messages of the "pattern matches no file" notes among `notes` (warnings about
    the settings, not about a file) and the other notes."""
    warnings: list[str] = []
    others: list[FileNote] = []
    for note in notes:
        if (
            note.path == PATTERN_NOTE_PATH
            and note.message.endswith(_UNMATCHED)
            and note.message.startswith(("include pattern ", "exclude pattern "))
        ):
            warnings.append(note.message)
        else:
            others.append(note)
    return tuple(warnings), tuple(others)
