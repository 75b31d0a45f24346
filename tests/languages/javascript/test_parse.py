"""Which grammar reads which file, and a syntax error said in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dbheal_lsp.languages.javascript.parse import Parsers, grammar_for, syntax_error
from dbheal_lsp.languages.language import SourceSyntaxError


@pytest.mark.parametrize(
    ("path", "grammar"),
    [
        ("a.js", "javascript"),
        ("a.mjs", "javascript"),
        ("a.cjs", "javascript"),
        ("a.jsx", "javascript"),
        ("a.ts", "typescript"),
        ("a.mts", "typescript"),
        ("a.cts", "typescript"),
        ("a.tsx", "tsx"),
        ("noext", "javascript"),
    ],
)
def test_each_ending_has_its_grammar(path: str, grammar: str) -> None:
    assert grammar_for(path) == grammar


def test_typescript_and_jsx_read_with_their_grammars() -> None:
    parsers = Parsers()
    assert parsers.parse("a.ts", "const n: number = f<T>(x as number);\n").grammar == "typescript"
    assert parsers.parse("a.tsx", "const e = <div>{x as string}</div>;\n").grammar == "tsx"
    assert parsers.parse("a.jsx", "const e = <div>{x}</div>;\n").grammar == "javascript"


def test_a_half_typed_file_is_one_line_with_its_line() -> None:
    text = "const a = 1;\nfunction f(db) {\n  db.all(`SELECT id FROM users`\n"
    with pytest.raises(SourceSyntaxError) as caught:
        Parsers().parse("routes/a.ts", text)
    error = caught.value
    assert error.message.startswith("TypeScript syntax error: ")
    assert error.message.endswith(f"(line {error.line})") and "\n" not in error.message
    assert error.line is not None and 2 <= error.line <= 4


def test_unexpected_text_is_quoted() -> None:
    error = syntax_error(Parsers().tree("a.js", "let x = 1;\nlet = = ;\n"))
    assert error is not None
    assert error.message.startswith("JavaScript syntax error: unexpected `")
    assert error.line == 2


def test_the_made_up_bang_of_a_generic_tag_is_no_syntax_error() -> None:
    text = "const u = await prisma.$queryRaw<User[]>`SELECT id FROM users`;\n"
    source = Parsers().tree("a.ts", text)
    assert source.tree.root_node.has_error  # what tree-sitter-typescript 0.23 gives
    assert syntax_error(source) is None


def test_importing_the_registry_loads_no_tree_sitter() -> None:
    code = "import sys, dbheal_lsp.languages; print('tree_sitter' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
