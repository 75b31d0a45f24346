"""The model of a SQL argument: its characters and interpolated slots, in source order.

The argument may be a string (plain, f-string, implicit concatenation), a ``%``-formatted or
``.format()``-ed template, or a ``+`` chain. Each character keeps the source units it came from
(a character, an escape, a "{{"), and each unit what to write instead, so that the argument can
be rewritten with everything but the edited characters exactly as the code wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from dbheal_lsp.languages.python.codefix.call import IDENTIFIER
from dbheal_lsp.languages.python.escapes import decode_escape

if TYPE_CHECKING:
    import libcst as cst


# The classes below are mutable on purpose: `rewrite.edit_items` marks on them what the new
# text keeps, drops and inserts. eq=False: each is itself, however alike two may look.
@dataclass(eq=False)
class Unit:
    """The smallest piece of a string literal's source: a character, an escape, a '{{'."""

    raw: str  # as written
    text: str  # the character of the Python string it stands for ('' for a line continuation)
    out: str | None = None  # what to write instead of `raw` (None: keep)
    before: str = ""  # source text to insert before it


@dataclass(eq=False)
class FieldPart:
    """An f-string replacement field."""

    node: cst.FormattedStringExpression
    removed: bool = False
    before: str = ""


@dataclass(eq=False)
class Leaf:
    """One string literal (a SimpleString or a FormattedString) split into units and fields."""

    node: cst.SimpleString | cst.FormattedString
    prefix: str
    quote: str
    parts: list[Unit | FieldPart]
    tail: str = ""  # source text to append to the body


@dataclass(eq=False)
class Operand:
    """A string expression (its leaves) or, in a + chain, any other operand (a slot)."""

    node: cst.BaseExpression
    leaves: list[Leaf] | None  # None: not a string, the operand is a slot
    removed: bool = False


@dataclass(eq=False)
class Item:
    """One character of the SQL text, or one interpolated slot, in source order."""

    char: str | None  # None for a slot
    units: list[Unit] = field(default_factory=list)  # the char's, or a % / format spec's
    fstring: FieldPart | None = None  # an f-string slot
    operand: Operand | None = None  # a + operand slot
    value: cst.BaseExpression | None = None  # a slot's Python value
    key: str | None = None  # %(key)s or {key}
    conversion: str = ""  # f-string / format: "r", "s" or "a"
    spec: str = ""  # format: the format spec (f-string specs stay in `fstring`)
    bare: bool = True  # a slot formatted as plain str(): no conversion, spec or "="
    escape: bool = False  # "%%" or "{{" of % / .format(): one char once the formatting goes


@dataclass(eq=False)
class SqlArgument:
    """The SQL argument of a call: how it is built, its parts and its items in order."""

    kind: Literal["string", "concat", "percent", "format"]
    node: cst.BaseExpression
    operands: list[Operand]
    operators: list[cst.BaseBinaryOp]  # "concat": the + between operand i and i + 1
    items: list[Item]


def _units(body: str, *, raw: bool, fstring: bool) -> list[Unit] | None:
    """Split a literal's body (as written) into units; None for a form not understood."""
    out: list[Unit] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch in "\r\n":
            size = 2 if body.startswith("\r\n", i) else 1
            out.append(Unit(body[i : i + size], "\n"))  # Python reads every newline as \n
            i += size
            continue
        if fstring and ch in "{}":
            if not body.startswith(ch * 2, i):
                return None
            out.append(Unit(ch * 2, ch))
            i += 2
            continue
        if ch == "\\" and not raw:
            unit = _escape(body, i)
            if unit is None:
                return None
            out.append(unit)
            i += len(unit.raw)
            continue
        out.append(Unit(ch, ch))
        i += 1
    return out


def _escape(body: str, i: int) -> Unit | None:
    decoded = decode_escape(body, i)
    if decoded is None:
        return None
    text, end = decoded
    return Unit(body[i:end], text)


def split_literal(value: str) -> tuple[str, str, str] | None:
    """Return (prefix, quote, body) of a string literal's source."""
    m = re.match(r"([A-Za-z]*)('''|\"\"\"|'|\")", value)
    if m is None or not value.endswith(m.group(2)) or len(value) < m.end() + len(m.group(2)):
        return None
    prefix, quote = m.group(1), m.group(2)
    return prefix, quote, value[m.end() : len(value) - len(quote)]


def _leaves(node: cst.BaseExpression) -> list[Leaf] | None:
    """Return the literals of a str expression (implicit concatenation included), else None."""
    import libcst as cst

    if isinstance(node, cst.ConcatenatedString):
        left, right = _leaves(node.left), _leaves(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.SimpleString):
        split = split_literal(node.value)
        if split is None or "b" in split[0].lower():
            return None
        prefix, quote, body = split
        units = _units(body, raw="r" in prefix.lower(), fstring=False)
        return None if units is None else [Leaf(node, prefix, quote, list(units))]
    if isinstance(node, cst.FormattedString):
        prefix = node.start[: len(node.start) - len(node.end)]
        if set(prefix.lower()) - set("rf") or node.start[len(prefix) :] != node.end:
            return None  # bytes or template strings, or a form we do not know
        parts: list[Unit | FieldPart] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                units = _units(part.value, raw="r" in prefix.lower(), fstring=True)
                if units is None:
                    return None
                parts.extend(units)
            elif isinstance(part, cst.FormattedStringExpression):
                parts.append(FieldPart(part))
            else:
                return None
        return [Leaf(node, prefix, node.end, parts)]
    return None


def _python_items(leaves: list[Leaf]) -> list[Item]:
    """The characters and f-string fields of `leaves`, in order."""
    items: list[Item] = []
    for leaf in leaves:
        for part in leaf.parts:
            if isinstance(part, Unit):
                if part.text:
                    items.append(Item(part.text, [part]))
                continue
            node = part.node
            bare = node.conversion is None and node.format_spec is None and node.equal is None
            items.append(
                Item(
                    None,
                    fstring=part,
                    value=node.expression,
                    conversion=node.conversion or "",
                    bare=bare,
                )
            )
    return items


def read_sql(node: cst.BaseExpression) -> SqlArgument | None:
    """Return the model of the SQL argument `node`, or None for a shape not handled."""
    import libcst as cst

    leaves = _leaves(node)
    if leaves is not None:
        operand = Operand(node, leaves)
        return SqlArgument("string", node, [operand], [], _python_items(leaves))
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _read_concat(node)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        template = _leaves(node.left)
        if template is None or any(isinstance(leaf.node, cst.FormattedString) for leaf in template):
            return None
        items = _percent_items(_python_items(template), node.right)
        if items is None:
            return None
        return SqlArgument("percent", node, [Operand(node.left, template)], [], items)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        template = _leaves(node.func.value)
        if template is None or any(isinstance(leaf.node, cst.FormattedString) for leaf in template):
            return None
        items = _format_items(_python_items(template), node)
        if items is None:
            return None
        return SqlArgument("format", node, [Operand(node.func.value, template)], [], items)
    return None


def _read_concat(node: cst.BinaryOperation) -> SqlArgument | None:
    import libcst as cst

    operands: list[cst.BaseExpression] = []
    operators: list[cst.BaseBinaryOp] = []
    current: cst.BaseExpression = node
    # a + b + c is ((a + b) + c): walk down the left spine while it is an unparenthesized +.
    while (
        isinstance(current, cst.BinaryOperation)
        and isinstance(current.operator, cst.Add)
        and (current is node or not current.lpar)
    ):
        operands.append(current.right)
        operators.append(current.operator)
        current = current.left
    operands.append(current)
    operands.reverse()
    operators.reverse()
    model_operands: list[Operand] = []
    items: list[Item] = []
    for expr in operands:
        leaves = _leaves(expr)
        operand = Operand(expr, leaves)
        model_operands.append(operand)
        if leaves is None:
            items.append(Item(None, operand=operand, value=expr))
        else:
            items.extend(_python_items(leaves))
    return SqlArgument("concat", node, model_operands, operators, items)


def _percent_items(chars: list[Item], right: cst.BaseExpression) -> list[Item] | None:
    """SQL items of `template % right`: %% an escaped %, %s / %(key)s a slot."""
    import libcst as cst

    from dbheal_lsp.languages.python.pieces import PERCENT_SPEC

    if any(c.char is None for c in chars):
        return None
    values: list[cst.BaseExpression] = [right]
    mapping: dict[str, cst.BaseExpression] = {}
    if isinstance(right, cst.Tuple):
        if any(not isinstance(e, cst.Element) for e in right.elements):
            return None
        values = [e.value for e in right.elements]
    elif isinstance(right, cst.Dict):
        for element in right.elements:
            if not isinstance(element, cst.DictElement):
                return None
            key = string_value(element.key)
            if key is None:
                return None
            mapping[key] = element.value
    text = "".join(c.char or "" for c in chars)
    out: list[Item] = []
    pos = 0
    position = 0
    for m in PERCENT_SPEC.finditer(text):
        out.extend(chars[pos : m.start()])
        units = [u for c in chars[m.start() : m.end()] for u in c.units]
        pos = m.end()
        if m.group() == "%%":
            out.append(Item("%", units, escape=True))
            continue
        key = m.group("key")
        if m.group() not in ("%s", f"%({key})s"):
            return None  # %d, %r, widths...: binding would not format the value the same way
        if key is not None:
            if key not in mapping:
                return None
            out.append(Item(None, units, value=mapping[key], key=key))
        else:
            if mapping or position >= len(values):
                return None
            out.append(Item(None, units, value=values[position]))
            position += 1
    out.extend(chars[pos:])
    if position != (0 if mapping else len(values)):
        return None  # more values than specs: % would have raised
    return out


def _format_items(chars: list[Item], call: cst.Call) -> list[Item] | None:
    """SQL items of `template.format(...)`: {{ an escaped {, {} / {0} / {name} a slot."""
    from dbheal_lsp.languages.python.pieces import FORMAT_FIELD

    if any(c.char is None for c in chars):
        return None
    positional: list[cst.BaseExpression] = []
    keywords: dict[str, cst.BaseExpression] = {}
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            positional.append(arg.value)
        else:
            keywords[arg.keyword.value] = arg.value
    text = "".join(c.char or "" for c in chars)
    out: list[Item] = []
    pos = 0
    auto = 0
    for m in FORMAT_FIELD.finditer(text):
        out.extend(chars[pos : m.start()])
        units = [u for c in chars[m.start() : m.end()] for u in c.units]
        pos = m.end()
        name = m.group("name")
        if name is None:
            out.append(Item(m.group()[0], units, escape=True))
            continue
        rest = m.group()[1 + len(name) : -1]
        conversion = rest[1] if rest.startswith("!") else ""
        spec = rest.partition(":")[2] if ":" in rest else ""
        if "{" in spec:
            return None  # nested fields
        value: cst.BaseExpression | None = None
        key: str | None = None
        if name == "":
            value = positional[auto] if auto < len(positional) else None
            auto += 1
        elif name.isdigit():
            value = positional[int(name)] if int(name) < len(positional) else None
        elif IDENTIFIER.match(name):
            value, key = keywords.get(name), name
        if value is None:
            return None  # attribute or index access, or a missing argument
        bare = not conversion and not spec
        out.append(
            Item(None, units, value=value, key=key, conversion=conversion, spec=spec, bare=bare)
        )
    out.extend(chars[pos:])
    return out


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain str literal; None for anything else."""
    import libcst as cst

    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None
