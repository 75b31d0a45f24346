"""Tests of dbheal_lsp.languages.python.literals: the source position of each character of a literal.

Every expected (line, column) below was counted by hand on the source shown (1-based lines,
1-based code-point columns), not taken from the code under test.
"""

from __future__ import annotations

import ast
import random
import sys
from collections.abc import Sequence

import pytest

from dbheal_lsp.languages.python.literals import LiteralText, offset_span, scan_string
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.model import Span

# Some sources hold escapes such as "\\d" on purpose: Python warns about them when parsing.
pytestmark = pytest.mark.filterwarnings("ignore:invalid .*escape sequence")

Key = str | int  # a substring of the decoded text (its first occurrence), or an index in it


def _target(tree: ast.AST) -> ast.expr:
    """Return the value assigned to the name `s` in `tree`."""
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "s" for t in stmt.targets
        ):
            return stmt.value
    raise AssertionError("no assignment to s")


def _scan(source: str, node: ast.expr | None = None) -> tuple[list[str], LiteralText]:
    lines = source.splitlines(keepends=True)
    result = scan_string(lines, node or _target(ast.parse(source)))
    assert result is not None, source
    return lines, result


def _index(text: str, key: Key) -> int:
    if isinstance(key, int):
        return key
    index = text.find(key)
    assert index >= 0, f"{key!r} not in {text!r}"
    return index


def _source_of(lines: Sequence[str], span: Span) -> str:
    """Return the source text of `span` (code-point columns, end exclusive)."""
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts.extend(lines[span.line : span.end_line - 1])
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return "".join(parts)


