"""Measure dbheal on real applications: statements found, clean-app precision, breakage recall
and precision (issue 11). The format is described in bench/accuracy/README.md.

For each ``apps/<name>/app.toml`` (or only ``--app NAME``):

1. extract the app's ``paths`` at its pinned commit from its bare mirror into a corpus folder
   (``--corpus``/<name>, reused when it holds the same commit);
2. write the app's ``[dbheal]`` table as ``[tool.dbheal]`` into the copy's ``pyproject.toml``;
3. build the clean database by running ``apps/<name>/schema.py CHECKOUT OUT_DB``;
4. run dbheal from ``--dbheal-src`` (``python -m dbheal_lsp check``, a fresh cache folder for
   each run): ``--statements`` for the statements found, then the findings on the clean database,
   then the findings on a copy broken by each planted breakage;
5. write ``results/<name>-<label>.json`` and print a markdown table.

A finding with no label in ``labels.toml`` counts as false and is listed as unlabelled, so an
engine change that brings a new finding shows up to be read instead of breaking the run.

Usage (from the repository root)::

    .venv/bin/python bench/accuracy/run.py                       # every app, label "after"
    .venv/bin/python bench/accuracy/run.py --app gpodder
    .venv/bin/python bench/accuracy/run.py --dbheal-src /tmp/dbheal-before --label before

Standard library and git only; exit status 0 when every app was measured, 1 when one could not
be (its error is printed), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # dbheal's own dependency on 3.10
    import tomli as tomllib


HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MIRRORS = Path("/work/.mirror")
CORPUS = Path(tempfile.gettempdir()) / "dbheal-corpus"
# Marks a finished extraction: a copy interrupted half-way is never reused.
STAMP = ".dbheal-corpus-commit"
# "...; 12 statements checked." in the summary line of every dbheal version.
SUMMARY_COUNT = re.compile(r"(\d+) statements? checked")


class BenchError(Exception):
    """A step of the measurement failed; the message says which and why."""


@dataclass(frozen=True)
class Finding:
    """One finding of `dbheal check --format json`, with the fields that identify it."""

    path: str
    line: int
    type: str
    message: str
    severity: str

    @property
    def key(self) -> tuple[str, int, str, str]:
        """Return what makes a finding the same in two runs (file, line, type, message)."""
        return (self.path, self.line, self.type, self.message)


@dataclass(frozen=True)
class StatementSpan:
    """A statement as `--statements` lists it: its file and the lines of its SQL text."""

    path: str
    line: int  # the line of the call's SQL argument: the statement's name
    sql_line: int  # the first and last lines of its SQL text (may lie above the call)
    end_line: int
    call_end_line: int = 0  # the call's last line, its bound parameters included

    def holds(self, path: str, line: int) -> bool:
        """Return whether a finding at `path:line` lies in this statement: in its SQL text,
        or in the call that sends it (a TYPE_MISMATCH points at the bound value)."""
        return path == self.path and (
            self.sql_line <= line <= self.end_line
            or self.line <= line <= self.call_end_line
            or line == self.line
        )

    @property
    def name(self) -> str:
        """Return "path:line", the form breakages.toml uses."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class App:
    """One app of the corpus, as its app.toml describes it."""

    name: str
    folder: Path
    repo: str
    commit: str
    paths: tuple[str, ...]
    database: str
    sql_call_sites: int
    dbheal: Mapping[str, object] = field(default_factory=dict)


