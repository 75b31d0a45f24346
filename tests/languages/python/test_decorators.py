"""Which decorators leave a function's callers as the code shows them."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.languages.python.decorators import (
    STANDARD_TRANSPARENT,
    is_entry_point,
    transparent_decorators,
)

MODULE = """
import functools

api_methods = {}
ROUTES = {}
handlers = []


def read_api(f):
    api_methods[f.__name__] = False
    return f


def write_api(f):
    f = read_api(f)
    f.is_write = True
    return f


def locked(f):
    @functools.wraps(f)
    def call(*args, **kwargs):
        with LOCK:
            return f(*args, **kwargs)
    return call


def route(f):
    ROUTES[f.__name__] = f
    return f


def handler(f):
    handlers.append(f)
    return f


def replaced(f):
    return other


def configured(name, f):
    return f


class Store:
    @read_api
    def get(self, key): ...

    @write_api
    @locked
    def put(self, key, value): ...

    @route
    @handler
    @replaced
    def web(self, request): ...
"""


def test_markers_and_call_through_wrappers_are_transparent_registries_are_not() -> None:
    found = transparent_decorators(ast.parse(MODULE)) - STANDARD_TRANSPARENT
    assert found == {"read_api", "write_api", "locked"}


def test_a_function_the_file_does_not_use_as_a_decorator_is_not_read() -> None:
    unused = MODULE.split("class Store:")[0]
    assert transparent_decorators(ast.parse(unused)) == STANDARD_TRANSPARENT


@pytest.mark.parametrize(
    ("decorators", "entry"),
    [
        ("", False),
        ("@staticmethod", False),
        ("@functools.lru_cache(maxsize=8)", False),
        ("@read_api", False),
        ("@read_api\n@staticmethod", False),
        ("@route", True),
        ("@app.route('/users')", True),
        ("@app.read_api", True),  # another object's `read_api`, not this file's
        ("@property", True),
        ("@name.setter", True),
        ("@pytest.fixture", True),
    ],
)
def test_a_function_is_an_entry_point_when_a_decorator_may_hand_it_elsewhere(
    decorators: str, entry: bool
) -> None:
    source = f"{decorators}\ndef f(x):\n    return x\n"
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    transparent = transparent_decorators(ast.parse(MODULE))
    assert is_entry_point(node, transparent) is entry
