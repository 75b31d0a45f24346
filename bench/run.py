"""Time `dbheal check` side by side with its peers, and write the figures as Markdown and JSON.

Targets: the generated project with its schema from a database and migrations
(``bench/generate.py``, default ``bench/generated/project``), the same project with its schema
from the code (``bench/generate.py --schema-from code``, default ``bench/generated/code-schema``)
and ``examples/shop`` when it exists (its database is built first by ``examples/shop/make_db.py``
when there is such a script).

Commands timed on each target, each ``--repeat`` times (default 5) after one untimed warm-up,
in turns (one run of every command per round) so that a slow moment of the machine does not
fall on one tool only:

- ``dbheal check <project> --no-cache --format json``: cold;
- ``dbheal check <project> --format json``: warm, the result cache present (the warm-up run
  after emptying the run's own cache folder, ``$DBHEAL_CACHE_DIR``, writes it, each timed run
  re-reads it);
- ``bandit -q -r <project> -t B608 -f json``;
- ``ruff check --no-cache --select S608 --isolated <project>``;
- ``python -c ...``: ``ast.parse`` of every ``.py`` file of the project, the floor of any
  Python-aware checker.

Each time is the wall time of the whole process (`subprocess` around `time.perf_counter`).
Exit codes 0 and 1 are normal for the checkers (1 means findings). When `dbheal check` is not
available (no executable, or ``dbheal check --help`` fails) it is reported as such and the peers
are measured all the same. There are no timing assertions: the script reports, it does not judge
(its exit code is 1 only when a command failed to run properly).

Output: a Markdown table on stdout and in ``bench/results/check.md``, all figures in
``bench/results/check.json``.

Usage (from the repository root)::

    .venv/bin/python bench/generate.py && .venv/bin/python bench/generate.py --schema-from code
    .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --repeat 10 --no-shop
    .venv/bin/python bench/run.py --peers-only      # bandit, ruff and the floor only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_PROJECT = BENCH_DIR / "generated" / "project"
DEFAULT_CODE_PROJECT = BENCH_DIR / "generated" / "code-schema"
DEFAULT_SHOP = REPO / "examples" / "shop"
DEFAULT_RESULTS = BENCH_DIR / "results"
MANIFEST_NAME = "bench-manifest.json"

PARSE_SNIPPET = """\
import ast, pathlib, sys
root = pathlib.Path(sys.argv[1])
count = 0
for path in sorted(root.rglob("*.py")):
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        continue
    ast.parse(path.read_bytes(), filename=str(path))
    count += 1
print(count)
"""

# (numerator, denominator, target): the ratios the performance targets are stated in, then
# the others the report gives (no target).
RATIOS: tuple[tuple[str, str, float | None], ...] = (
    ("dbheal_cold", "bandit", 0.3),
    ("dbheal_cold", "parse", 2.5),
    ("dbheal_warm", "ruff", 3.0),
    ("dbheal_cold", "ruff", None),
    ("dbheal_warm", "bandit", None),
    ("dbheal_warm", "parse", None),
)


# --------------------------------------------------------------------------------------------
# Running commands
# --------------------------------------------------------------------------------------------


@dataclass
class Findings:
    """What a tool reported: a total (None if it could not be read) and counts per kind."""

    total: int | None
    by_kind: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def text(self) -> str:
        if self.total is None:
            return self.note or "?"
        if not self.by_kind:
            return f"{self.total}" + (f" ({self.note})" if self.note else "")
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items()))
        return f"{self.total} ({kinds})"


@dataclass
class Tool:
    """One command to time on one target."""

    key: str
    label: str
    display: str  # the command as the table shows it, with <project>
    argv: list[str]
    ok_codes: tuple[int, ...]
    parse: Callable[[str], Findings]
    before_warmup: Callable[[], None] | None = None


@dataclass
class Measurement:
    """The timings and the findings of one tool on one target."""

    key: str
    label: str
    command: str
    argv: list[str] = field(default_factory=list)
    available: bool = True
    reason: str = ""  # why not available, or what went wrong
    times: list[float] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    findings: Findings | None = None
    failed: bool = False

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None


@dataclass
class Outcome:
    """The result of one process run."""

    seconds: float
    code: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_once(argv: list[str], cwd: Path, timeout: float) -> Outcome:
    """Run `argv` in `cwd` and return its wall time, exit code and output."""
    env = dict(os.environ, NO_COLOR="1")
    # Measure the tools as installed: byte code cached, as pip leaves it (some sandboxes set
    # PYTHONDONTWRITEBYTECODE, which would recompile every Python tool's modules on each run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        elapsed = time.perf_counter() - start
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return Outcome(elapsed, -1, out, f"timed out after {timeout:g} s", timed_out=True)
    elapsed = time.perf_counter() - start
    return Outcome(elapsed, proc.returncode, proc.stdout, proc.stderr)


def first_line(text: str, limit: int = 160) -> str:
    """Return the last non-empty line of `text` (where errors usually are), shortened."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def find_executable(name: str) -> str | None:
    """Return the tool beside this Python (the virtualenv's bin), else on PATH, else None."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def tool_version(argv: list[str]) -> str:
    """Return the first line `argv` prints (a --version call), or 'unknown'."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0].strip() if proc.returncode == 0 and text else "unknown"


