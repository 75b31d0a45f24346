"""Tests of the class a helper call's receiver is an instance of
(languages/python/helper_receivers.py)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.filecontext import ExtractOptions
from dbheal_lsp.languages.python.helper_receivers import HelperFiles, receiver_class
from dbheal_lsp.languages.python.project_constants import project_constants
from tests.languages.python.test_filecontext import (
    calls_in,
    class_named,
    function_scope,
    read_file,
)

SOURCE = """
from typing import cast

class Table:
    def insert(self, values):
        pass

class History(Table):
    def __init__(self, db):
        self.completion = Completion(db)
        self.maybe = Completion(db) if db else Other()

    def add(self):
        self.insert({})
        self.completion.insert({})
        self.maybe.insert({})

class Completion(Table):
    pass

class Other(Table):
    pass

web_history = cast("History", None)

def init(db):
    global web_history
    web_history = History(db)

def dump():
    web_history.insert({})

def local(db):
    table = Completion(db)
    table.insert({})
    for row in rows:
        row.insert({})
"""


def _receivers(function: str, in_class: str | None = None) -> list[str]:
    tree = ast.parse(SOURCE)
    options = ExtractOptions(constants=project_constants([file_constants(tree)]))
    ctx = read_file(SOURCE, options)
    if in_class is not None:
        ctx.class_node = class_named(ctx, in_class)
    scope = function_scope(ctx, function)
    return [
        receiver_class(call.func.value, scope, ctx)
        for call in calls_in(scope)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "insert"
    ]


def test_self_and_an_attribute_the_class_sets_to_one_class() -> None:
    # `self.maybe` is one of two classes: not known.
    assert _receivers("add", "History") == ["History", "Completion", ""]


def test_a_module_name_bound_by_cast_and_by_a_global_assignment() -> None:
    assert _receivers("dump") == ["History"]


def test_a_local_name_made_once_and_a_loop_variable() -> None:
    assert _receivers("local") == ["Completion", ""]


def test_a_helpers_file_is_read_only_when_it_is_a_regular_file_inside_the_project(
    tmp_path: Path,
) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "tables.py").write_text("class Table:\n    pass\n", encoding="utf-8")
    (outside / "secret.py").write_text("class Table:\n    pass\n", encoding="utf-8")
    (project / "linked.py").symlink_to(outside / "secret.py")
    os.mkfifo(project / "pipe.py")
    files = HelperFiles()
    read = files.read(str(project), "tables.py")
    assert read is not None and read[1] == ["class Table:\n", "    pass\n"]
    assert files.read(str(project), "linked.py") is None  # a link out of the project
    assert files.read(str(project), "pipe.py") is None  # never blocks on a FIFO
