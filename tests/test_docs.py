"""The docs and the code name the same things: every setting, command and CLI flag that exists
is documented, and every one the docs name exists (the sqlite-utils `test_docs.py` idea)."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from dbheal_lsp import cli, config
from dbheal_lsp.lsp import settings as editor_settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))


def _docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def _table_keys(path: Path, heading: str) -> set[str]:
    """The `key` column of the first table under `heading` in `path`."""
    text = path.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    rows = re.search(r"\n\| key \|.*?\n\|---.*?\n((?:\|.*\n)+)", section)
    assert rows, f"no settings table under {heading!r} in {path.name}"
    return {re.match(r"\| `([^`]+)`", row).group(1) for row in rows.group(1).splitlines()}  # type: ignore[union-attr]


def test_every_pyproject_setting_is_documented_and_every_documented_one_exists() -> None:
    documented = _table_keys(ROOT / "docs" / "configuration.md", "## Settings")
    assert documented == set(config.KNOWN_KEYS)


def test_every_editor_setting_is_documented_and_every_documented_one_exists() -> None:
    documented = _table_keys(ROOT / "docs" / "configuration.md", "## Editor settings")
    assert documented == set(editor_settings.KNOWN_KEYS.values())


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command of the CLI (`("migrate", "plan")`) with its parser; the top level first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


COMMANDS = dict(_commands(cli.build_parser()))


def test_every_command_and_flag_is_documented() -> None:
    text = _docs_text()
    missing = [
        "dbheal " + " ".join(path)
        for path in COMMANDS
        if path and f"dbheal {' '.join(path)}" not in text
    ]
    missing += [
        f"{' '.join(path) or 'dbheal'} {flag}"
        for path, parser in COMMANDS.items()
        for flag in sorted(_flags(parser))
        if flag.startswith("--")
        and flag != "--help"
        and not re.search(rf"{re.escape(flag)}\b", text)
    ]
    assert missing == []


def _documented_command_lines() -> Iterator[tuple[str, list[str]]]:
    """Each `dbheal ...` command line the docs show, as the file name and its words."""
    for path in DOCS:
        for match in re.finditer(
            r"(?:^\$ |`)(dbheal [^`\n]*)", path.read_text(encoding="utf-8"), re.M
        ):
            line = (
                match.group(1).split(" #", 1)[0].split("|", 1)[0].split(";", 1)[0].split("&&", 1)[0]
            )
            try:
                words = shlex.split(line)
            except ValueError:
                words = line.split()
            if len(words) > 1 and re.match(r"[a-z-]", words[1]):  # not `dbheal [TYPE]: …`
                yield path.name, words


def test_every_documented_command_and_flag_exists() -> None:
    wrong = []
    for name, words in _documented_command_lines():
        path: tuple[str, ...] = ()
        for word in words[1:]:
            if (*path, word) in COMMANDS:
                path = (*path, word)
            elif not word.startswith("-") and not path:
                wrong.append(f"{name}: dbheal {word}: no such command")
                break
        parser = COMMANDS[path]
        flags = _flags(parser) | {"--help", "-h", "--version"}
        wrong += [
            f"{name}: dbheal {' '.join(path)} {word}: no such flag"
            for word in words[1:]
            if word.startswith("-")
            and word.split("=", 1)[0] not in flags
            and not word[1:].isdigit()
        ]
    assert wrong == []


def test_every_server_command_is_documented() -> None:
    """Each workspace/executeCommand the server offers is named in docs/lsp.md."""
    from dbheal_lsp.lsp.convert import COMMANDS

    text = (ROOT / "docs" / "lsp.md").read_text(encoding="utf-8")
    assert [c for c in COMMANDS if f"`{c}`" not in text] == []


def test_the_architecture_map_lists_exactly_the_modules_that_exist() -> None:
    """docs/architecture.md's module tables name every module of the package, and no other."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## Modules\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([^`]+\.py)` \|", section, re.M)
    package = ROOT / "dbheal_lsp"
    existing = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py"))
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == existing
