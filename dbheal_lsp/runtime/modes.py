"""Modes, the environment variable that sets them, and what one connection was opened with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from dbheal_lsp.runtime.callsite import caller_file
from dbheal_lsp.runtime.process import log

__all__ = ["ENV_VAR", "MODES", "Mode", "Settings", "new_settings", "resolve_mode"]

Mode = Literal["heal", "report", "off"]
MODES: tuple[Mode, ...] = ("heal", "report", "off")
#: The environment variable that sets the mode (`off` in it always wins; see resolve_mode).
ENV_VAR = "DBHEAL_RUNTIME"
_TRUE = frozenset({"1", "true", "yes", "on", "heal"})
_FALSE = frozenset({"0", "false", "no", "off", "disable", "disabled", "none"})


def _parse_mode(value: str) -> Mode | None:
    text = value.strip().lower()
    if text in _TRUE:
        return "heal"
    if text in _FALSE:
        return "off"
    if text == "report":
        return "report"
    return None


def resolve_mode(mode: str | None = None) -> Mode:
    """Return the mode a connection opened now gets.

    The argument wins over the environment variable `DBHEAL_RUNTIME`, with one exception:
    `DBHEAL_RUNTIME=off` always turns the wrapper off (an operator's switch that needs no change
    of code). Without an argument, the variable decides, else "heal". The variable also takes
    1/true/yes/on (heal) and 0/false/no/disabled (off); an unknown value is logged and ignored.
    An unknown `mode` argument raises ValueError.
    """
    chosen: Mode | None = None
    if mode is not None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        chosen = mode
    env_text = os.environ.get(ENV_VAR)
    env: Mode | None = None
    if env_text is not None and env_text.strip():
        env = _parse_mode(env_text)
        if env is None:
            log().warning(
                "dbheal: ignoring %s=%r (expected one of %s)", ENV_VAR, env_text, ", ".join(MODES)
            )
    if env == "off":
        return "off"
    return chosen or env or "heal"


class Settings:
    """What one connection was opened with; the root and migrations are found on first use.

    (Plain classes rather than dataclasses here: importing dataclasses imports inspect, and the
    package is imported by applications at start-up.)
    """

    __slots__ = ("_found_migrations", "_found_root", "migrations", "mode", "origin", "root")

    def __init__(
        self,
        mode: Mode,
        migrations: Path | None = None,
        root: Path | None = None,
        origin: str | None = None,
    ) -> None:
        self.mode = mode
        self.migrations = migrations  # given explicitly (absolute)
        self.root = root  # given explicitly (absolute)
        self.origin = origin  # the application's file that opened the connection
        self._found_root: Path | None = None
        self._found_migrations: Path | None = None

    def __repr__(self) -> str:
        return (
            f"Settings(mode={self.mode!r}, migrations={self.migrations!r}, root={self.root!r}, "
            f"origin={self.origin!r})"
        )

    def project_root(self, fallback: str | None = None) -> Path:
        """Return the project root: given, else found from the app's file, else the cwd."""
        if self.root is not None:
            return self.root
        if self._found_root is None:
            start = self.origin or fallback
            if start is None:
                return Path.cwd()
            from dbheal_lsp.config import find_root

            self._found_root = find_root(Path(start))
        return self._found_root

    def migrations_folder(self, root: Path) -> Path | None:
        """Return the migrations folder: given, else [tool.dbheal] migrations, else discovered."""
        if self.migrations is not None:
            return self.migrations
        if self._found_migrations is None:
            self._found_migrations = _discover_migrations(root)
        return self._found_migrations


def _discover_migrations(root: Path) -> Path | None:
    from dbheal_lsp.config import ConfigError, read_pyproject
    from dbheal_lsp.discovery import discover_migrations

    try:
        configured = read_pyproject(root).get("migrations")
    except ConfigError as exc:
        log().warning("dbheal: %s", exc)
        configured = None
    if isinstance(configured, str) and configured:
        folder = Path(configured).expanduser()
        folder = folder if folder.is_absolute() else root / folder
        if folder.is_dir():
            return folder
        log().warning("dbheal: the migrations folder %s of %s does not exist", folder, root)
    return discover_migrations(root)


def new_settings(
    mode: str | None,
    migrations: str | os.PathLike[str] | None,
    project_root: str | os.PathLike[str] | None,
) -> Settings:
    """Return the settings of a connection opened now by the application's code."""
    root = None if project_root is None else Path(project_root).expanduser().resolve()
    folder = None if migrations is None else Path(migrations).expanduser().resolve()
    return Settings(resolve_mode(mode), folder, root, caller_file())
