"""JavaScript and TypeScript files parsed by tree-sitter: which grammar reads which file, the
parse, and a syntax error said in one line.

tree-sitter and its grammars are imported when the first JS/TS file is parsed, so a project of
Python files alone never loads them. A `.ts`, `.mts` or `.cts` file is read with the TypeScript
grammar, a `.tsx` file with TSX, every other ending with JavaScript's (which reads JSX too).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.offsets import Offsets
from dbheal_lsp.languages.language import SourceSyntaxError

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Tree

__all__ = ["GRAMMAR_OF", "JsSource", "Parsers", "edited_tree", "grammar_for", "syntax_error"]

#: The grammar of each file ending.
GRAMMAR_OF = MappingProxyType(
    {
        ".js": "javascript",
        ".mjs": "javascript",
        ".cjs": "javascript",
        ".jsx": "javascript",
        ".ts": "typescript",
        ".mts": "typescript",
        ".cts": "typescript",
        ".tsx": "tsx",
    }
)
_SHOWN = 20  # characters of unexpected text a syntax error quotes
_KEPT = 16  # files whose last tree a `Parsers` keeps for the next parse of the same file


def grammar_for(path: str) -> str:
    """Return the grammar that reads the file named `path` (JavaScript's for an unknown one)."""
    dot = path.rfind(".")
    return GRAMMAR_OF.get(path[dot:].lower(), "javascript") if dot >= 0 else "javascript"


@dataclass(frozen=True, eq=False)
class JsSource:
    """One file's text, its UTF-8 bytes and their tree, with the positions of its bytes."""

    path: str
    text: str
    data: bytes
    tree: Tree
    grammar: str
    offsets: Offsets

    def text_of(self, node: Node) -> str:
        """Return the source text of `node`."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")


class Parsers:
    """One parser per grammar, made when a file first needs it, and the last trees parsed."""

    def __init__(self) -> None:
        self._parsers: dict[str, Parser] = {}
        self._last: dict[str, JsSource] = {}  # by path, the oldest first
        self._lock = threading.Lock()

    def parse(self, path: str, text: str) -> JsSource:
        """Parse `text`, the file named `path`; raise SourceSyntaxError when it does not read."""
        source = self.tree(path, text)
        error = syntax_error(source)
        if error is not None:
            raise error
        return source

    def parse_named(self, text: str, filename: str) -> JsSource:
        """`parse` with its arguments the other way round (what `FileTexts.tree` calls)."""
        return self.parse(filename, text)

    def tree(self, path: str, text: str) -> JsSource:
        """Parse `text` whatever errors it has (tree-sitter recovers from them), from the last
        tree of `path` when there is one (incrementally)."""
        grammar = grammar_for(path)
        data = text.encode("utf-8", "surrogatepass")
        with self._lock:
            last = self._last.pop(path, None)
            if last is not None and last.grammar == grammar and last.data == data:
                source = last  # the same text: the same tree
            else:
                old = (
                    edited_tree(last, data)
                    if last is not None and last.grammar == grammar
                    else None
                )
                parser = self._parser(grammar)
                tree = parser.parse(data, old) if old is not None else parser.parse(data)
                source = JsSource(path, text, data, tree, grammar, Offsets(text))
            self._last[path] = source
            while len(self._last) > _KEPT:
                del self._last[next(iter(self._last))]
        return source

    def full_tree(self, path: str, text: str) -> JsSource:
        """Parse `text` from nothing (no earlier tree is used nor kept)."""
        grammar = grammar_for(path)
        data = text.encode("utf-8", "surrogatepass")
        with self._lock:
            tree = self._parser(grammar).parse(data)
        return JsSource(path, text, data, tree, grammar, Offsets(text))

    def _parser(self, grammar: str) -> Parser:
        parser = self._parsers.get(grammar)
        if parser is None:
            from tree_sitter import Parser

            parser = self._parsers[grammar] = Parser(_language(grammar))
        return parser


def edited_tree(last: JsSource, data: bytes) -> Tree:
    """Return a copy of the tree of `last`, edited to the bytes `data`: the one range where
    they differ from the bytes it was parsed from (the common start and end kept)."""
    old = last.data
    start = _common_prefix(old, data)
    end = _common_suffix(old, data, min(len(old), len(data)) - start)
    tree = last.tree.copy()
    tree.edit(
        start_byte=start,
        old_end_byte=len(old) - end,
        new_end_byte=len(data) - end,
        start_point=_point(old, start),
        old_end_point=_point(old, len(old) - end),
        new_end_point=_point(data, len(data) - end),
    )
    return tree


def _common_prefix(a: bytes, b: bytes) -> int:
    """The length of the longest common start of `a` and `b`, by halving: each step compares
    two slices at memcmp's speed (a memoryview compares byte by byte, a hundred times slower)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_suffix(a: bytes, b: bytes, most: int) -> int:
    """The length of the longest common end of `a` and `b`, at most `most`."""
    low, high = 0, most
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            low = mid
        else:
            high = mid - 1
    return low


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """The (row, byte column) of byte `offset` of `data`, as tree-sitter counts them."""
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _language(grammar: str) -> Language:
    from tree_sitter import Language

    if grammar == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    if grammar == "tsx":
        return Language(tree_sitter_typescript.language_tsx())
    return Language(tree_sitter_typescript.language_typescript())


def syntax_error(source: JsSource) -> SourceSyntaxError | None:
    """Return the first syntax error of the parsed file, in a note's words, or None."""
    node = _first_error(source.tree.root_node)
    if node is None:
        return None
    line = source.offsets.position(node.start_byte)[0]
    if node.is_missing:
        what = f"missing `{node.type}`"
    else:
        text = source.text_of(node).strip().splitlines()
        shown = text[0][:_SHOWN] if text else ""
        what = f"unexpected `{shown}`" if shown else "unexpected end of file"
    name = "JavaScript" if source.grammar == "javascript" else "TypeScript"
    return SourceSyntaxError(f"{name} syntax error: {what} (line {line})", line)


def _first_error(root: Node) -> Node | None:
    """Return the first ERROR or MISSING node in the text's order, but for the one that
    tree-sitter-typescript puts into valid code (`_misread_generic_tag`)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing and not _misread_generic_tag(node):
            return node
        if node.type == "ERROR":
            return node
        if node.has_error:
            stack.extend(reversed(node.children))
    return None


def _misread_generic_tag(node: Node) -> bool:
    """Whether `node` is the `!` tree-sitter-typescript 0.23 makes up in the valid
    ``prisma.$queryRaw<T[]>`...` `` (read as `prisma.$queryRaw<T[]>!` called with a template)."""
    parent = node.parent
    return (
        node.type == "!"
        and parent is not None
        and parent.type == "non_null_expression"
        and parent.named_child_count > 0
        and parent.named_children[0].type == "instantiation_expression"
    )
