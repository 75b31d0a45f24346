"""Tests of the refusal raised inside a run of a schema fix."""

from __future__ import annotations

from dbheal_lsp.fixes.refusal import Refused


def test_a_refusal_carries_the_failed_check() -> None:
    refused = Refused("the schema changed", "schema_version", "planned at 3, now 4")
    assert str(refused) == refused.message == "the schema changed"
    assert (refused.check.name, refused.check.ok, refused.check.detail) == (
        "schema_version",
        False,
        "planned at 3, now 4",
    )
    assert Refused("locked", "lock").check.detail == "locked"
