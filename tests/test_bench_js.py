"""bench/bench_js.py on tiny corpora: the two projects are equal in lines, give the same
findings, and the figures are written (no time is judged here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_js.py"


def test_bench_js_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_js", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_js"] = bench
    spec.loader.exec_module(bench)
    out, results = tmp_path / "corpora", tmp_path / "results"
    argv = ["--lines", "400", "--repeat", "1", "--jobs", "1", "--out", str(out)]
    assert bench.main([*argv, "--results", str(results)]) == 0
    python = sorted(p.name for p in (out / "python").rglob("*.py"))
    scripts = sorted(p.name for p in (out / "javascript").rglob("module_*"))
    assert len(python) == len(scripts) == 4 and {p[-3:] for p in scripts} == {".js", ".ts"}
    data = json.loads((results / "js_vs_python.json").read_text())
    assert data["lines"] == sum(
        len(p.read_text().splitlines()) for p in (out / "javascript").rglob("module_*")
    )
    (row,) = data["rows"]
    assert row["findings"]["python"] == row["findings"]["javascript"]
    assert row["findings"]["python"] == {"MISSING_COLUMN": 2, "SELECT_STAR": 2}
    assert "| 1 |" in (results / "js_vs_python.md").read_text()
