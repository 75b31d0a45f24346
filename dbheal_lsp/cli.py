"""The `dbheal` command line: `dbheal check` and the commands of the other front doors.

Exit status: 0 when nothing at or above --fail-on was found, 1 when something was, 2 for a
usage or configuration error (with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp import __version__
from dbheal_lsp.model import CheckResult, FileNote, Issue, Origin, Severity

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

EXIT_OK = 0
# The end of the summary line, where the database's name goes ("checked against app.db").
_SUMMARY_END = re.compile(r" checked(, \d+ of them partly)?\.$")
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
    parser.add_argument("--version", action="version", version=version_text())
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
    check.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="show and fail only on findings FILE does not record (a missing FILE is written "
        "with the current findings)",
    )
    check.add_argument(
        "--statements",
        action="store_true",
        help="list every statement found and how far it is checked, and the calls that are "
        "given SQL but not read (checks nothing)",
    )
    check.add_argument(
        "--update-baseline",
        action="store_true",
        help="rewrite the --baseline FILE with the current findings",
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


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """Add PATHS, --db and --migrations: what every command that reads a project takes."""
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    add_database_argument(parser)
    parser.add_argument("--migrations", type=Path, help="the folder of migration *.sql files")


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    """Add --database (and its older spelling --db): the SQLite file to use."""
    parser.add_argument("--database", "--db", dest="db", type=Path, help="the SQLite database file")


def load_project_from(args: argparse.Namespace, *, writes: bool = False) -> Project:
    """Return the Project that PATHS, --database and --migrations name, or raise UsageError.

    With `writes` (the command may change the database), a database only guessed among
    several candidates is refused: the user names it.
    """
    from dbheal_lsp.analysis.project import load_project
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
        project = load_project(find_root(paths[0]), overrides)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if writes and len(guessed_among(project)) > 1:
        raise UsageError(
            f"no database configured and {_candidates_text(project)}: dbheal will not guess "
            "which one to change; choose with --database FILE or [tool.dbheal] database"
        )
    return project


def guessed_among(project: Project) -> tuple[Path, ...]:
    """Return the candidates the database was guessed among (empty when it was named)."""
    from dbheal_lsp.config import database_candidates

    config = project.config
    if config.database is None or config.sources.get("database") != "discovered":
        return ()
    return database_candidates(config.root)


def _candidates_text(project: Project) -> str:
    found = guessed_among(project)
    return f"{len(found)} found ({', '.join(shown_path(p) for p in found)})"


def shown_path(path: Path) -> str:
    """Return `path` as a terminal shows it: relative to the working directory when inside."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def database_label(project: Project) -> str:
    """Return the database a command uses, as its output names it (said when guessed)."""
    database = project.config.database
    if database is None:
        return "no database (the migrations only)"
    label = shown_path(database)
    if len(guessed_among(project)) > 1:
        label += " (guessed)"
    return label


def database_notes(project: Project) -> list[str]:
    """Return what the user should know about the database before trusting the output."""
    notes: list[str] = []
    database = project.config.database
    if database is not None and len(guessed_among(project)) > 1:
        notes.append(
            f"no database configured and {_candidates_text(project)}: checked against "
            f"{shown_path(database)}; choose with --database FILE or [tool.dbheal] database"
        )
    if database is not None and empty_file(database):
        notes.append(
            f"{shown_path(database)} is empty (0 bytes): checked as a database with no tables"
        )
    return notes


