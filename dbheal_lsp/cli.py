"""The `dbheal` command line: `dbheal check` and the commands of the other front doors.

Exit status: 0 when nothing at or above --fail-on was found, 1 when something was, 2 for a
usage or configuration error (with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp import __version__
from dbheal_lsp.model import CheckResult, FileNote, Issue, Origin, Severity

if TYPE_CHECKING:
    from dbheal_lsp.analysis.engine import Project

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_ERROR = 2


class UsageError(Exception):
    """A problem with how dbheal was called or configured; exits with status 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `dbheal` command."""
    parser = argparse.ArgumentParser(
        prog="dbheal",
        description="Keep Python code and its SQL database in agreement, and heal both.",
    )
    parser.add_argument("--version", action="version", version=f"dbheal {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="find SQL in Python code and check it against the database and migrations",
        description="Find every SQL statement in the Python files under PATHS and check it "
        "against the live SQLite database and the migration files.",
    )
    add_project_arguments(check)
    check.add_argument(
        "--format", choices=("text", "json", "sarif"), default="text", help="output format"
    )
    check.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=None,
        help="exit 1 when an issue at or above this severity is found (default: critical)",
    )
    check.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    check.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    check.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text"
    )
    for module in _command_modules():
        module.add_commands(commands)
    return parser


# Each front door adds its commands from its own module: `add_commands(subparsers)` adds them,
# `COMMANDS` names them, `run(args) -> int` runs one. Add a module here to add commands.
COMMAND_MODULES: tuple[str, ...] = (
    "dbheal_lsp.cli_fixes",
    "dbheal_lsp.cli_hook",
    "dbheal_lsp.cli_admin",
    "dbheal_lsp.lsp.cli",
)


def _command_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in COMMAND_MODULES]


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """Add PATHS, --db and --migrations: what every command that reads a project takes."""
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    parser.add_argument("--db", type=Path, help="the SQLite database file")
    parser.add_argument("--migrations", type=Path, help="the folder of migration *.sql files")


def load_project_from(args: argparse.Namespace) -> Project:
    """Return the Project that PATHS, --db and --migrations name, or raise UsageError."""
    from dbheal_lsp.analysis.engine import load_project
    from dbheal_lsp.config import ConfigError, find_root

    paths: list[Path] = getattr(args, "paths", None) or [Path.cwd()]
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    db = getattr(args, "db", None)
    migrations = getattr(args, "migrations", None)
    if db and not db.exists():
        raise UsageError(f"database file not found: {db}")
    overrides = {
        "database": str(db.resolve()) if db else None,
        "migrations": str(migrations.resolve()) if migrations else None,
        "fail-on": getattr(args, "fail_on", None),
    }
    try:
        return load_project(find_root(paths[0]), overrides)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `dbheal` command with `argv` and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command == "check":
            return run_check(args)
        for module in _command_modules():
            if args.command in module.COMMANDS:
                return int(module.run(args))
    except UsageError as exc:
        print(f"dbheal: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dbheal: interrupted", file=sys.stderr)
        return 130
    parser.print_help()
    return EXIT_ERROR


def run_check(args: argparse.Namespace) -> int:
    """Run `dbheal check` and return its exit status."""
    from dbheal_lsp.analysis.schema import SchemaError
    from dbheal_lsp.config import ConfigError
    from dbheal_lsp.report import exit_code, render_json, render_sarif, render_text

    paths: list[Path] = args.paths or [Path.cwd()]
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    project = load_project_from(args)
    try:
        interactive = args.format == "text" and sys.stderr.isatty()
        result = project.check_paths(
            paths,
            use_cache=False if args.no_cache else None,
            jobs=args.jobs,
            progress=_progress_bar if interactive else None,
        )
    except (ConfigError, SchemaError) as exc:
        raise UsageError(str(exc)) from None
    if interactive:
        sys.stderr.write("\r\033[K")
    shown = for_display(result, project.config.root)
    if args.format == "json":
        output = render_json(shown)
    elif args.format == "sarif":
        output = render_sarif(shown, tool_version=__version__, root=Path.cwd())
    else:
        output = render_text(shown, color=use_color(args.color))
    write(output + "\n")
    return exit_code(result, project.config.fail_on)


def for_display(result: CheckResult, root: Path) -> CheckResult:
    """Return `result` with paths relative to the working directory, as a terminal expects."""
    cwd = Path.cwd()

    def shown(rel: str) -> str:
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        try:
            return os.path.relpath(path, cwd)
        except ValueError:
            return str(path)

    def issue(i: Issue) -> Issue:
        origin = Origin(shown(i.origin.path), i.origin.line) if i.origin else None
        message = i.message
        if i.origin is not None and str(i.origin) in message and origin is not None:
            message = message.replace(str(i.origin), str(origin))
        return replace(i, path=shown(i.path), origin=origin, message=message)

    return replace(
        result,
        issues=tuple(issue(i) for i in result.issues),
        notes=tuple(FileNote(shown(n.path), n.message, n.line) for n in result.notes),
    )


def use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _progress_bar(done: int, total: int) -> None:
    if total < 200:
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} files")
    sys.stderr.flush()


def write(text: str) -> None:
    try:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:
        # `dbheal check | head` closed the pipe: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