def dbheal_status(explicit: str | None) -> tuple[str | None, str]:
    """Return (executable, '') if `dbheal check` can run, else (None, why not)."""
    exe = explicit or find_executable("dbheal")
    if exe is None:
        return None, "no dbheal executable (in the virtualenv or on PATH)"
    try:
        proc = subprocess.run(
            [exe, "check", "--help"], capture_output=True, text=True, timeout=120, check=False
        )
    except OSError as exc:
        return None, f"{exe}: {exc}"
    except subprocess.TimeoutExpired:
        return None, "`dbheal check --help` did not answer within 120 s"
    if proc.returncode != 0:
        why = first_line(proc.stderr or proc.stdout) or f"exit {proc.returncode}"
        return None, f"`dbheal check --help` failed: {why}"
    return exe, ""


# --------------------------------------------------------------------------------------------
# Reading what the tools found
# --------------------------------------------------------------------------------------------


def load_json(text: str) -> object:
    """Parse `text` as JSON, skipping anything printed before the first bracket."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        if not starts:
            raise
        return json.loads(text[min(starts) :])


def count_by(items: list[object], *keys: str) -> dict[str, int]:
    """Count the dicts in `items` by the first of `keys` each one has."""
    counts: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = next((str(item[k]) for k in keys if item.get(k) is not None), "?")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def parse_dbheal(stdout: str) -> Findings:
    """Count the issues of `dbheal check --format json` (a list, or an object holding one)."""
    try:
        data = load_json(stdout)
    except json.JSONDecodeError:
        return Findings(None, note="output is not JSON")
    issues: object = data
    if isinstance(data, dict):
        issues = next(
            (data[k] for k in ("issues", "findings", "results") if isinstance(data.get(k), list)),
            None,
        )
    if not isinstance(issues, list):
        return Findings(None, note="no list of issues in the JSON")
    return Findings(len(issues), count_by(issues, "type", "rule", "code"))


def parse_bandit(stdout: str) -> Findings:
    """Count the results of `bandit -f json`."""
    try:
        data = load_json(stdout)
    except json.JSONDecodeError:
        return Findings(None, note="output is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return Findings(None, note="no results in the JSON")
    results: list[object] = data["results"]
    errors = data.get("errors")
    note = f"{len(errors)} file errors" if isinstance(errors, list) and errors else ""
    return Findings(len(results), count_by(results, "test_id"), note)


def parse_ruff(stdout: str) -> Findings:
    """Count the diagnostics of `ruff check` from its summary line."""
    if "All checks passed" in stdout:
        return Findings(0)
    found = re.search(r"Found (\d+) errors?", stdout)
    if found:
        codes = re.findall(r"\b(S608)\b", stdout)
        return Findings(int(found.group(1)), {"S608": len(codes)} if codes else {})
    return Findings(None, note="no summary line")


def parse_floor(stdout: str) -> Findings:
    """Read the number of files the bare-parse command parsed."""
    text = stdout.strip()
    if text.isdigit():
        return Findings(None, note=f"— ({int(text):,} files parsed)")
    return Findings(None, note="?")


# --------------------------------------------------------------------------------------------
# One target
# --------------------------------------------------------------------------------------------


def project_root(path: Path) -> Path:
    """Return the nearest folder at or above `path` holding a pyproject.toml (else `path`)."""
    for folder in (path, *path.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return path


def remove_cache(root: Path) -> None:
    """Empty dbheal's cache folder of this run (`$DBHEAL_CACHE_DIR`, set by `main` to a folder
    of its own: never the user's)."""
    cache = Path(os.environ.get("DBHEAL_CACHE_DIR", root / ".dbheal" / "cache"))
    if cache.is_dir():
        shutil.rmtree(cache)