def empty_file(path: Path) -> bool:
    """Return whether `path` is a 0-byte file (what a bare sqlite3.connect() leaves behind)."""
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


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
        if args.command == "check":
            return run_check(args)
        for module in _command_modules():
            if args.command in module.COMMANDS:
                return int(module.run(args))
    except UsageError as exc:
        print(f"dbheal: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, sqlite3.Error) as exc:
        # What the machine refused (a full disk, a read-only folder, a file SQLite cannot
        # use) is the user's to fix, not a bug to show a traceback of: one line.
        print(f"dbheal: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dbheal: interrupted", file=sys.stderr)
        return 130
    parser.print_help()
    return EXIT_ERROR


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text += f": {exc.filename}"
    return text


def run_check(args: argparse.Namespace) -> int:
    """Run `dbheal check` and return its exit status."""
    from dbheal_lsp.analysis.live_db import SchemaError
    from dbheal_lsp.config import ConfigError, split_pattern_warnings
    from dbheal_lsp.fixes.state_logs import record_cli_scan
    from dbheal_lsp.report import exit_code, render_json, render_sarif, render_text

    paths: list[Path] = args.paths or [Path.cwd()]
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.update_baseline and args.baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE: the file to rewrite")
    # Read before the analysis: a corrupt baseline is the user's one-line error, not after
    # minutes of work, and nothing is written.
    known = read_baseline(args.baseline) if args.baseline and not args.update_baseline else None
    project = load_project_from(args)
    if args.statements:
        return _print_statements(project, paths, args.format)
    try:
        interactive = args.format == "text" and sys.stderr.isatty()
        started = time.monotonic()
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
    # A point of the admin's "Issues over time", like the editor's and the admin's own scans.
    record_cli_scan(project.config.root, paths, result, (time.monotonic() - started) * 1000)
    for note in database_notes(project):
        print(f"dbheal: note: {note}", file=sys.stderr)
    # An include/exclude pattern that matches no file is about the settings: said once, on
    # stderr, so a JSON or SARIF report stays one document.
    pattern_warnings, other_notes = split_pattern_warnings(result.notes)
    for warning in pattern_warnings:
        print(f"dbheal: warning: {warning}", file=sys.stderr)
    result = replace(result, notes=other_notes)
    baseline_lines: list[str] = []
    if args.baseline is not None:
        result, baseline_lines = apply_baseline(result, args.baseline, known)
    shown = for_display(result, project.config.root)
    label = database_label(project)
    if args.format == "json":
        # Paths relative to the project root (docs/output.md), wherever the command runs: a
        # script's output does not depend on its working directory.
        output = render_json(result)
    elif args.format == "sarif":
        output = _with_database_property(
            render_sarif(shown, tool_version=__version__, root=Path.cwd()), label
        )
    else:
        output = render_text(shown, color=use_color(args.color))
        # The summary line names the database: "...; 3 statements checked against app.db."
        summary = _SUMMARY_END.search(output)
        if summary is not None:
            output = (
                output[: summary.start()] + f" checked against {label}{summary.group(1) or ''}."
            )
        else:
            output += f"\nDatabase: {label}"
    if args.format == "text":
        output = "\n".join([output, *baseline_lines])
    else:
        # Standard output stays one valid JSON or SARIF document.
        for line in baseline_lines:
            print(f"dbheal: note: {line}", file=sys.stderr)
    write(output + "\n")
    return exit_code(result, project.config.fail_on)


def _print_statements(project: Project, paths: list[Path], output_format: str) -> int:
    """Print `dbheal check --statements`: each statement and how it is checked; exit 0."""
    import dataclasses
    import json

    from dbheal_lsp.analysis.inventory import project_inventory, summary_lines

    found = project_inventory(project, paths)
    for warning in found.warnings:
        print(f"dbheal: warning: {warning}", file=sys.stderr)
    if output_format != "text":
        data = {
            "statements": [dataclasses.asdict(e) for e in found.entries],
            "skipped": list(found.skipped),
            "unread_calls": [dataclasses.asdict(u) for u in found.unread],
        }
        write(json.dumps(data, indent=2) + "\n")
        return 0
    lines = [e.line_text() for e in found.entries]
    lines += [f"{item} (skipped)" for item in found.skipped]
    if lines:
        lines.append("")
    lines += summary_lines(found.entries, found.unread)
    write("\n".join(lines) + "\n")
    return 0


def read_baseline(path: Path) -> frozenset[str] | None:
    """Return the finding keys the baseline file at `path` records, None when there is no
    such file yet (it is to be written), or raise UsageError saying what is wrong with it."""
    from dbheal_lsp.suppress import BaselineError, parse_baseline

    name = shown_path(path)
    if not path.exists() and not path.is_symlink():
        return None
    if not path.is_file():
        # A folder, a FIFO (reading it would wait forever) or a dangling link.
        raise UsageError(f"baseline {name} is not a regular file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"baseline {name} is not UTF-8 text (byte {exc.start})") from None
    try:
        return parse_baseline(text)
    except BaselineError as exc:
        raise UsageError(
            f"baseline {name} is corrupt: {_one_line(exc)} (delete it, or rewrite it with "
            "--update-baseline)"
        ) from None


def apply_baseline(
    result: CheckResult, path: Path, known: frozenset[str] | None
) -> tuple[CheckResult, list[str]]:
    """Return `result` without the findings the baseline knows, and what to tell the user.

    With no `known` keys (no file yet, or --update-baseline), the file is (re)written with the
    current findings first, so they are all known: the run shows none and passes.
    """
    from dbheal_lsp.files import atomic_write
    from dbheal_lsp.report import baseline_known_line, baseline_recorded_line
    from dbheal_lsp.suppress import baseline_key, render_baseline, subtract_baseline

    lines: list[str] = []
    name = shown_path(path)
    if known is None:
        text = render_baseline(result.issues)
        keep_mode = path.stat().st_mode if path.is_file() else 0o644  # committed: world-readable
        atomic_write(path, text.encode("utf-8"), mode=keep_mode)
        known = frozenset(baseline_key(i) for i in result.issues)
        lines.append(baseline_recorded_line(len(known), name))
    issues, count = subtract_baseline(result.issues, known)
    if not lines and count:
        lines.append(baseline_known_line(count, name))
    return replace(result, issues=issues), lines


def _with_database_property(sarif: str, label: str) -> str:
    """Return the SARIF log with the database named in its run's property bag."""
    import json

    log = json.loads(sarif)
    for run in log.get("runs", []):
        run.setdefault("properties", {})["database"] = label
    return json.dumps(log, indent=2, ensure_ascii=False)


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
        # A file name that is not UTF-8 reaches us as lone surrogates: shown as \udcff
        # escapes (valid UTF-8, and in JSON the same escape) rather than failing the run.
        sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
        sys.stdout.flush()
    except BrokenPipeError:
        # `dbheal check | head` closed the pipe: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
