"""`dbheal check`: check the SQL of the source files under PATHS, with a baseline if asked.

A command module of `dbheal_lsp.cli` (`COMMANDS`, `add_commands`, `run`).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp import __version__
from dbheal_lsp.cli import UsageError
from dbheal_lsp.cli.output import for_display, one_line, shown_path, use_color, write
from dbheal_lsp.cli.project import (
    add_project_arguments,
    database_label,
    database_notes,
    load_project_from,
)
from dbheal_lsp.model import CheckResult, Severity

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

COMMANDS = frozenset({"check"})
# The end of the summary line, where the database's name goes ("checked against app.db").
_SUMMARY_END = re.compile(r" checked(, \d+ of them partly)?\.$")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `check` command to the `dbheal` parser."""
    check = commands.add_parser(
        "check",
        help="find SQL in code and check it against the database and migrations",
        description="Find every SQL statement in the Python, JavaScript and TypeScript files "
        "under PATHS and check it "
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


def run(args: argparse.Namespace) -> int:
    """Run `dbheal check` and return its exit status."""
    from dbheal_lsp.config import ConfigError, split_pattern_warnings
    from dbheal_lsp.databases.database import SchemaError
    from dbheal_lsp.fixes.state_logs import record_cli_scan
    from dbheal_lsp.report import exit_code

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
    output = _render(result, project, args.format, args.color)
    if args.format == "text":
        output = "\n".join([output, *baseline_lines])
    else:
        # Standard output stays one valid JSON or SARIF document.
        for line in baseline_lines:
            print(f"dbheal: note: {line}", file=sys.stderr)
    write(output + "\n")
    return exit_code(result, project.config.fail_on)


def _render(result: CheckResult, project: Project, output_format: str, color: str) -> str:
    """Return the report of `result` in `output_format`, naming the database it was checked
    against."""
    from dbheal_lsp.report import render_json, render_sarif, render_text

    label = database_label(project)
    if output_format == "json":
        # Paths relative to the project root (docs/output.md), wherever the command runs: a
        # script's output does not depend on its working directory.
        return render_json(result)
    shown = for_display(result, project.config.root)
    if output_format == "sarif":
        return _with_database_property(
            render_sarif(shown, tool_version=__version__, root=Path.cwd()), label
        )
    output = render_text(shown, color=use_color(color))
    # The summary line names the database: "...; 3 statements checked against app.db."
    summary = _SUMMARY_END.search(output)
    if summary is None:
        return output + f"\nDatabase: {label}"
    return output[: summary.start()] + f" checked against {label}{summary.group(1) or ''}."


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
            f"baseline {name} is corrupt: {one_line(exc)} (delete it, or rewrite it with "
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


def _progress_bar(done: int, total: int) -> None:
    if total < 200:
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} files")
    sys.stderr.flush()