def tools_for(project: Path, dbheal: str | None, dbheal_reason: str) -> list[Tool | Measurement]:
    """Return the commands to time on `project` (a Measurement stands for an unavailable one)."""
    p = str(project)
    out: list[Tool | Measurement] = []
    cold_display = "dbheal check <project> --no-cache --format json"
    warm_display = "dbheal check <project> --format json (2nd run)"
    if dbheal is None:
        for key, label, display in (
            ("dbheal_cold", "dbheal check, cold", cold_display),
            ("dbheal_warm", "dbheal check, warm", warm_display),
        ):
            out.append(Measurement(key, label, display, available=False, reason=dbheal_reason))
    else:
        root = project_root(project)
        out.append(
            Tool(
                "dbheal_cold",
                "dbheal check, cold",
                cold_display,
                [dbheal, "check", p, "--no-cache", "--format", "json"],
                (0, 1),
                parse_dbheal,
            )
        )
        out.append(
            Tool(
                "dbheal_warm",
                "dbheal check, warm",
                warm_display,
                [dbheal, "check", p, "--format", "json"],
                (0, 1),
                parse_dbheal,
                before_warmup=lambda: remove_cache(root),
            )
        )
    bandit = find_executable("bandit")
    bandit_display = "bandit -q -r <project> -t B608 -f json"
    if bandit is None:
        missing = "bandit is not installed"
        out.append(
            Measurement("bandit", "bandit B608", bandit_display, available=False, reason=missing)
        )
    else:
        argv = [bandit, "-q", "-r", p, "-t", "B608", "-f", "json"]
        out.append(Tool("bandit", "bandit B608", bandit_display, argv, (0, 1), parse_bandit))
    ruff = find_executable("ruff")
    ruff_display = "ruff check --no-cache --select S608 --isolated <project>"
    if ruff is None:
        missing = "ruff is not installed"
        out.append(Measurement("ruff", "ruff S608", ruff_display, available=False, reason=missing))
    else:
        argv = [ruff, "check", "--no-cache", "--select", "S608", "--isolated", p]
        out.append(Tool("ruff", "ruff S608", ruff_display, argv, (0, 1), parse_ruff))
    out.append(
        Tool(
            "parse",
            "bare ast.parse (floor)",
            "python -c '<ast.parse every .py file>' <project>",
            [sys.executable, "-c", PARSE_SNIPPET, p],
            (0,),
            parse_floor,
        )
    )
    return out