def load_app(app_toml: Path) -> App:
    """Return the app described by `app_toml`, or raise BenchError naming the bad key."""
    try:
        data = tomllib.loads(app_toml.read_text(encoding="utf-8"))
        return App(
            name=str(data["name"]),
            folder=app_toml.parent,
            repo=str(data["repo"]),
            commit=str(data["commit"]),
            paths=tuple(str(p) for p in data["paths"]),
            database=str(data.get("database", "app.db")),
            sql_call_sites=int(data.get("sql_call_sites", 0)),
            dbheal=dict(data.get("dbheal", {})),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BenchError(f"{app_toml}: {type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------------------------------------
# The corpus copy


def mirror_dir(repo: str, mirrors: Path = MIRRORS) -> Path:
    """Return the bare git directory of `repo` ("owner/name") among the fetched mirrors."""
    return mirrors / repo.replace("/", "+") / "repo"


def extract(app: App, dest: Path, mirrors: Path = MIRRORS) -> None:
    """Extract the app's paths at its commit into `dest`, unless `dest` already holds them.

    Files are read one by one through `git cat-file --batch` (a `git archive` of the whole tree
    may fail on a blob the mirror lacks); a path that cannot be read is an error.
    """
    stamp = dest / STAMP
    if stamp.is_file() and stamp.read_text().split() == [app.commit, *app.paths]:
        return
    git_dir = mirror_dir(app.repo, mirrors)
    if not git_dir.is_dir():
        raise BenchError(f"no mirror of {app.repo} at {git_dir}")
    listed = _git(git_dir, "ls-tree", "-r", "-z", "--name-only", app.commit, "--", *app.paths)
    names = [n for n in listed.decode().split("\0") if n]
    if not names:
        raise BenchError(f"{app.repo}@{app.commit[:10]} has no files under {list(app.paths)}")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    batch = "".join(f"{app.commit}:{n}\n" for n in names).encode()
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input=batch,
        capture_output=True,
        check=True,
    ).stdout
    pos = 0
    for name in names:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if header[-1] == b"missing":
            raise BenchError(f"{app.repo}: {name} is missing from the mirror")
        size = int(header[2])
        body = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1  # the blob is followed by a newline
        target = partial / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    (partial / STAMP).write_text(" ".join([app.commit, *app.paths]) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)


def _git(git_dir: Path, *args: str) -> bytes:
    done = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True)
    if done.returncode != 0:
        raise BenchError(f"git {args[0]} in {git_dir}: {done.stderr.decode().strip()}")
    return done.stdout


