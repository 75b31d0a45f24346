"""The package's layering, enforced: which parts of dbheal_lsp may import which.

`make lint` runs this file; tests/test_layers.py runs it on the package and on planted
violations. Every import counts, including those inside functions (a lazy import is still a
dependency). The contracts, lowest layer first:

- the base modules (domain values, files) import no layer above them; the settings (config.py)
  read the rule registry for each rule's default severity, and nothing else of the engine;
- the engine (`analysis`, `rules`, `lookup`) never imports `fixes`, `report` or a front door;
- `fixes` never imports a front door;
- the front doors (`lsp`, `admin`, `hook`, `runtime`) never import each other or the CLI; the
  CLI is the one door that may start the others (`dbheal serve`, `dbheal admin`, `dbheal hook`);
- only `lsp` imports pygls and lsprotocol;
- only the SQLite back end (`databases.sqlite`) imports `sqlite3`, and only the PostgreSQL back
  end (`databases.postgres`) imports `psycopg`: the rest reaches a database through the seam
  (databases/database.py), save the modules of `OWNED_PACKAGE_EXEMPTIONS`;
- nothing above the database seam imports a back end's modules (`databases.sqlite.*`,
  `databases.postgres.*`), nor one back end another's: only
  the seam itself (`databases/__init__.py`, `databases/schema_fixes.py`) chooses one, and the
  runtime wrapper, which wraps the application's own sqlite3 connections, may use it directly.
- a language's own package (`languages/python`) is imported only by the languages themselves and
  the registry, `languages/__init__.py`: the rest reaches it through the language seam.

Usage: python scripts/check_layers.py [PACKAGE_DIR]  (exit 1 and one line per violation).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "dbheal_lsp"

#: Each part of the package, by module-name prefix (the longest prefix wins).
PARTS: tuple[tuple[str, str], ...] = (
    # The source languages and database back ends sit beside the engine: it reaches them through
    # their seams (languages/language.py, databases/database.py).
    ("dbheal_lsp.languages.python", "python"),
    ("dbheal_lsp.languages.javascript", "javascript"),
    ("dbheal_lsp.languages", "languages"),
    ("dbheal_lsp.databases.sqlite", "sqlite"),
    ("dbheal_lsp.databases.postgres", "postgres"),
    ("dbheal_lsp.databases", "databases"),
    ("dbheal_lsp.analysis", "engine"),
    ("dbheal_lsp.rules", "engine"),
    ("dbheal_lsp.lookup", "engine"),
    ("dbheal_lsp.fixes", "fixes"),
    ("dbheal_lsp.report", "report"),
    # `python -m dbheal_lsp.lsp` is a command line (`dbheal serve`), as `python -m dbheal_lsp` is.
    ("dbheal_lsp.lsp.__main__", "cli"),
    ("dbheal_lsp.lsp", "lsp"),
    ("dbheal_lsp.admin", "admin"),
    ("dbheal_lsp.hook", "hook"),
    ("dbheal_lsp.runtime", "runtime"),
    ("dbheal_lsp.cli", "cli"),
    ("dbheal_lsp.__main__", "cli"),
    ("dbheal_lsp.config", "config"),
    ("dbheal_lsp", "base"),
)

FRONT_DOORS = frozenset({"lsp", "admin", "hook", "runtime", "cli"})

#: part → the parts it must never import.
#: The back ends behind the database seam: above it, code reaches them through
#: databases/database.py and databases/schema_fixes.py only. The runtime wrapper is the
#: exception: it wraps the application's own sqlite3 connections (a wrapper per driver).
BACK_ENDS = frozenset({"sqlite", "postgres"})

FORBIDDEN: dict[str, frozenset[str]] = {
    "base": frozenset({"config", "engine", "fixes", "report"}) | FRONT_DOORS | BACK_ENDS,
    # The settings take each rule's default severity from the rule registry (rules/).
    "config": frozenset({"fixes", "report"}) | FRONT_DOORS | BACK_ENDS,
    "engine": frozenset({"fixes", "report"}) | FRONT_DOORS | BACK_ENDS,
    # A language knows no database back end, a back end no language: each reaches the other's
    # seam only (the SchemaError of databases/database.py, the Statement of the engine).
    # A language knows no other language: what they share is the engine's.
    "python": frozenset({"fixes", "report", "javascript"}) | FRONT_DOORS | BACK_ENDS,
    "javascript": frozenset({"fixes", "report", "python"}) | FRONT_DOORS | BACK_ENDS,
    "languages": frozenset({"fixes", "report"}) | FRONT_DOORS | BACK_ENDS,
    "sqlite": frozenset({"fixes", "report", "python", "javascript", "languages", "postgres"})
    | FRONT_DOORS,
    # A back end knows no other back end: another database file reaches the seam.
    "postgres": frozenset({"fixes", "report", "python", "javascript", "languages", "sqlite"})
    | FRONT_DOORS,
    "databases": frozenset({"fixes", "report", "python", "javascript", "languages"}) | FRONT_DOORS,
    "fixes": FRONT_DOORS | BACK_ENDS,
    "report": frozenset({"fixes"}) | FRONT_DOORS | BACK_ENDS,
    "lsp": FRONT_DOORS - {"lsp"} | BACK_ENDS,
    "admin": FRONT_DOORS - {"admin"} | BACK_ENDS,
    "hook": FRONT_DOORS - {"hook"} | BACK_ENDS,
    "runtime": FRONT_DOORS - {"runtime"},
    "cli": BACK_ENDS,
}

#: Packages (third-party, or a database driver of the standard library) only one part may import.
OWNED_PACKAGES: dict[str, str] = {
    "pygls": "lsp",
    "lsprotocol": "lsp",
    "sqlite3": "sqlite",
    # PostgreSQL's driver: only its back end imports it (lazily: psycopg costs ~0.3 s to import).
    "psycopg": "postgres",
}

#: Package → module-name prefixes that may import it besides its owner, each with its reason.
OWNED_PACKAGE_EXEMPTIONS: dict[str, frozenset[str]] = {
    "sqlite3": frozenset(
        {
            # dbheal's own history store is a SQLite file whatever the user's database is: its
            # file format, not a back end.
            "dbheal_lsp.fixes.state",
            "dbheal_lsp.fixes.state_schema",
            "dbheal_lsp.fixes.state_logs",
            # The runtime wrapper wraps the application's own sqlite3 connections: a wrapper of
            # one driver by nature, as each further driver will need its own.
            "dbheal_lsp.runtime",
        }
    ),
}
#: The packages of the source languages (parts): only `languages` (the registry) and the
#: languages themselves import them.
LANGUAGE_PARTS = frozenset({"python", "javascript"})


@dataclass(frozen=True)
class Violation:
    """One import that breaks a contract."""

    path: str
    line: int
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}: {self.reason}"


def part_of(module: str) -> str | None:
    """Return the part a dbheal_lsp module belongs to, or None for another package."""
    for prefix, part in PARTS:
        if module == prefix or module.startswith(prefix + "."):
            return part
    return None


def module_name(path: Path, package_dir: Path) -> str:
    """Return the dotted name of the module at `path` in the package at `package_dir`."""
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Yield (line, absolute module name) for every import in `tree`, nested ones included."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            # `from pkg import mod` may name a module: count both the package and pkg.mod.
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def violations(package_dir: Path) -> list[Violation]:
    """Return every import in the package at `package_dir` that breaks a contract."""
    found: list[Violation] = []
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, package_dir)
        importer = part_of(module)
        if importer is None:
            continue
        tree = ast.parse(path.read_bytes(), filename=str(path))
        shown = path.relative_to(package_dir.parent).as_posix()
        seen: set[tuple[int, str]] = set()
        for line, name in imported_modules(tree, module, path.name == "__init__.py"):
            reason = _broken_contract(importer, name, module)
            if reason and (line, reason) not in seen:
                seen.add((line, reason))
                found.append(Violation(shown, line, module, name, reason))
    return found


def _broken_contract(importer: str, name: str, module: str) -> str | None:
    top = name.partition(".")[0]
    owner = OWNED_PACKAGES.get(top)
    if owner is not None and importer != owner and not _exempt(top, module):
        return f"only {owner} imports {top}"
    if top != PACKAGE:
        return None
    imported = part_of(name)
    if imported is not None and imported in FORBIDDEN[importer]:
        return f"{importer} must not import {imported}"
    if imported in LANGUAGE_PARTS and importer not in LANGUAGE_PARTS | {"languages"}:
        return f"{importer} must not import {imported}: only through languages/language.py"
    return None


def _exempt(package: str, module: str) -> bool:
    """Return whether `module` may import the owned `package` all the same."""
    return any(
        module == prefix or module.startswith(prefix + ".")
        for prefix in OWNED_PACKAGE_EXEMPTIONS.get(package, ())
    )


def main(argv: list[str]) -> int:
    """Print the violations of the package given (default: dbheal_lsp beside this script)."""
    package_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent.parent / PACKAGE
    found = violations(package_dir)
    for violation in found:
        print(violation)
    if found:
        print(f"{len(found)} import(s) break the layering (scripts/check_layers.py says why)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
