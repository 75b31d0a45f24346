"""The server's folders: one per project, with its settings, its `Project`s and its fix engine.

A folder is made for each workspace folder the client names, and on the fly for a file of a
project outside all of them (`folder_for`), found from the file as `dbheal check` finds it.
Changing the folders as settings or the workspace change is `workspace.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pygls.uris import from_fs_path, to_fs_path

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import (
    Config,
    ConfigError,
    find_root,
    included,
    load_config,
    read_pyproject,
)
from dbheal_lsp.discovery import discover_database, discover_migrations
from dbheal_lsp.files import read_text
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.lsp.settings import Settings, merge_raw, parse_settings
from dbheal_lsp.lsp.watch import Watcher
from dbheal_lsp.model import Issue, MigrationPlan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")


@dataclass
class Folder:
    """One workspace folder: its own root, settings, projects, fix engine and watcher."""

    uri: str
    path: Path  # as the client named it (what URIs of its files are built from)
    root: Path  # resolved
    settings: Settings
    config: Config
    project: Project  # checks of open documents: behind `lock`
    tools_project: Project  # code actions, hover, completion and the fix engine: `tools_lock`
    scan_project: Project  # workspace scans: behind `scan_lock`
    engine: FixEngine  # on `tools_project`
    # Documents too slow for `project` (see documents._document_worker): behind `slow_lock`.
    slow_project: Project | None = None
    implicit: bool = False  # made for a file outside every workspace folder
    # The workspace folder the client named, when it lies inside the project `root` (its root
    # hid the real project): scans check only it, as `dbheal check` run there does.
    scope: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    slow_lock: threading.Lock = field(default_factory=threading.Lock)
    tools_lock: threading.Lock = field(default_factory=threading.Lock)
    scan_lock: threading.Lock = field(default_factory=threading.Lock)
    code_issues: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    migration_issues: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    runtime_issues: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    scanned: bool = False
    watcher: Watcher | None = None
    periodic: asyncio.Task[None] | None = None
    plan_cache: dict[tuple[str, str], tuple[MigrationPlan, ...]] = field(default_factory=dict)
    last_health: str = ""
    last_error: str = ""
    publish_seq: int = 0

    @property
    def key(self) -> str:
        return str(self.scope or self.root)

    def uri_of(self, rel: str) -> str:
        """Return the URI of the project file `rel` (relative to the root)."""
        path = Path(rel)
        if not path.is_absolute():
            path = self.path / rel
        return from_fs_path(str(path)) or path.as_uri()

    def file_of(self, rel: str) -> Path:
        path = Path(rel)
        return path if path.is_absolute() else self.root / rel

    def workspace_issues(self) -> dict[str, tuple[Issue, ...]]:
        """Return every file's issues of the last scan, health check and runtime events."""
        out: dict[str, list[Issue]] = {}
        for source in (self.code_issues, self.migration_issues, self.runtime_issues):
            for rel, issues in source.items():
                out.setdefault(rel, []).extend(issues)
        return {rel: tuple(issues) for rel, issues in out.items()}


# --- making a folder ------------------------------------------------------------------------------


def settings_for(server: DbhealServer, folder_uri: str) -> tuple[Settings, tuple[str, ...]]:
    """Return the editor's settings of a folder (and what was wrong with them)."""
    raw = merge_raw(server.init_raw, server.pushed_raw, server.folder_raw.get(folder_uri, {}))
    parsed = parse_settings(raw)
    return parsed.settings, parsed.problems


def make_folder(
    server: DbhealServer,
    uri: str,
    problems: list[str],
    *,
    implicit: bool = False,
    root: Path | None = None,
    scope: Path | None = None,
) -> Folder | None:
    """Return the folder of the workspace folder `uri` (or of the project at `root`), adding
    what is wrong with its settings to `problems`; None for a URI that is not a file path."""
    if root is None:
        fs = to_fs_path(uri)
        if fs is None:
            return None
        path = Path(fs)
        project = find_root(path)
        if project != path.resolve() and _declares_project(project):
            # The client's root lies inside the real project (an editor's root marker or
            # version-control root picked a subfolder): the project is the one above, as
            # `dbheal check` run there finds it; scans stay inside the client's folder.
            scope = path.resolve()
            note_hidden(server, scope, project)
            path = _ancestor(path, len(scope.parts) - len(project.parts))
    else:
        path = root
    settings, found = settings_for(server, uri)
    problems.extend(found)
    config = _config(path.resolve(), settings, problems)
    tools = Project(config)
    return Folder(
        uri=uri,
        path=path,
        root=config.root,
        settings=settings,
        config=config,
        project=Project(config),
        tools_project=tools,
        scan_project=Project(config),
        engine=FixEngine(tools),
        slow_project=Project(config),
        implicit=implicit,
        scope=scope,
    )