def measure(
    project: Path, tools: list[Tool | Measurement], repeat: int, timeout: float
) -> list[Measurement]:
    """Warm every command up once, then time `repeat` rounds of all of them in turn."""
    results: dict[str, Measurement] = {}
    runnable: list[Tool] = []
    for tool in tools:
        if isinstance(tool, Measurement):
            results[tool.key] = tool
            continue
        m = Measurement(tool.key, tool.label, tool.display, argv=tool.argv)
        results[tool.key] = m
        if tool.before_warmup:
            tool.before_warmup()
        outcome = run_once(tool.argv, project, timeout)
        print(
            f"  warm-up {tool.label}: {outcome.seconds:.3f} s (exit {outcome.code})",
            file=sys.stderr,
        )
        if (
            outcome.code not in tool.ok_codes
            or "Traceback (most recent call last)" in outcome.stderr
        ):
            m.failed = True
            m.exit_codes.append(outcome.code)
            m.reason = f"exit {outcome.code}: {first_line(outcome.stderr or outcome.stdout)}"
            continue
        runnable.append(tool)

    for round_no in range(1, repeat + 1):
        for tool in runnable:
            m = results[tool.key]
            if m.failed:
                continue
            outcome = run_once(tool.argv, project, timeout)
            m.exit_codes.append(outcome.code)
            # Exit 1 means findings, but a crash exits 1 too: a traceback is a failure.
            if outcome.code not in tool.ok_codes or "Traceback (most recent" in outcome.stderr:
                m.failed = True
                m.reason = f"exit {outcome.code}: {first_line(outcome.stderr or outcome.stdout)}"
                continue
            m.times.append(outcome.seconds)
            m.findings = tool.parse(outcome.stdout)
        line = ", ".join(
            f"{results[t.key].label} {results[t.key].times[-1]:.3f}"
            for t in runnable
            if results[t.key].times and not results[t.key].failed
        )
        print(f"  round {round_no}/{repeat}: {line}", file=sys.stderr)
    return [results[t.key] for t in tools]


def project_facts(project: Path) -> dict[str, object]:
    """Return the size of `project`: from the generator's manifest, else by counting."""
    manifest = project / MANIFEST_NAME
    if manifest.is_file():
        data: dict[str, object] = json.loads(manifest.read_text(encoding="utf-8"))
        data.pop("queries", None)
        return data
    files = [p for p in project.rglob("*.py") if ".dbheal" not in p.parts]
    lines = sum(p.read_text(encoding="utf-8", errors="replace").count("\n") for p in files)
    return {"files": len(files), "lines": lines}


def describe(facts: dict[str, object]) -> str:
    """Return one sentence about a target's size (and seeded problems)."""
    text = f"{facts.get('files', 0):,} Python files, {facts.get('lines', 0):,} lines"
    if "statements" in facts:
        text += (
            f", {facts['statements']:,} SQL statements ({facts['distinct_statements']:,} "
            f"distinct texts) over {facts['tables']} tables"
        )
    problems = facts.get("seeded_problems")
    if isinstance(problems, dict):
        seeded = ", ".join(f"{k} {v}" for k, v in problems.items())
        text += f"; seeded problems: {seeded}"
        text += f"; safe f-string `IN (?, ...)` lists: {facts.get('safe_in_lists', 0)}"
    return text + "."


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def git(*args: str) -> str:
    """Return what `git args` prints in the repository, or '' if it fails."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def cpu_model() -> str:
    """Return the CPU's model name from /proc/cpuinfo, or '' where there is none (not Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine_info(dbheal: str | None, dbheal_reason: str) -> dict[str, object]:
    """Return what the figures depend on: CPUs, Python, SQLite, tool versions, commit."""
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    commit = git("rev-parse", "--short", "HEAD") or "none"
    if commit != "none" and git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    bandit, ruff = find_executable("bandit"), find_executable("ruff")
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu_model() or "unknown",
        "nproc": nproc,
        "cpu_count": os.cpu_count(),
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "commit": commit,
        "bandit": tool_version([bandit, "--version"]) if bandit else "not installed",
        "ruff": tool_version([ruff, "--version"]) if ruff else "not installed",
        "dbheal": tool_version([dbheal, "--version"])
        if dbheal
        else f"not available ({dbheal_reason})",
    }


def fmt(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3f}"


def ratio_rows(measurements: list[Measurement]) -> list[dict[str, object]]:
    """Return the ratios: measured (of medians and of minima) or why not, and for those with a
    target, whether the medians meet it and dbheal's time budget."""
    by_key = {m.key: m for m in measurements}
    rows: list[dict[str, object]] = []
    for num, den, target in RATIOS:
        top, bottom = by_key.get(num), by_key.get(den)
        budget = bottom.median * target if bottom and bottom.median and target else None
        row: dict[str, object] = {
            "ratio": f"{num} / {den}",
            "target": target,
            "budget_seconds": budget,
            "measured": None,
            "measured_min": None,
            "met": None,
            "note": "",
        }
        if top is None or not top.available:
            row["note"] = "pending: dbheal check not available"
        elif top.failed or top.median is None or top.best is None:
            row["note"] = f"pending: {top.label} failed"
        elif bottom is None or not bottom.median or not bottom.best:
            row["note"] = f"{den} not measured"
        else:
            value = top.median / bottom.median
            row["measured"] = value
            row["measured_min"] = top.best / bottom.best
            row["met"] = value <= target if target is not None else None
        rows.append(row)
    return rows