# (id, source, {key of the decoded text: expected (line, column) of its first character})
POSITION_CASES: list[tuple[str, str, dict[Key, tuple[int, int]]]] = [
    (
        "double-quoted",
        's = "SELECT id FROM users"\n',
        {"SELECT": (1, 6), "id": (1, 13), "users": (1, 21), 20: (1, 26)},
    ),
    ("single-quoted", "s = 'SELECT 1'\n", {"1": (1, 13), 8: (1, 14)}),
    ("u prefix", 's = u"abc"\n', {"b": (1, 8)}),
    ("U prefix", 's = U"abc"\n', {"c": (1, 9)}),
    (
        "emoji and accent before the string on the same line",
        't = "😀é"; s = "SELECT x"\n',
        {"SELECT": (1, 16), "x": (1, 23)},
    ),
    (
        "emoji inside the string",
        's = "😀 FROM t😀x"\n',
        {"😀": (1, 6), "FROM": (1, 8), "t😀x": (1, 13), "x": (1, 15)},
    ),
    (
        "multi-line triple quotes",
        's = """SELECT a,\n       b\nFROM t"""\n',
        {"SELECT": (1, 8), "\n": (1, 17), "b": (2, 8), "\nFROM": (2, 9), "FROM": (3, 1)},
    ),
    (
        "implicit concatenation across lines with a comment",
        's = ("SELECT id "  # the key 😀\n     \'FROM users \'\n     "WHERE id = ?")\n',
        {"SELECT": (1, 7), "FROM": (2, 7), "WHERE": (3, 7), "?": (3, 18)},
    ),
    (
        "backslash continuation between literals",
        's = "SELECT 1 " \\\n    "FROM t"\n',
        {"1": (1, 13), "FROM": (2, 6)},
    ),
    (
        "plain and f-strings mixed",
        's = ("SELECT * FROM "\n     f"{table} WHERE "\n     "id = 1")\n',
        {"FROM": (1, 16), " WHERE": (2, 15), "WHERE": (2, 16), "id": (3, 7)},
    ),
    (
        "simple escapes",
        r's = "A\tB\\C\'D\"E\nF\aG\bH\fI\vJ\0K\rL"' + "\n",
        {
            "A": (1, 6),
            "\t": (1, 7),
            "B": (1, 9),
            "\\": (1, 10),
            "C": (1, 12),
            "'": (1, 13),
            "D": (1, 15),
            '"': (1, 16),
            "\n": (1, 19),
            "\a": (1, 22),
            "\b": (1, 25),
            "\f": (1, 28),
            "\v": (1, 31),
            "\0": (1, 34),
            "K": (1, 36),
            "\r": (1, 37),
            "L": (1, 39),
            23: (1, 40),
        },
    ),
    (
        "octal, hex, unicode, named and unknown escapes",
        r's = "\101\x42\u0043\U00000044\N{LATIN SMALL LETTER E WITH ACUTE}\d\7F"' + "\n",
        {
            "A": (1, 6),
            "B": (1, 10),
            "C": (1, 14),
            "D": (1, 20),
            "é": (1, 30),
            "\\d": (1, 65),
            "d": (1, 66),
            "\a": (1, 67),
            "F": (1, 69),
            9: (1, 70),
        },
    ),
    (
        "raw string with backslashes",
        r's = r"C:\path\n\"q\" \\"' + "\n",
        {"C": (1, 7), "\\path": (1, 9), "\\n": (1, 14), '\\"q': (1, 16), "q": (1, 18), 17: (1, 24)},
    ),
    (
        "raw single-quoted string with a backslash-newline",
        "s = r'a\\\nb'\n",
        {"\\": (1, 8), "\n": (1, 9), "b": (2, 1)},
    ),
    (
        "backslash-newline inside a string yields nothing",
        's = "SELECT \\\nFROM t"\n',
        {" ": (1, 12), "FROM": (2, 1)},
    ),
    (
        "raw f-string with an uppercase prefix",
        r's = fR"\d+{n}\w"' + "\n",
        {"\\d+": (1, 8), "\\w": (1, 14)},
    ),
    ("conversion and spec", 's = f"a{int(x)!r:>5}b"\n', {"a": (1, 7), "b": (1, 21)}),
    (
        "doubled braces",
        's = f"{{x}} {y}"\n',
        {"{": (1, 7), "x": (1, 9), "}": (1, 10), " ": (1, 12), 4: (1, 13)},
    ),
    ("nested format spec", 's = f"{x:{width}.{prec}f} rows"\n', {" ": (1, 26), "rows": (1, 27)}),
    (
        "self-documenting fields",
        's = f"v {x=}, { y = }!"\n',
        {"x=": (1, 10), "=": (1, 11), ", ": (1, 13), " y = ": (1, 16), "!": (1, 22)},
    ),
    (
        "strings, brackets, dicts, lambda and != inside fields",
        "s = f\"{d['}']}|{ {'a': 1}['a'] }|{(lambda v: v)(1)}|{a != b}|\"\n",
        {0: (1, 15), 1: (1, 33), 2: (1, 52), 3: (1, 61)},
    ),
    (
        "field spanning lines in a triple-quoted f-string",
        's = f"""SELECT {\n    col\n} FROM t"""\n',
        {"SELECT": (1, 9), " FROM": (3, 2), "t": (3, 8)},
    ),
    (
        "non-ASCII text inside and between fields",
        's = f"é{naïve}😀{x!r}ü"\n',
        {"é": (1, 7), "😀": (1, 15), "ü": (1, 21)},
    ),
    (
        "emoji before an f-string on the same line",
        'x = "😀😀"; s = f"é{x}b"\n',
        {"é": (1, 17), "b": (1, 21)},
    ),
    ("CRLF inside triple quotes", 's = """a\r\nb"""\r\n', {"a": (1, 8), "\n": (1, 9), "b": (2, 1)}),
    ("empty string", 's = ""\n', {0: (1, 6)}),
    ("quotes inside triple quotes", "s = '''it's \"x\"'''\n", {"'": (1, 10), "x": (1, 14)}),
    (
        "braces in a plain string concatenated with an f-string",
        's = ("{not a field} " f"{x}")\n',
        {"{": (1, 7), "not": (1, 8), "} ": (1, 19)},
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"),
    [pytest.param(src, exp, id=name) for name, src, exp in POSITION_CASES],
)
def test_positions(source: str, expected: dict[Key, tuple[int, int]]) -> None:
    _, result = _scan(source)
    assert len(result.positions) == len(result.text) + 1
    for key, position in expected.items():
        assert result.positions[_index(result.text, key)] == position, key


# (id, source, [(offset in text, span, expr_span, expr_source)])
FIELD_CASES: list[tuple[str, str, list[tuple[int, Span, Span, str]]]] = [
    (
        "conversion and spec",
        's = f"a{int(x)!r:>5}b"\n',
        [(1, Span(1, 8, 1, 21), Span(1, 9, 1, 15), "int(x)")],
    ),
    (
        "field in a concatenation",
        's = ("SELECT * FROM "\n     f"{table} WHERE "\n     "id = 1")\n',
        [(14, Span(2, 8, 2, 15), Span(2, 9, 2, 14), "table")],
    ),
    (
        "nested format spec is one field",
        's = f"{x:{width}.{prec}f} rows"\n',
        [(0, Span(1, 7, 1, 26), Span(1, 8, 1, 9), "x")],
    ),
    (
        "self-documenting fields",
        's = f"v {x=}, { y = }!"\n',
        [
            (4, Span(1, 9, 1, 13), Span(1, 10, 1, 11), "x"),
            (11, Span(1, 15, 1, 22), Span(1, 17, 1, 18), "y"),
        ],
    ),
    (
        "strings, brackets, dicts, lambda and != inside fields",
        "s = f\"{d['}']}|{ {'a': 1}['a'] }|{(lambda v: v)(1)}|{a != b}|\"\n",
        [
            (0, Span(1, 7, 1, 15), Span(1, 8, 1, 14), "d['}']"),
            (1, Span(1, 16, 1, 33), Span(1, 18, 1, 31), "{'a': 1}['a']"),
            (2, Span(1, 34, 1, 52), Span(1, 35, 1, 51), "(lambda v: v)(1)"),
            (3, Span(1, 53, 1, 61), Span(1, 54, 1, 60), "a != b"),
        ],
    ),
    (
        "field spanning lines",
        's = f"""SELECT {\n    col\n} FROM t"""\n',
        [(7, Span(1, 16, 3, 2), Span(2, 5, 2, 8), "col")],
    ),
    (
        "non-ASCII inside fields",
        's = f"é{naïve}😀{x!r}ü"\n',
        [
            (1, Span(1, 8, 1, 15), Span(1, 9, 1, 14), "naïve"),
            (2, Span(1, 16, 1, 21), Span(1, 17, 1, 18), "x"),
        ],
    ),
    (
        "raw f-string: \\{ is a backslash then a field",
        r's = rf"\{n}"' + "\n",
        [(1, Span(1, 9, 1, 12), Span(1, 10, 1, 11), "n")],
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"),
    [pytest.param(src, exp, id=name) for name, src, exp in FIELD_CASES],
)
def test_fields(source: str, expected: list[tuple[int, Span, Span, str]]) -> None:
    node = _target(ast.parse(source))
    assert isinstance(node, ast.JoinedStr)
    values = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    _, result = _scan(source, node)
    got = [(f.offset, f.span, f.expr_span, f.expr_source) for f in result.fields]
    assert got == expected
    assert all(f.value is v for f, v in zip(result.fields, values, strict=True))


def test_whole_span_and_widths() -> None:
    _, result = _scan('t = "😀"; s = ("a\\n"\n  f"{x}b")  # end\n')
    # s1 ...: t1 ' '2 =3 ' '4 "5 😀6 "7 ;8 ' '9 s10 ' '11 =12 ' '13 (14 "15
    assert result.span == Span(1, 15, 2, 10)
    assert result.widths == (1, 2, 1)


def test_offset_span() -> None:
    _, result = _scan(r's = "A\tB"' + "\n")
    # "A" at 6, "\t" at 7-8, "B" at 9.
    assert offset_span(result, 0, 2) == Span(1, 6, 1, 9)
    assert offset_span(result, 1, 2) == Span(1, 7, 1, 9)
    assert offset_span(result, 0, 3) == Span(1, 6, 1, 10)
    assert offset_span(result, 2, 2) == Span(1, 9, 1, 10)
    assert offset_span(result, 3, 3) == Span(1, 10, 1, 11)
    # Out-of-range offsets are clamped rather than raising.
    assert offset_span(result, -5, 99) == Span(1, 6, 1, 10)

    _, fstr = _scan('s = f"a{int(x)!r:>5}b"\n')
    # Crossing the field: from "a" to just past "b".
    assert offset_span(fstr, 0, 2) == Span(1, 7, 1, 22)
    # Ending before the field stops just after "a", not at the field.
    assert offset_span(fstr, 0, 1) == Span(1, 7, 1, 8)
    assert offset_span(fstr, 1, 1) == Span(1, 21, 1, 22)

    _, concat = _scan('s = ("ab"\n     "cd")\n')
    assert offset_span(concat, 0, 2) == Span(1, 7, 1, 9)
    assert offset_span(concat, 1, 3) == Span(1, 8, 2, 8)


@pytest.mark.parametrize(
    "source",
    [
        's = b"SELECT 1"\n',
        's = rb"SELECT 1"\n',
        's = (b"SELECT "\n     b"1")\n',
        "s = 42\n",
        "s = None\n",
        "s = name\n",
        's = "a" + "b"\n',
    ],
)
def test_not_a_string(source: str) -> None:
    lines = source.splitlines(keepends=True)
    assert scan_string(lines, _target(ast.parse(source))) is None


def test_mismatched_source_gives_none() -> None:
    node = _target(ast.parse('s = "abc"\n'))
    assert scan_string(['s = "abd"\n'], node) is None
    assert scan_string(["s = 'ab'\n"], node) is None
    assert scan_string([], node) is None
    fnode = _target(ast.parse('s = f"{x}{y}"\n'))
    # Same text, one field fewer: the field count check refuses it.
    assert scan_string(['s = f"{x}{{}}"\n'], fnode) is None


def test_node_without_position_gives_none() -> None:
    assert scan_string(['s = "abc"\n'], ast.Constant("abc")) is None
    with pytest.raises(ValueError):
        span_of(['s = "abc"\n'], ast.Constant("abc"))


# Python 3.12 f-strings (PEP 701). On older Pythons the source does not parse, so the node
# comes from a "twin" of the same length that does, or is built by hand: the scanner must
# still read the 3.12 source right.
PEP701_CASES: list[tuple[str, str, str | None, dict[Key, tuple[int, int]], list[str]]] = [
    (
        "same quotes inside a field",
        's = f"{d["k"]} FROM t"\n',
        "s = f\"{d['k']} FROM t\"\n",
        {"FROM": (1, 16)},
        ['d["k"]'],
    ),
    (
        "nested f-string with the same quotes",
        's = f"{f"{x}"}!"\n',
        "s = f\"{f'{x}'}!\"\n",
        {"!": (1, 15)},
        ['f"{x}"'],
    ),
    (
        "backslash in a string inside a field",
        "s = f\"{'\\n'.join(rows)}x\"\n",
        "s = f\"{'ab'.join(rows)}x\"\n",
        {"x": (1, 24)},
        ["'\\n'.join(rows)"],
    ),
    (
        "comment in a field spanning lines",
        's = f"a{x  # note\n}b"\n',
        None,
        {"a": (1, 7), "b": (2, 2)},
        ["x"],
    ),
]


def _hand_built(source: str) -> ast.expr:
    # The JoinedStr Python 3.12 builds for 's = f"a{x  # note\n}b"'.
    assert source == 's = f"a{x  # note\n}b"\n'
    return ast.JoinedStr(
        values=[
            ast.Constant("a"),
            ast.FormattedValue(value=ast.Name("x", ast.Load()), conversion=-1),
            ast.Constant("b"),
        ],
        lineno=1,
        col_offset=4,
        end_lineno=2,
        end_col_offset=3,
    )


@pytest.mark.parametrize(
    ("source", "twin", "expected", "expr_sources"),
    [pytest.param(*case[1:], id=case[0]) for case in PEP701_CASES],
)
def test_pep701(
    source: str,
    twin: str | None,
    expected: dict[Key, tuple[int, int]],
    expr_sources: list[str],
) -> None:
    if sys.version_info >= (3, 12):
        node = _target(ast.parse(source))
    elif twin is not None:
        assert len(twin) == len(source)
        node = _target(ast.parse(twin))
    else:
        node = _hand_built(source)
    lines = source.splitlines(keepends=True)
    result = scan_string(lines, node)
    assert result is not None
    for key, position in expected.items():
        assert result.positions[_index(result.text, key)] == position, key
    assert [f.expr_source for f in result.fields] == expr_sources


CORPUS = [src for _, src, _ in POSITION_CASES] + [
    's = f"""\n  SELECT {a!r:{w}}  -- é😀\n  FROM {t}\n  WHERE x = \'{v}\'\n"""\n',
    's = (r"\\d+" "\\d+"  # comment\n     rf"{x}\\{y}\\n" f"\\N{EM DASH}{{}}")\n',
    "s = f'{x!s:>{w}.{p}}' '''\n\t''' f\"{ {'k': [1, 2]}['k'][0] }\"\n",
    's = """a\\\nb\\\\\nc"""\n',
    "s = f'{x:=^10}{y = !s}{z==1}{a<b}{a>=b}'\n",
    's = (\n    "😀"\n    f"😀{x}😀"\n    "😀"\n)\n',
    's = f"{x}" \\\n    f"{y}" \\\n    ""\n',
    's = f"""{\nx\n=\n}"""\n',
    's = "\\x00\\xff\\u2028\\U0010FFFF\\777\\8"\n',
]


@pytest.mark.parametrize("source", CORPUS)
def test_round_trip(source: str) -> None:
    lines, result = _scan(source)
    text = result.text
    assert len(result.positions) == len(text) + 1
    assert len(result.widths) == len(text)
    assert list(result.positions) == sorted(set(result.positions))
    for i, (line, column) in enumerate(result.positions[:-1]):
        src_char = lines[line - 1][column - 1]
        if src_char == "\\":
            continue  # an escape: decoded text and source differ
        if src_char == "\r":
            assert text[i] == "\n"
        else:
            assert src_char == text[i], (i, line, column)
    for field in result.fields:
        source_text = _source_of(lines, field.span)
        assert source_text.startswith("{")
        assert source_text.endswith("}")
        assert _source_of(lines, field.expr_span) == field.expr_source
        reparsed = ast.parse(f"(\n{field.expr_source}\n)", mode="eval").body
        assert ast.dump(reparsed) == ast.dump(field.value)


def test_never_raises_on_mangled_source() -> None:
    rng = random.Random(1234)
    alphabet = "\"'{}\\\n\r#xNu{}!:=😀é ()[]"
    for source in CORPUS:
        node = _target(ast.parse(source))
        for _ in range(200):
            chars = list(source)
            for _ in range(rng.randint(1, 3)):
                where = rng.randrange(len(chars))
                if rng.random() < 0.5:
                    chars[where] = rng.choice(alphabet)
                else:
                    del chars[where]
            lines = "".join(chars).splitlines(keepends=True)
            result = scan_string(lines, node)
            if result is not None:
                assert len(result.positions) == len(result.text) + 1
