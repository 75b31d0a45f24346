"""scripts/check_sizes.py: no module over 500 lines, class over 400 or function over 80 in the
package, and each kind of violation is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parent.parent


check_sizes = load_script("check_sizes")


def _package(tmp_path: Path, rel: str, source: str) -> Path:
    package = tmp_path / "dbheal_lsp"
    (package / rel).parent.mkdir(parents=True, exist_ok=True)
    (package / rel).write_text(source)
    return package


def _function(name: str, body_lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(body_lines))
    return f"{indent}def {name}() -> None:\n{body}"


def test_the_package_keeps_its_modules_classes_and_functions_small() -> None:
    assert check_sizes.violations(ROOT / "dbheal_lsp") == []


def test_a_long_module_is_caught(tmp_path: Path) -> None:
    package = _package(tmp_path, "big.py", "X = 1\n" * 501)
    assert check_sizes.violations(package) == [
        "dbheal_lsp/big.py: module has 501 lines (limit 500)"
    ]


def test_a_module_at_the_limit_passes(tmp_path: Path) -> None:
    package = _package(tmp_path, "big.py", "X = 1\n" * 500)
    assert check_sizes.violations(package) == []


def test_a_long_function_is_caught_and_one_at_the_limit_passes(tmp_path: Path) -> None:
    source = _function("long", 80) + "\n\n" + _function("fits", 79)
    package = _package(tmp_path, "funcs.py", source)
    assert check_sizes.violations(package) == [
        "dbheal_lsp/funcs.py:1: function long has 81 lines (limit 80)"
    ]


def test_a_long_method_is_caught_inside_a_small_class(tmp_path: Path) -> None:
    source = "class Small:\n" + _function("method", 85, indent="    ")
    package = _package(tmp_path, "methods.py", source)
    found = check_sizes.violations(package)
    assert found == ["dbheal_lsp/methods.py:2: function method has 86 lines (limit 80)"]


def test_a_long_class_of_short_methods_is_caught(tmp_path: Path) -> None:
    methods = "\n".join(_function(f"m{i}", 40, indent="    ") for i in range(10))
    package = _package(tmp_path, "classes.py", "class Large:\n" + methods)
    found = check_sizes.violations(package)
    assert len(found) == 1
    assert found[0].startswith("dbheal_lsp/classes.py:1: class Large has ")


def test_decorators_count_towards_a_function(tmp_path: Path) -> None:
    decorators = "@staticmethod\n" * 2
    package = _package(tmp_path, "deco.py", decorators + _function("wrapped", 79))
    assert check_sizes.violations(package) == [
        "dbheal_lsp/deco.py:3: function wrapped has 82 lines (limit 80)"
    ]


def test_main_prints_each_violation_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = _package(tmp_path, "big.py", "X = 1\n" * 600)
    assert check_sizes.main(["check_sizes.py", str(package)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "dbheal_lsp/big.py: module has 600 lines (limit 500)"
    assert out[-1].startswith("1 oversized")