RATIO_LABELS = {
    "dbheal_cold / bandit": "dbheal cold / bandit",
    "dbheal_cold / parse": "dbheal cold / bare parse",
    "dbheal_warm / ruff": "dbheal warm / ruff",
    "dbheal_cold / ruff": "dbheal cold / ruff",
    "dbheal_warm / bandit": "dbheal warm / bandit",
    "dbheal_warm / parse": "dbheal warm / bare parse",
}


def markdown(info: dict[str, object], targets: list[dict[str, object]], repeat: int) -> str:
    """Return the whole report as Markdown."""
    out = ["# `dbheal check` against its peers", ""]
    out.append(
        f"- {info['date']}; commit {info['commit']}; {info['platform']}; "
        f"{info['nproc']} CPUs (nproc), {info['cpu']}; {info['memory']} RAM"
    )
    out.append(f"- Python {info['python']}; SQLite {info['sqlite']}")
    out.append(f"- {info['bandit']}; {info['ruff']}; dbheal: {info['dbheal']}")
    out.append(
        f"- {repeat} timed runs of each command after one untimed warm-up, in rounds; wall "
        "time of the whole process in seconds (median and min)"
    )
    for target in targets:
        out += ["", f"## {target['name']} (`{target['path']}`)", ""]
        if target.get("skipped"):
            out.append(f"Skipped: {target['skipped']}")
            continue
        out += [str(target["description"]), ""]
        out.append("| command | median s | min s | findings | runs, exit codes |")
        out.append("|---|---:|---:|---|---|")
        measurements = target["measurements"]
        assert isinstance(measurements, list)
        for m in measurements:
            assert isinstance(m, Measurement)
            if not m.available:
                status = f"not available: {m.reason}"
                out.append(f"| {m.label}: `{m.command}` | — | — | — | {status} |")
                continue
            codes = sorted(set(m.exit_codes))
            status = f"{len(m.times)}, exit {'/'.join(str(c) for c in codes) or '—'}"
            if m.failed:
                status = f"failed ({m.reason})"
            findings = m.findings.text() if m.findings else "—"
            out.append(
                f"| {m.label}: `{m.command}` | {fmt(m.median)} | {fmt(m.best)} | "
                f"{findings} | {status} |"
            )
        out += ["", "| ratio | target | of medians | of minima | dbheal budget here |"]
        out.append("|---|---:|---:|---:|---:|")
        ratios = target["ratios"]
        assert isinstance(ratios, list)
        for r in ratios:
            measured, best = r["measured"], r["measured_min"]
            if isinstance(measured, float) and isinstance(best, float):
                shown = f"{measured:.2f}"
                if r["met"] is not None:
                    shown += " (met)" if r["met"] else " (missed)"
                shown_min = f"{best:.2f}"
            else:
                shown, shown_min = str(r["note"]), "—"
            budget = r["budget_seconds"]
            budget_text = f"≤ {budget:.3f} s" if isinstance(budget, float) else "—"
            goal = f"≤ {r['target']}" if r["target"] is not None else "—"
            label = RATIO_LABELS.get(str(r["ratio"]), str(r["ratio"]))
            out.append(f"| {label} | {goal} | {shown} | {shown_min} | {budget_text} |")
    return "\n".join(out) + "\n"


def prepare_shop(shop: Path, timeout: float) -> str:
    """Build the shop example's database if it has a make_db.py; return an error or ''."""
    script = shop / "make_db.py"
    if not script.is_file():
        return ""
    outcome = run_once([sys.executable, str(script)], REPO, timeout)
    if outcome.code != 0:
        return f"make_db.py failed (exit {outcome.code}): {first_line(outcome.stderr)}"
    return ""


