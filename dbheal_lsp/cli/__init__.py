"""The `dbheal` command line: the parser, the command modules and the exit codes; `main` is the
`dbheal` console script. Each group of commands is a thin module of its own (check, fix, hook,
admin, serve); `project` and `output` hold what they share.

Exit status: 0 when nothing at or above --fail-on was found, 1 when something was, 2 for a
usage or configuration error (with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from dbheal_lsp import __version__
from dbheal_lsp.cli.output import one_line
from dbheal_lsp.databases import DatabaseError

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_ERROR = 2

# What the machine or the database refused: one line, not a traceback.
_REFUSED: tuple[type[Exception], ...] = (OSError, *DatabaseError)


class UsageError(Exception):
    """A problem with how dbheal was called or configured; exits with status 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `dbheal` command."""
    parser = argparse.ArgumentParser(
        prog="dbheal",
        description="Keep code (Python, JavaScript, TypeScript) and its SQL database in agreement, "
        "and heal both.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, nargs=0, help="show the version and the sqlglot build"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.add_commands(commands)
    return parser


# Each front door adds its commands from its own module: `add_commands(subparsers)` adds them,
# `COMMANDS` names them, `run(args) -> int` runs one. Add a module here to add commands.
COMMAND_MODULES: tuple[str, ...] = (
    "dbheal_lsp.cli.check",
    "dbheal_lsp.cli.fix",
    "dbheal_lsp.cli.hook",
    "dbheal_lsp.cli.admin",
    "dbheal_lsp.cli.serve",
)


def _command_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in COMMAND_MODULES]


class _VersionAction(argparse.Action):
    """--version, worked out only when asked: finding sqlglot's build imports sqlglot, which
    every other command would otherwise pay for at start-up."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """Return dbheal's version and the sqlglot build it parses with (compiled or pure Python)."""
    from importlib import metadata

    try:
        from sqlglot import tokenizer_core
    except ImportError:  # a sqlglot older than its compiled build
        compiled = False
    else:
        # sqlglotc overlays compiled modules onto sqlglot's own (sqlglot's test, tokens.py).
        compiled = not getattr(tokenizer_core, "__file__", "x.py").endswith(".py")
    build = "compiled" if compiled else "pure Python"
    return f"dbheal {__version__} (sqlglot {metadata.version('sqlglot')}, {build})"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `dbheal` command with `argv` and return its exit status."""
    from dbheal_lsp.liblogs import quiet_library_logs

    quiet_library_logs()  # stderr carries dbheal's own notes, not sqlglot's log lines
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        for module in _command_modules():
            if args.command in module.COMMANDS:
                return int(module.run(args))
    except UsageError as exc:
        print(f"dbheal: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except _REFUSED as exc:
        # What the machine refused (a full disk, a read-only folder, a file SQLite cannot
        # use) is the user's to fix, not a bug to show a traceback of: one line.
        print(f"dbheal: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dbheal: interrupted", file=sys.stderr)
        return 130
    parser.print_help()
    return EXIT_ERROR
