"""Finding the source files of a project (those of the registered languages): include and exclude globs, links, files not to read.

`scan_files` is the one walk every front door's "check these paths" goes through, so that the
CLI, the editor's workspace scan, the watcher and the git hook read the same files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from dbheal_lsp.config import DEFAULT_EXCLUDE, Config, unmatched_pattern_note
from dbheal_lsp.files import MB, is_inside
from dbheal_lsp.globs import GlobSet
from dbheal_lsp.languages import SOURCE_EXTENSIONS
from dbheal_lsp.model import FileNote

__all__ = ["MAX_FILE_BYTES", "scan_files", "source_files"]

#: The largest source file dbheal reads.
MAX_FILE_BYTES = 5 * MB


def source_files(
    config: Config, paths: Iterable[Path], extensions: Sequence[str] = SOURCE_EXTENSIONS
) -> list[Path]:
    """Return the source files under `paths`, skipping .venv, .git, node_modules, excludes."""
    return scan_files(config, paths, extensions)[0]


def scan_files(
    config: Config, paths: Iterable[Path], extensions: Sequence[str] = SOURCE_EXTENSIONS
) -> tuple[list[Path], list[FileNote]]:
    """Return the source files under `paths` (names ending in one of `extensions`: the
    registered languages') and a note for each left out because it is not a regular file (a
    FIFO, a device) or is a link out of the project.

    `include` and `exclude` are globs of dbheal_lsp/globs.py (exclude wins; an excluded
    folder is not entered). When the walk covers the project root, each pattern that
    matched no file gets a note (`config.unmatched_pattern_note`): front doors show it as
    a warning about the settings. Files named in `paths` are taken whatever the patterns say.

    Links to folders are never followed (`os.walk` with followlinks=False): a repository's
    link to `/` or to the user's home must not turn the scan into a walk of the machine.
    """
    found: list[Path] = []
    notes: list[FileNote] = []
    endings = tuple(extensions)
    root = config.root
    # One glob dialect for both (dbheal_lsp/globs.py), compiled once for the whole walk.
    include, exclude = GlobSet.of(config.include), GlobSet.of(config.exclude)
    used: dict[str, set[str]] = {"include": set(), "exclude": set()}
    whole_project = False  # only a walk of the root can tell that a pattern matches nothing
    for given in paths:
        path = Path(os.path.abspath(given))
        if not path.is_dir():
            # A file named by the caller (the CLI, the watcher, the hook): the same rules,
            # so a watched link to a file outside the project is not read either.
            if not os.path.lexists(path):
                continue
            skipped = _not_scanned(path, root)
            if skipped:
                notes.append(FileNote(config.relative(path), f"skipped: {skipped}"))
            else:
                found.append(path.resolve())
            continue
        path = path.resolve()
        whole_project = whole_project or path == root
        for folder, dirs, files in os.walk(path, followlinks=False):
            rel_parts = _rel_parts(Path(folder), root)
            if any(part in DEFAULT_EXCLUDE for part in rel_parts):
                dirs[:] = []  # a walk that starts inside .venv or .git checks nothing
                continue
            base = "".join(part + "/" for part in rel_parts)
            kept: list[str] = []
            for name in sorted(dirs):
                # Excluded folders are pruned here, so the walk never enters them.
                hits = exclude.matching(base + name, is_dir=True)
                used["exclude"].update(hits)
                if not hits and name not in DEFAULT_EXCLUDE:
                    kept.append(name)
            dirs[:] = kept
            for name in sorted(files):
                rel = base + name
                if not name.endswith(endings):
                    if len(used["exclude"]) < len(exclude):  # `exclude = ["*.pyc"]` is used
                        used["exclude"].update(exclude.matching(rel))
                    continue
                hits = exclude.matching(rel)
                if hits:  # exclude wins over include
                    used["exclude"].update(hits)
                    continue
                if include:
                    hits = include.matching(rel)
                    if not hits:
                        continue
                    used["include"].update(hits)
                file = Path(folder) / name
                skipped = _not_scanned(file, root)
                if skipped:
                    notes.append(FileNote(config.relative(file), f"skipped: {skipped}"))
                else:
                    found.append(file)
    if whole_project:
        for key, globs in (("include", include), ("exclude", exclude)):
            for pattern in dict.fromkeys(globs.patterns):
                if pattern not in used[key]:
                    notes.append(unmatched_pattern_note(key, pattern))
    return found, notes


def _not_scanned(file: Path, root: Path) -> str:
    """Return why the scan leaves `file` out ("" if it does not): a link whose target is
    outside `root`, or anything but a regular file. Costs one lstat (two for a link)."""
    try:
        info = os.lstat(file)
        if stat.S_ISLNK(info.st_mode):
            if not is_inside(file, root):
                return "links out of the project"
            info = os.stat(file)
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    return "" if stat.S_ISREG(info.st_mode) else "not a regular file"


def _rel_parts(folder: Path, root: Path) -> tuple[str, ...]:
    try:
        return folder.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return folder.parts[-1:]