def write_results(
    folder: Path, info: dict[str, object], targets: list[dict[str, object]], repeat: int
) -> None:
    """Print the Markdown report and write it to `folder`/check.md, all figures to check.json."""
    report = markdown(info, targets, repeat)
    print(report)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "check.md").write_text(report, encoding="utf-8")
    payload = {
        "machine": info,
        "repeat": repeat,
        "targets": [
            {
                **{k: v for k, v in t.items() if k != "measurements"},
                "measurements": [
                    {**asdict(m), "median": m.median, "min": m.best}
                    for m in t.get("measurements", [])  # type: ignore[attr-defined]
                ],
            }
            for t in targets
        ],
    }
    (folder / "check.json").write_text(
        json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {folder / 'check.md'} and check.json", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=(
            "Time `dbheal check` (cold and warm) against bandit B608, ruff S608 and a bare "
            "ast.parse of every file, on the generated project and examples/shop; print a "
            "Markdown table and write bench/results/check.md and check.json."
        ),
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (default: 5)")
    parser.add_argument(
        "--project",
        type=Path,
        default=DEFAULT_PROJECT,
        help="the generated project (default: bench/generated/project)",
    )
    parser.add_argument(
        "--code-project",
        type=Path,
        default=DEFAULT_CODE_PROJECT,
        help="the generated project with its schema from the code (default: "
        "bench/generated/code-schema)",
    )
    parser.add_argument(
        "--no-code", action="store_true", help="do not measure the schema-from-code project"
    )
    parser.add_argument(
        "--shop", type=Path, default=DEFAULT_SHOP, help="the example app (default: examples/shop)"
    )
    parser.add_argument("--no-shop", action="store_true", help="do not measure examples/shop")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS,
        help="where check.md and check.json go (default: bench/results)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per run (default: 600)"
    )
    parser.add_argument(
        "--dbheal", help="the dbheal executable (default: the virtualenv's, else PATH)"
    )
    parser.add_argument(
        "--peers-only", action="store_true", help="measure bandit, ruff and the floor only"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.peers_only:
        dbheal, dbheal_reason = None, "left out by --peers-only"
    else:
        dbheal, dbheal_reason = dbheal_status(args.dbheal)
    if dbheal is None:
        print(
            f"dbheal check: not available ({dbheal_reason}); measuring the peers", file=sys.stderr
        )
    info = machine_info(dbheal, dbheal_reason)

    # dbheal's caches of this run go to a folder of its own, emptied before each warm-up.
    os.environ["DBHEAL_CACHE_DIR"] = tempfile.mkdtemp(prefix="dbheal-bench-cache-")
    candidates: list[tuple[str, Path]] = [("Generated project", args.project.resolve())]
    if not args.no_code:
        candidates.append(("Generated project, schema from code", args.code_project.resolve()))
    if not args.no_shop:
        candidates.append(("examples/shop", args.shop.resolve()))
    targets: list[dict[str, object]] = []
    failed = False
    measured_any = False
    for name, path in candidates:
        shown = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
        target: dict[str, object] = {"name": name, "path": shown}
        targets.append(target)
        if not path.is_dir():
            hint = ""
            if name.startswith("Generated"):
                code = " --schema-from code" if "code" in name else ""
                hint = f" (run bench/generate.py{code} first)"
            target["skipped"] = f"{shown} does not exist{hint}"
            print(f"{name}: skipped, {target['skipped']}", file=sys.stderr)
            continue
        if name == "examples/shop":
            problem = prepare_shop(path, args.timeout)
            if problem:
                target["skipped"] = problem
                failed = True
                continue
        print(f"{name} ({shown}):", file=sys.stderr)
        facts = project_facts(path)
        measurements = measure(
            path, tools_for(path, dbheal, dbheal_reason), args.repeat, args.timeout
        )
        failed |= any(m.failed for m in measurements)
        measured_any = True
        target.update(
            facts=facts,
            description=describe(facts),
            measurements=measurements,
            ratios=ratio_rows(measurements),
        )

    write_results(args.results_dir, info, targets, args.repeat)
    shutil.rmtree(os.environ["DBHEAL_CACHE_DIR"], ignore_errors=True)
    if not measured_any:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
