"""The `dbheal hook` command: install, uninstall and run the git pre-commit hook.

`dbheal hook run` is what the hook (and the pre-commit framework) calls: it checks the staged
content and exits 1 when an issue at or above `fail-on` would be committed, 0 otherwise (also when
nothing staged is source code or a migration), 2 on a usage or configuration error. The logic
lives in `dbheal_lsp/hook/`; docs/hooks.md describes it for users.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dbheal_lsp.cli import EXIT_ERROR, EXIT_FOUND, EXIT_OK, UsageError
from dbheal_lsp.cli.output import for_display, shown_path, use_color
from dbheal_lsp.model import Severity

COMMANDS = frozenset({"hook"})


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `hook` command (install | uninstall | run) to the `dbheal` parser."""
    hook = commands.add_parser(
        "hook",
        help="the git pre-commit hook: install, uninstall, run",
        description="Check what a commit would contain before git makes it: the staged content "
        "of the source (Python, JavaScript, TypeScript) and migration files, not the working tree.",
    )
    actions = hook.add_subparsers(dest="hook_action", metavar="ACTION")
    actions.required = True
    install = actions.add_parser(
        "install",
        help="install the pre-commit hook (an existing hook is kept and run first)",
        description="Write the repository's pre-commit hook (where `git rev-parse --git-path "
        "hooks` says). A hook already there is moved to pre-commit.dbheal-chained and run "
        "first; installing again changes nothing.",
    )
    install.add_argument(
        "--python",
        metavar="PATH",
        help="the Python the hook runs dbheal with (default: this one, %(default)s)",
        default=sys.executable,
    )
    actions.add_parser(
        "uninstall",
        help="remove the pre-commit hook and put back the one it chained",
        description="Remove dbheal's pre-commit hook; the hook it chained, if any, is put back "
        "exactly as it was.",
    )
    run_parser = actions.add_parser(
        "run",
        help="check the staged content (what the hook runs)",
        description="Check the staged content of the staged Python and migration files (or of "
        "FILES, as the pre-commit framework passes them) and exit 1 when an issue at or above "
        "fail-on would be committed.",
    )
    run_parser.add_argument(
        "files", nargs="*", metavar="FILES", help="check these files' staged content"
    )
    run_parser.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=None,
        help="block the commit on an issue at or above this severity (default: the project's "
        "fail-on, else critical)",
    )
    run_parser.add_argument(
        "--against",
        choices=("auto", "migrations", "database"),
        default="auto",
        help="the schema to check against: the staged migrations (auto, when the project has "
        "migrations) or the live database as `dbheal check` does",
    )
    run_parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text"
    )


def run(args: argparse.Namespace) -> int:
    """Run `dbheal hook ACTION` and return its exit status."""
    from dbheal_lsp.config import ConfigError
    from dbheal_lsp.databases.database import SchemaError
    from dbheal_lsp.hook.git import HookError

    try:
        if args.hook_action == "install":
            return _install(args)
        if args.hook_action == "uninstall":
            return _uninstall()
        if args.hook_action == "run":
            return _run(args)
    except (HookError, ConfigError, SchemaError) as exc:
        raise UsageError(str(exc)) from None
    return EXIT_ERROR


def _install(args: argparse.Namespace) -> int:
    from dbheal_lsp.hook.install import install

    result = install(Path.cwd(), args.python)
    shown = shown_path(result.hook)
    if result.action == "unchanged":
        _out(f"dbheal's pre-commit hook is already installed: {shown}")
    elif result.action == "updated":
        _out(f"updated dbheal's pre-commit hook: {shown}")
    else:
        _out(f"installed dbheal's pre-commit hook: {shown}")
    if result.chained is not None:
        _out(f"it runs the earlier hook first: {shown_path(result.chained)}")
    for note in result.notes:
        _out(f"note: {note}")
    return EXIT_OK


def _uninstall() -> int:
    from dbheal_lsp.hook.install import uninstall

    result = uninstall(Path.cwd())
    shown = shown_path(result.hook)
    if result.action == "restored":
        _out(f"removed dbheal's pre-commit hook and put back the earlier one: {shown}")
    elif result.action == "removed":
        _out(f"removed dbheal's pre-commit hook: {shown}")
    else:
        _out(f"dbheal's pre-commit hook is not installed ({shown} is not dbheal's)")
    for note in result.notes:
        _out(f"note: {note}")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from dbheal_lsp.hook.staged import BYPASS, check_staged
    from dbheal_lsp.report import render_text

    report = check_staged(
        Path.cwd(), args.files or None, fail_on=args.fail_on, against=args.against
    )
    if not report.checked:
        return EXIT_OK  # nothing staged is Python or a migration: stay out of the way
    result = report.result
    if result.issues or result.notes:
        _out(render_text(for_display(result, report.top), color=use_color(args.color)))
    files = _count(result.files_checked, "staged file")
    if report.rechecked:
        # A staged migration changed the schema: the committed code was judged against it too.
        _out(
            f"dbheal: {_count(report.rechecked, 'committed source file')} checked against the "
            "staged migrations."
        )
    levels = {s.value for s in report.fail_on}
    level = levels.pop() if len(levels) == 1 else "each project's fail-on"
    if report.blocking:
        where = len({issue.path for issue in report.blocking})
        _out(
            f"dbheal: commit blocked: {_count(len(report.blocking), 'issue')} at or above "
            f"{level} in {where} of {files}. Fix them, or commit anyway with `{BYPASS}`."
        )
        return EXIT_FOUND
    if result.issues:
        _out(f"dbheal: commit allowed: {_count(len(result.issues), 'issue')} below {level}.")
    else:
        _out(f"dbheal: {files} checked, no issues.")
    return EXIT_OK


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _out(text: str) -> None:
    """Write a line to standard output (paths git gives may hold undecodable bytes)."""
    try:
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape") + b"\n")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
