"""Which grammar reads which file, and a syntax error said in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dbheal_lsp.languages.javascript.parse import (
    JsSource,
    Parsers,
    edited_tree,
    grammar_for,
    syntax_error,
)
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


# --- incremental parsing ------------------------------------------------------------------------

_EDITED_TS = """\
// Sessions « signed-in devices » 🍵
import { db } from "./db";

export async function sessionsFor(userId: string): Promise<Session[]> {
  const label = "Café 🍵";
  return db.query<Session>(`SELECT id, token FROM sessions WHERE user_id = ${parseInt(userId)}`);
}
"""


def _nodes(source: JsSource) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node of the tree in order: its type, bytes and points (what positions come from)."""
    found = []
    stack = [source.tree.root_node]
    while stack:
        node = stack.pop()
        found.append((node.type, node.start_byte, node.end_byte, node.start_point, node.end_point))
        stack.extend(reversed(node.children))
    return found


# Each edit: (old text, new text), applied once to the text as the edits before left it.
_EDITS = [
    ("parseInt(userId)", "parseInt(userI"),  # half-typed: the call and the template break
    ("parseInt(userI", "parseInt(userId)"),
    ("Café 🍵", "Thé 🫖 vert"),  # the byte length changes before the SQL, on its own line
    ("SELECT id, token", "SELECT id, tokn, created_at"),
    ("export async", "export  async"),
    ('import { db } from "./db";\n', ""),  # a whole line goes
    ("\n}\n", "\n  // done 🙂\n}\n"),
    ("const label", "let label"),
]


def test_an_incremental_parse_gives_the_tree_of_a_full_parse() -> None:
    """After each of several edits (half-typed text, non-ASCII, lines added and removed), the
    tree parsed from the edited last tree is the one a parse from nothing gives."""
    parsers = Parsers()
    text = _EDITED_TS
    first = parsers.tree("web/s.ts", text)
    for old, new in _EDITS:
        assert old in text
        text = text.replace(old, new, 1)
        incremental = parsers.tree("web/s.ts", text)
        full = Parsers().full_tree("web/s.ts", text)
        assert str(incremental.tree.root_node) == str(full.tree.root_node), (old, new)
        assert _nodes(incremental) == _nodes(full), (old, new)
        assert incremental.text == text
    # The first tree is untouched by the edits made to its copies.
    assert _nodes(first) == _nodes(Parsers().full_tree("web/s.ts", _EDITED_TS))


def test_an_edit_reuses_the_last_tree_only_for_the_same_file_and_grammar() -> None:
    parsers = Parsers()
    a = parsers.tree("a.ts", _EDITED_TS)
    assert parsers.tree("a.ts", _EDITED_TS) is a  # the same text: the same tree
    b = parsers.tree("a.js", _EDITED_TS)  # another file (and grammar): parsed on its own
    assert b is not a and b.grammar == "javascript"
    assert str(parsers.tree("a.tsx", "const x = <p/>;\n").tree.root_node).startswith("(program")


def test_edited_tree_marks_the_one_range_that_differs() -> None:
    parsers = Parsers()
    last = parsers.full_tree("a.js", "const a = 'é';\nconst b = 2;\n")
    tree = edited_tree(last, "const a = 'é';\nconst bb = 2;\n".encode())
    # The edit starts after the 'b' both share; the copy's changed ranges are since that point.
    assert tree.root_node.has_changes
    assert not last.tree.root_node.has_changes  # the kept tree is not edited itself
