"""Where a project writes its dbheal settings: `[tool.dbheal]` in pyproject.toml, or the top
level of `dbheal.toml` (the same keys), for a project with no pyproject.toml of its own (a Node
app, say). One of the two: settings in both are an error, not a merge the user cannot see.

Each file is read only as a regular file of the project, of a sane size: a FIFO or a link to a
device named like one must not hang the editor's start-up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from dbheal_lsp.files import MB, FileRefused, read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DBHEAL_TOML",
    "MAX_SETTINGS_BYTES",
    "PYPROJECT",
    "SettingsFileError",
    "has_settings",
    "read_settings",
    "settings_file_name",
]

MAX_SETTINGS_BYTES = 2 * MB
PYPROJECT = "pyproject.toml"
DBHEAL_TOML = "dbheal.toml"


class SettingsFileError(Exception):
    """A settings file that cannot be read or is not valid; the message is one line."""


def read_settings(root: Path) -> tuple[dict[str, Any], str]:
    """Return the settings of the project at `root` (keys in kebab-case) and the name of the
    file they are in ("" when there are none); raise SettingsFileError."""
    pyproject = _read_toml(root / PYPROJECT, root)
    section: object = None
    if pyproject is not None:
        tool = pyproject.get("tool", {})
        section = tool.get("dbheal") if isinstance(tool, dict) else None
        if section is not None and not isinstance(section, dict):
            raise SettingsFileError(f"{root / PYPROJECT}: [tool.dbheal] must be a table")
    own = _read_toml(root / DBHEAL_TOML, root)
    if own is not None and isinstance(section, dict):
        raise SettingsFileError(
            f"{root}: settings in both {PYPROJECT} [tool.dbheal] and {DBHEAL_TOML}: keep one"
        )
    if own is not None:
        return _kebab(own), DBHEAL_TOML
    if isinstance(section, dict):
        return _kebab(section), PYPROJECT
    return {}, ""


def settings_file_name(root: Path) -> str:
    """Return the name of the file that holds, or would hold, the settings of the project at
    `root`: dbheal.toml when the project has one, else pyproject.toml."""
    return DBHEAL_TOML if os.path.lexists(root / DBHEAL_TOML) else PYPROJECT


def has_settings(folder: Path) -> bool:
    """Whether `folder` has dbheal settings: a dbheal.toml, or a pyproject.toml with a
    [tool.dbheal] section (a file that cannot be read counts as none)."""
    if (folder / DBHEAL_TOML).is_file():
        return True
    try:
        data = _read_toml(folder / PYPROJECT, None)
    except SettingsFileError:
        return False
    tool = data.get("tool") if data is not None else None
    return isinstance(tool, dict) and "dbheal" in tool


def _kebab(section: dict[str, Any]) -> dict[str, Any]:
    return {str(k).replace("_", "-"): v for k, v in section.items()}


def _read_toml(path: Path, root: Path | None) -> dict[str, Any] | None:
    """The TOML document at `path` (None when there is no file), or SettingsFileError."""
    if not os.path.lexists(path):
        return None
    try:
        text = read_regular_file(path, max_bytes=MAX_SETTINGS_BYTES, root=root)
        data: dict[str, Any] = tomllib.loads(text.decode("utf-8"))
        return data
    except FileNotFoundError:
        return None  # a dangling link: as if there were none, like a missing file
    except FileRefused as exc:
        raise SettingsFileError(f"cannot read {path}: {exc.reason}") from None
    except UnicodeDecodeError as exc:
        raise SettingsFileError(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SettingsFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsFileError(f"{path} is not valid TOML: {exc}") from None