def toml_value(value: object) -> str:
    """Return `value` (str, bool, int, float, list or table of those) written as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{ "
            + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
            + " }"
        )
    raise BenchError(f"cannot write {value!r} as TOML")


def write_config(app: App, checkout: Path) -> None:
    """Write `[tool.dbheal]` from app.toml into the copy's pyproject.toml, replacing any
    `[tool.dbheal]` (and its sub-tables) already there and keeping the rest of the file."""
    pyproject = checkout / "pyproject.toml"
    kept: list[str] = []
    skipping = False
    if pyproject.is_file():
        for line in pyproject.read_text(encoding="utf-8").splitlines():
            header = re.match(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
            if header:
                name = header.group(1).replace('"', "")
                skipping = name == "tool.dbheal" or name.startswith("tool.dbheal.")
            if not skipping:
                kept.append(line)
    settings = {"database": app.database, **app.dbheal}
    table = ["[tool.dbheal]"] + [f"{k} = {toml_value(v)}" for k, v in settings.items()]
    text = "\n".join(kept).rstrip()
    pyproject.write_text((text + "\n\n" if text else "") + "\n".join(table) + "\n", "utf-8")


def build_database(app: App, checkout: Path, python: str) -> Path:
    """Build the clean database with the app's schema.py; return its path."""
    target = checkout / app.database
    for old in checkout.glob(Path(app.database).name + "*"):  # the db and its -wal/backups
        if old.is_file():
            old.unlink()
    done = subprocess.run(
        [python, str(app.folder / "schema.py"), str(checkout), str(target)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not target.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BenchError(f"{app.name}: schema.py failed: " + " | ".join(tail))
    return target


# ------------------------------------------------------------------------------------------
# Running dbheal


@dataclass(frozen=True)
class Dbheal:
    """How to run one dbheal version: its source folder and the Python that runs it."""

    src: Path
    python: str

    def run(
        self, checkout: Path, paths: Sequence[str], *args: str
    ) -> subprocess.CompletedProcess[str]:
        """Run `python -m dbheal_lsp check ARGS PATHS` in `checkout`, with an empty cache."""
        with tempfile.TemporaryDirectory(prefix="dbheal-bench-cache-") as cache:
            env = {**os.environ, "PYTHONPATH": str(self.src), "DBHEAL_CACHE_DIR": cache}
            done = subprocess.run(
                [self.python, "-m", "dbheal_lsp", "check", *args, *paths],
                cwd=checkout,
                env=env,
                capture_output=True,
                text=True,
            )
        if done.returncode not in (0, 1):
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise BenchError(f"dbheal check {' '.join(args)} failed: " + " | ".join(tail))
        return done

    def findings(
        self, checkout: Path, paths: Sequence[str], *args: str
    ) -> tuple[list[Finding], list[str]]:
        """Return the findings of `dbheal check --format json` (with `args`), and the notes it
        printed about files it did not check (an engine mid-change may fail on some: those
        files then look clean, so the notes go into the results to be seen)."""
        done = self.run(checkout, paths, "--format", "json", "--fail-on", "critical", *args)
        notes = [line for line in done.stderr.splitlines() if "not checked" in line]
        try:
            data = json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise BenchError(f"dbheal check printed no JSON: {done.stdout[:200]!r}") from exc
        # Notes come as entries of type NOTE (docs/output.md): not findings, but worth seeing.
        notes += [
            f"{d['path']}:{d['line']}: note: {d['message']}"
            for d in data
            if d["type"] == "NOTE" and "not checked" in str(d["message"])
        ]
        found = [
            Finding(
                path=_posix(str(d["path"]), checkout),
                line=int(d["line"]),
                type=str(d["type"]),
                message=str(d["message"]),
                severity=str(d["severity"]),
            )
            for d in data
            if d["type"] != "NOTE"
        ]
        return found, notes

    def statements(
        self, checkout: Path, paths: Sequence[str]
    ) -> tuple[list[StatementSpan], int, list[str]]:
        """Return (statements found, their count, unread helper calls).

        A version without `--statements` gives no list: then the count comes from the summary
        line of a plain check. A version whose entries lack `end_line` (before issue 11) gets it
        from the file's syntax tree.
        """
        done = subprocess.run(
            [self.python, "-m", "dbheal_lsp", "check", "--help"],
            env={**os.environ, "PYTHONPATH": str(self.src)},
            capture_output=True,
            text=True,
        )
        if "--statements" not in done.stdout:
            text = self.run(checkout, paths, "--format", "text", "--color", "never").stdout
            counts = SUMMARY_COUNT.findall(text)
            return [], int(counts[-1]) if counts else 0, []
        data = json.loads(self.run(checkout, paths, "--statements", "--format", "json").stdout)
        spans = []
        for entry in data["statements"]:
            path = _posix(str(entry["path"]), checkout)
            line = int(entry["line"])
            if entry.get("end_line"):
                spans.append(
                    StatementSpan(
                        path,
                        line,
                        int(entry["sql_line"]),
                        int(entry["end_line"]),
                        int(entry.get("call_end_line") or 0),
                    )
                )
            else:  # an older dbheal: the lines of the SQL text are filled in by `measure`
                spans.append(StatementSpan(path, line, 0, 0))
        unread = [
            f"{u['name']} ({u['count']}, first at {u['first']})" for u in data["unread_calls"]
        ]
        return spans, len(spans), unread


def _posix(path: str, checkout: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        with contextlib.suppress(ValueError):
            p = p.relative_to(checkout)
    return p.as_posix()


def _end_line(file: Path, line: int) -> int:
    """Return the last line of the string expression that starts on `line` of `file` (for
    dbheal versions whose `--statements` gives no end line)."""
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return line
    ends = [
        node.end_lineno or line
        for node in ast.walk(tree)
        if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Name))
        and node.lineno == line
        and not (isinstance(node, ast.Constant) and not isinstance(node.value, str))
    ]
    return max(ends, default=line)


# ------------------------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class Label:
    """A reader's verdict on one clean-app finding."""

    true: bool
    pattern: str
    why: str


def load_labels(path: Path) -> dict[tuple[str, int, str], Label]:
    """Return the labels of labels.toml keyed by (file, line, type)."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        (str(f["file"]), int(f["line"]), str(f["type"])): Label(
            bool(f["true"]), str(f.get("pattern", "")), str(f.get("why", ""))
        )
        for f in data.get("finding", [])
    }


@dataclass(frozen=True)
class BreakageResult:
    """What one planted breakage gave: the affected statements found and missed, and the new
    findings outside them."""

    name: str
    affected: int  # statements it breaks, by reading
    found: int  # of those, the ones with at least one new finding
    new_findings: int  # findings not in the clean run
    new_in_affected: int  # of those, the ones in an affected statement
    missed: list[str]  # affected statements with no new finding
    not_a_statement: list[str]  # affected statements `--statements` does not list
    extra: list[str]  # new findings outside the affected statements


def statement_of(finding: Finding, spans: Iterable[StatementSpan]) -> StatementSpan | None:
    """Return the statement whose SQL text holds the finding's line (the narrowest one)."""
    holding = [s for s in spans if s.holds(finding.path, finding.line)]
    # A statement whose SQL text holds the line first; then the call whose parameters do.
    in_text = [s for s in holding if s.sql_line <= finding.line <= s.end_line]
    return min(in_text or holding, key=lambda s: s.end_line - s.sql_line, default=None)


def fill_text_lines(
    spans: Sequence[StatementSpan], reference: Sequence[StatementSpan], checkout: Path
) -> list[StatementSpan]:
    """Return `spans` with the lines of each statement's SQL text filled in.

    An older dbheal lists statements without them; the same statement (same file and line) as
    the current inventory lists it gives them, else the string expression on its line does.
    Mapping findings to statements is the bench's ruler, not a figure it measures.
    """
    known = {(s.path, s.line): s for s in reference}
    filled = []
    for s in spans:
        if s.end_line:
            filled.append(s)
        elif (s.path, s.line) in known:
            filled.append(known[(s.path, s.line)])
        else:
            filled.append(
                StatementSpan(s.path, s.line, s.line, _end_line(checkout / s.path, s.line))
            )
    return filled


def percent(part: int, whole: int) -> float:
    """Return part/whole in percent, 100 when there is nothing to measure."""
    return 100.0 if whole == 0 else round(100.0 * part / whole, 1)


def measure(app: App, dbheal: Dbheal, corpus: Path, mirrors: Path, label: str) -> dict[str, object]:
    """Run every measurement of one app and return the figures (the results JSON)."""
    checkout = corpus / app.name
    extract(app, checkout, mirrors)
    write_config(app, checkout)
    clean_db = build_database(app, checkout, dbheal.python)
    spans, count, unread = dbheal.statements(checkout, app.paths)
    if any(not s.end_line for s in spans):
        reference, _, _ = Dbheal(REPO, dbheal.python).statements(checkout, app.paths)
        spans = fill_text_lines(spans, reference, checkout)

    labels = load_labels(app.folder / "labels.toml")
    clean, notes = dbheal.findings(checkout, app.paths)
    rows = []
    for f in clean:
        verdict = labels.get((f.path, f.line, f.type))
        rows.append(
            {
                "file": f.path,
                "line": f.line,
                "type": f.type,
                "severity": f.severity,
                "message": f.message,
                "label": "unlabelled" if verdict is None else ("true" if verdict.true else "false"),
                "pattern": verdict.pattern if verdict else "",
                "why": verdict.why if verdict else "",
            }
        )
    true_count = sum(1 for r in rows if r["label"] == "true")
    unlabelled = sum(1 for r in rows if r["label"] == "unlabelled")

    breakages = tomllib.loads((app.folder / "breakages.toml").read_text(encoding="utf-8"))
    clean_keys = {f.key for f in clean}
    known = {s.name for s in spans}
    results: list[BreakageResult] = []
    for breakage in breakages.get("breakage", []):
        with tempfile.TemporaryDirectory(prefix="dbheal-bench-broken-") as tmp:
            broken = Path(tmp) / Path(app.database).name
            shutil.copyfile(clean_db, broken)
            with sqlite3.connect(broken) as db:
                for sql in breakage["sql"]:
                    db.execute(sql)
            db.close()
            found, broken_notes = dbheal.findings(checkout, app.paths, "--database", str(broken))
        notes += [n for n in broken_notes if n not in notes]
        new = sorted(
            {f.key: f for f in found if f.key not in clean_keys}.values(), key=lambda f: f.key
        )
        affected = list(dict.fromkeys(str(a) for a in breakage["affected"]))
        owners = [statement_of(f, spans) for f in new]
        hit = {s.name for s in owners if s is not None}
        in_affected = sum(1 for s in owners if s is not None and s.name in affected)
        results.append(
            BreakageResult(
                name=str(breakage["name"]),
                affected=len(affected),
                found=sum(1 for a in affected if a in hit),
                new_findings=len(new),
                new_in_affected=in_affected,
                missed=[a for a in affected if a not in hit],
                not_a_statement=[a for a in affected if spans and a not in known],
                extra=[
                    f"{f.path}:{f.line} {f.type}: {f.message}"
                    for f, s in zip(new, owners, strict=True)
                    if s is None or s.name not in affected
                ],
            )
        )
    affected_total = sum(r.affected for r in results)
    new_total = sum(r.new_findings for r in results)
    found_total = sum(r.found for r in results)
    return {
        "app": app.name,
        "label": label,
        "repo": app.repo,
        "commit": app.commit,
        "dbheal_src": str(dbheal.src),
        "statements_found": count,
        "sql_call_sites": app.sql_call_sites,
        "unread_calls": unread,
        "not_checked": notes,
        "clean": {
            "total": len(rows),
            "true": true_count,
            "false": len(rows) - true_count - unlabelled,
            "unlabelled": unlabelled,
            "precision": percent(true_count, len(rows)),
            "findings": rows,
        },
        "breakage": {
            "affected": affected_total,
            "found": found_total,
            "recall": percent(found_total, affected_total),
            "new_findings": new_total,
            "precision": percent(sum(r.new_in_affected for r in results), new_total),
            "breakages": [dataclasses.asdict(r) for r in results],
        },
    }


def table(figures: Sequence[Mapping[str, object]]) -> str:
    """Return the markdown table of the figures of several runs."""
    lines = [
        "| app | run | statements / call sites | clean findings (true/false/unlabelled) "
        "| clean precision | breakage recall | breakage precision |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        c = f["clean"]
        b = f["breakage"]
        assert isinstance(c, Mapping) and isinstance(b, Mapping)
        lines.append(
            f"| {f['app']} | {f['label']} | {f['statements_found']} / {f['sql_call_sites']} "
            f"| {c['total']} ({c['true']}/{c['false']}/{c['unlabelled']}) | {c['precision']}% "
            f"| {b['recall']}% ({b['found']}/{b['affected']}) "
            f"| {b['precision']}% (of {b['new_findings']}) |"
        )
    return "\n".join(lines)


def report_unread(result: Mapping[str, object]) -> None:
    """Print to stderr what needs a reader: unlabelled findings, files dbheal did not check."""
    clean = result["clean"]
    assert isinstance(clean, Mapping)
    for row in clean["findings"]:
        if row["label"] == "unlabelled":
            where = f"{row['file']}:{row['line']} {row['type']}"
            print(f"{result['app']}: unlabelled: {where}: {row['message']}", file=sys.stderr)
    for note in result["not_checked"]:  # type: ignore[attr-defined]
        print(f"{result['app']}: {note}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the selected apps; print the table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", help="only this app (repeatable)")
    parser.add_argument("--dbheal-src", type=Path, default=REPO, help="dbheal source tree")
    parser.add_argument("--label", default="after", help="the run's name in results/")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="where apps are extracted")
    parser.add_argument("--python", default=sys.executable, help="runs dbheal and schema.py")
    parser.add_argument(
        "--apps", type=Path, default=HERE / "apps", help="folder of <name>/app.toml"
    )
    parser.add_argument("--results", type=Path, default=HERE / "results", help="output folder")
    parser.add_argument("--mirrors", type=Path, default=MIRRORS, help="bare git mirrors")
    args = parser.parse_args(argv)
    if not (args.dbheal_src / "dbheal_lsp" / "__main__.py").is_file():
        parser.error(f"--dbheal-src {args.dbheal_src}: no dbheal_lsp package there")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.label):
        parser.error(f"--label {args.label!r}: use letters, digits, '.', '_' or '-'")
    tomls = sorted(args.apps.glob("*/app.toml"))
    if args.app:
        unknown = set(args.app) - {t.parent.name for t in tomls}
        if unknown:
            parser.error(f"--app: no apps/{sorted(unknown)[0]}/app.toml")
        tomls = [t for t in tomls if t.parent.name in args.app]
    dbheal = Dbheal(args.dbheal_src.resolve(), args.python)
    args.corpus.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    figures = []
    status = 0
    for app_toml in tomls:
        try:
            app = load_app(app_toml)
            result = measure(app, dbheal, args.corpus, args.mirrors, args.label)
        except (BenchError, OSError, subprocess.CalledProcessError, sqlite3.Error, KeyError) as exc:
            print(f"{app_toml.parent.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        out = args.results / f"{app.name}-{args.label}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        figures.append(result)
        report_unread(result)
    print(table(figures))
    return status


if __name__ == "__main__":
    sys.exit(main())