def _config(root: Path, settings: Settings, problems: list[str]) -> Config:
    """Return the folder's configuration: [tool.dbheal] with the editor's settings over it."""
    try:
        file_severity = read_pyproject(root).get("severity")
    except ConfigError:
        file_severity = None
    try:
        return load_config(root, settings.project.overrides(file_severity))
    except ConfigError as exc:
        problems.append(f"dbheal settings of {root.name}: {exc}; the editor's are ignored")
    try:
        return load_config(root)
    except ConfigError as exc:
        problems.append(f"dbheal: {exc}; using the defaults")
    return Config(root=root, database=discover_database(root), migrations=discover_migrations(root))


def show_problems(server: DbhealServer, problems: Sequence[str]) -> None:
    """Warn about invalid settings once; forget the warning once they are fixed."""
    unique = list(dict.fromkeys(problems))
    if unique:
        server.warn_once("Invalid dbheal settings: " + "; ".join(unique))
    elif server.last_warning.startswith("Invalid dbheal settings"):
        server.last_warning = ""  # fixed: the same mistake made again is shown again


# --- finding a file's folder ----------------------------------------------------------------------


def deepest(server: DbhealServer, path: Path, *, implicit: bool) -> Folder | None:
    """Return the deepest folder holding `path` (implicit ones too if `implicit`)."""
    resolved = path.resolve()
    best: Folder | None = None
    for folder in server.folders.values():
        if folder.implicit and not implicit:
            continue
        inside = resolved == folder.root or folder.root in resolved.parents
        if inside and (best is None or len(folder.root.parts) > len(best.root.parts)):
            best = folder
    return best


def folder_for(server: DbhealServer, path: Path) -> Folder:
    """Return the folder of the project of `path`, found from the file as `dbheal check`
    finds it: the deepest workspace folder holding it, unless the file belongs to another
    project (a [tool.dbheal] section between the file and the workspace root, or above a
    workspace root that finds no database nor migrations of its own); one folder, and so
    one set of `Project`s, per project root, made on the fly."""
    resolved = path.resolve()
    root = find_root(resolved)
    best = deepest(server, path, implicit=False)
    if best is not None and not _elsewhere(best, root):
        return best
    existing = server.folders.get(str(root))
    if existing is not None:
        return existing
    if best is not None and best.root in root.parents:
        pass  # a project of its own inside the workspace folder: nothing hidden
    elif best is not None:
        note_hidden(server, best.root, root)
    problems: list[str] = []
    uri = from_fs_path(str(root)) or root.as_uri()
    made = make_folder(server, uri, problems, implicit=True, root=root)
    assert made is not None
    show_problems(server, problems)
    server.folders[made.key] = made
    return made


def folder_of_uri(server: DbhealServer, uri: str) -> Folder | None:
    """Return the deepest folder (implicit ones too) holding the file at `uri`."""
    fs = to_fs_path(uri)
    return deepest(server, Path(fs), implicit=True) if fs is not None else None


def _elsewhere(folder: Folder, root: Path) -> bool:
    """Whether a file whose project root is `root` belongs to a project other than `folder`."""
    if root == folder.root:
        return False
    if _declares_project(root):
        return True
    # A marker without [tool.dbheal] (a pyproject.toml, .git) above a workspace folder that
    # finds neither a database nor migrations: the project above is all there is to check.
    config = folder.config
    return (
        config.database is None
        and config.database_url is None
        and config.migrations is None
        and root in folder.root.parents
    )


def note_hidden(server: DbhealServer, workspace: Path, project: Path) -> None:
    """Log once (window/logMessage, Info) that a workspace root hides the project above it."""
    if (workspace, project) in server.hidden_noted:
        return
    server.hidden_noted.add((workspace, project))
    logger.info(
        "dbheal: the workspace root %s hides the project at %s (its pyproject.toml); "
        "files under it are checked as part of %s, as `dbheal check` does",
        workspace,
        project,
        project,
    )


def checked(config: Config, rel: str) -> bool:
    """Whether `dbheal check` of the root would check the project file `rel`."""
    return not Path(rel).is_absolute() and included(
        tuple(rel.split("/")), config.include, config.exclude
    )


def in_migrations(folder: Folder, path: Path) -> bool:
    """Whether `path` lies in the folder's migrations directory."""
    migrations = folder.config.migrations
    if migrations is None:
        return False
    resolved = path.resolve()
    return migrations.resolve() in resolved.parents


def _declares_project(root: Path) -> bool:
    """Whether root has dbheal settings: a dbheal.toml, or a pyproject.toml with a
    [tool.dbheal] section (as config.find_root decides)."""
    if (root / "dbheal.toml").is_file():
        return True
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(read_text(pyproject, max_bytes=1 << 20, root=root))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "dbheal" in tool


def _ancestor(path: Path, levels: int) -> Path:
    """Return the folder `levels` above `path` as the client spells it (links kept)."""
    for _ in range(max(levels, 0)):
        path = path.parent
    return path
