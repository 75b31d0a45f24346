"""The language server's settings: what an editor may set, with defaults, read leniently.

Editors send settings as JSON: in `initializationOptions`, and in the "dbheal" section that the
server pulls with `workspace/configuration` (per workspace folder) whenever the client says
`workspace/didChangeConfiguration`. They override `[tool.dbheal]` setting by setting (the
severity map type by type). Keys are camelCase as documented (`checkOn`); snake_case and
kebab-case are accepted too.

An invalid value never stops the server: that setting falls back to its default and the
problem is returned as one line naming it (the server shows them in one warning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from dbheal_lsp.config import DIALECTS
from dbheal_lsp.model import IssueType, Severity

__all__ = [
    "CHECK_ON",
    "DEFAULT_SETTINGS",
    "DiagnosticsSettings",
    "ParsedSettings",
    "ProjectSettings",
    "ScanSettings",
    "Settings",
    "merge_raw",
    "parse_settings",
    "section_of",
    "without_project",
]

SECTION = "dbheal"
CHECK_ON = ("save", "change")
MAX_DEBOUNCE_MS = 60_000
MAX_PERIODIC_MINUTES = 24 * 60


@dataclass(frozen=True)
class ProjectSettings:
    """The editor's overrides of `[tool.dbheal]`; None (or empty) means "not set here"."""

    database: str | None = None
    migrations: str | None = None
    dialect: str | None = None
    severity: tuple[tuple[IssueType, Severity], ...] = ()
    extra_calls: tuple[str, ...] | None = None
    identifier_helpers: tuple[str, ...] | None = None

    def overrides(self, file_severity: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return these settings as `load_config` overrides.

        `file_severity` is `[tool.dbheal] severity` of the project: the editor's map is laid
        over it type by type rather than replacing it.
        """
        out: dict[str, Any] = {
            "database": self.database,
            "migrations": self.migrations,
            "dialect": self.dialect,
            "extra-calls": list(self.extra_calls) if self.extra_calls is not None else None,
            "identifier-helpers": (
                list(self.identifier_helpers) if self.identifier_helpers is not None else None
            ),
        }
        if self.severity:
            merged: dict[str, str] = {}
            if isinstance(file_severity, Mapping):
                merged.update({str(k): str(v) for k, v in file_severity.items()})
            for issue_type, severity in self.severity:
                for key in [k for k in merged if _type_key(k) == issue_type.value]:
                    del merged[key]
                merged[issue_type.value] = severity.value
            out["severity"] = merged
        return out


@dataclass(frozen=True)
class DiagnosticsSettings:
    """When open documents are checked."""

    check_on: str = "save"  # "save": on open and save; "change": also while typing
    debounce_ms: int = 100  # with "change": wait this long after the last keystroke


@dataclass(frozen=True)
class ScanSettings:
    """The periodic work: workspace scan, database health check, backup cleanup."""

    periodic_minutes: float = 5.0  # 0 turns it off


@dataclass(frozen=True)
class Settings:
    """Everything an editor can set for one workspace folder."""

    project: ProjectSettings = field(default_factory=ProjectSettings)
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)
    scan: ScanSettings = field(default_factory=ScanSettings)


DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True)
class ParsedSettings:
    """Settings read from JSON, and one line per value that was invalid (and ignored)."""

    settings: Settings
    problems: tuple[str, ...] = ()


def section_of(raw: object) -> dict[str, Any]:
    """Return the "dbheal" section of what a client sent (or the object itself if it is one).

    Clients send `{"dbheal": {...}}` in didChangeConfiguration and often in
    initializationOptions; some send the section's content directly. Anything else is {}.
    """
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get(SECTION)
    if isinstance(inner, Mapping):
        return {str(k): v for k, v in inner.items()}
    return {str(k): v for k, v in raw.items()}


def merge_raw(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the layers' keys merged, later layers winning; severity maps merge by type."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            name = _canonical(key)
            if name == "severity" and isinstance(value, Mapping):
                previous = out.get("severity")
                merged = dict(previous) if isinstance(previous, Mapping) else {}
                merged.update({str(k): v for k, v in value.items()})
                out[name] = merged
            else:
                out[name] = value
    return out


def parse_settings(raw: Mapping[str, Any] | None) -> ParsedSettings:
    """Return the settings of a "dbheal" section; invalid values fall back to the defaults."""
    problems: list[str] = []
    data = merge_raw(raw or {})
    project = ProjectSettings(
        database=_path(data, "database", problems),
        migrations=_path(data, "migrations", problems),
        dialect=_dialect(data, problems),
        severity=_severity(data, problems),
        extra_calls=_names(data, "extraCalls", problems),
        identifier_helpers=_names(data, "identifierHelpers", problems),
    )
    diagnostics = DiagnosticsSettings(
        check_on=_check_on(data, problems),
        debounce_ms=int(
            _number(data, "debounceMs", DiagnosticsSettings.debounce_ms, MAX_DEBOUNCE_MS, problems)
        ),
    )
    scan = ScanSettings(
        periodic_minutes=_number(
            data,
            "periodicScanMinutes",
            ScanSettings.periodic_minutes,
            MAX_PERIODIC_MINUTES,
            problems,
            integral=False,
        )
    )
    return ParsedSettings(Settings(project, diagnostics, scan), tuple(problems))


def without_project(settings: Settings) -> Settings:
    """Return `settings` with no project overrides (the fallback when they do not load)."""
    return replace(settings, project=ProjectSettings())


# --- one setting each -----------------------------------------------------------------------

#: The settings the server reads, by their key with `_`, `-` and case dropped.
KNOWN_KEYS = MappingProxyType(
    {
        "database": "database",
        "migrations": "migrations",
        "dialect": "dialect",
        "checkon": "checkOn",
        "debouncems": "debounceMs",
        "periodicscanminutes": "periodicScanMinutes",
        "severity": "severity",
        "extracalls": "extraCalls",
        "identifierhelpers": "identifierHelpers",
    }
)


def _canonical(key: str) -> str:
    """Return the documented (camelCase) name of `key`, or `key` itself if it is unknown."""
    return KNOWN_KEYS.get(key.replace("_", "").replace("-", "").lower(), key)


def _type_key(key: str) -> str:
    return key.strip().upper().replace("-", "_")


def _problem(problems: list[str], name: str, expected: str, value: object, default: str) -> None:
    problems.append(f"{SECTION}.{name}: expected {expected}, not {value!r}; using {default}")


def _path(data: Mapping[str, Any], name: str, problems: list[str]) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        _problem(problems, name, "a path", value, "[tool.dbheal] or discovery")
        return None
    return value


def _dialect(data: Mapping[str, Any], problems: list[str]) -> str | None:
    value = data.get("dialect")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.lower() not in DIALECTS:
        expected = "one of " + ", ".join(DIALECTS)
        _problem(problems, "dialect", expected, value, "[tool.dbheal] or sqlite")
        return None
    return value.lower()


def _check_on(data: Mapping[str, Any], problems: list[str]) -> str:
    value = data.get("checkOn")
    if value is None:
        return DiagnosticsSettings.check_on
    if not isinstance(value, str) or value.lower() not in CHECK_ON:
        _problem(problems, "checkOn", '"save" or "change"', value, '"save"')
        return DiagnosticsSettings.check_on
    return value.lower()


def _number(
    data: Mapping[str, Any],
    name: str,
    default: float,
    maximum: float,
    problems: list[str],
    *,
    integral: bool = True,
) -> float:
    value = data.get(name)
    if value is None:
        return default
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integral and isinstance(value, float) and not value.is_integer():
        ok = False
    if not ok or not 0 <= float(value) <= maximum:
        kind = "a whole number" if integral else "a number"
        _problem(problems, name, f"{kind} from 0 to {maximum:g}", value, f"{default:g}")
        return default
    return float(value)


def _names(data: Mapping[str, Any], name: str, problems: list[str]) -> tuple[str, ...] | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    _problem(problems, name, "a list of names", value, "[tool.dbheal]")
    return None


def _severity(
    data: Mapping[str, Any], problems: list[str]
) -> tuple[tuple[IssueType, Severity], ...]:
    value = data.get("severity")
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        _problem(problems, "severity", 'a map of TYPE to "critical|high|medium|low"', value, "{}")
        return ()
    out: dict[IssueType, Severity] = {}
    for key, level in value.items():
        try:
            issue_type = IssueType.parse(str(key))
            out[issue_type] = Severity.parse(str(level))
        except ValueError as exc:
            problems.append(f"{SECTION}.severity.{key}: {exc}; ignored")
    return tuple(sorted(out.items(), key=lambda item: item[0].value))
