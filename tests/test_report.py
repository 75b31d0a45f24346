"""Tests of dbheal_lsp.report: the text, JSON and SARIF renderings of a CheckResult."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dbheal_lsp.model import (
    CheckResult,
    FileNote,
    Issue,
    IssueType,
    Origin,
    Severity,
    Span,
)
from dbheal_lsp.report import (
    exit_code,
    render_json,
    render_sarif,
    render_text,
)
from dbheal_lsp.rules import DEFAULT_SEVERITIES
from dbheal_lsp.rules.rule import DOCS_URL

ANSI = re.compile(r"\x1b\[[0-9;]*m")

ROOT = Path("/proj")


def issue(
    type_: IssueType,
    path: str,
    line: int,
    column: int,
    message: str,
    *,
    severity: Severity | None = None,
    length: int = 4,
    **extra: object,
) -> Issue:
    """Return an issue of `type_` (default severity unless given) at one line of `path`."""
    return Issue(
        type=type_,
        severity=severity or DEFAULT_SEVERITIES[type_],
        path=path,
        span=Span.point(line, column, length),
        message=message,
        fingerprint=f"fp-{type_.value.lower()}-{line}-{column}",
        **extra,  # type: ignore[arg-type]
    )


def small_result(root: Path = ROOT) -> CheckResult:
    """Two files, a suggestion and a note: the case whose text output is checked line by line."""
    return CheckResult(
        issues=(
            issue(
                IssueType.SQL_INJECTION,
                str(root / "app/views.py"),
                4,
                20,
                "f-string puts 'name' into the SQL text",
            ),
            issue(
                IssueType.SELECT_STAR,
                str(root / "app/models.py"),
                9,
                8,
                "SELECT * reads every column of 'users'",
            ),
            issue(
                IssueType.MISSING_COLUMN,
                str(root / "app/models.py"),
                3,
                15,
                "no column 'nmae' in table 'users'",
                suggestion="name",
                table="users",
                column_name="nmae",
            ),
        ),
        notes=(FileNote(str(root / "app/legacy.py"), "skipped: not valid Python", line=3),),
        files_checked=5,
        statements_checked=7,
    )


SMALL_TEXT = """\
app/models.py (2 issues)
app/models.py:3:15: critical MISSING_COLUMN no column 'nmae' in table 'users'  did you mean 'name'?
app/models.py:9:8: low SELECT_STAR SELECT * reads every column of 'users'

app/views.py (1 issue)
app/views.py:4:20: critical SQL_INJECTION f-string puts 'name' into the SQL text

app/legacy.py:3: note: skipped: not valid Python

Found 3 issues (2 critical, 1 low) in 2 of 5 files; 7 statements checked."""


def full_result(root: Path = ROOT) -> CheckResult:
    """Several files, every issue type, non-ASCII text, an origin, a suggestion, notes."""
    models = str(root / "app" / "models.py")
    views = str(root / "app" / "views.py")
    reports = str(root / "reports" / "état.py")
    issues = (
        issue(
            IssueType.MISSING_TABLE,
            models,
            12,
            5,
            "no table 'userz'",
            suggestion="users",
            table="userz",
        ),
        issue(
            IssueType.MISSING_COLUMN,
            models,
            3,
            15,
            "no column 'prénom' in table 'users'",
            table="users",
            column_name="prénom",
            origin=Origin("migrations/0001_init.sql", 7),
        ),
        issue(IssueType.SQL_SYNTAX, views, 30, 9, "syntax error near 'FORM'"),
        issue(
            IssueType.TYPE_MISMATCH,
            views,
            8,
            40,
            "'age' is INTEGER but the value is str",
            table="users",
            column_name="age",
            db_type="INTEGER",
            code_type="str",
        ),
        issue(
            IssueType.MISSING_INDEX,
            views,
            8,
            1,
            "no index on orders.user_id",
            table="orders",
            column_name="user_id",
        ),
        issue(IssueType.SQL_INJECTION, reports, 2, 11, "f-string puts 'nom' into the SQL — 危险"),
        issue(
            IssueType.DYNAMIC_IDENTIFIER,
            reports,
            5,
            23,
            "table name chosen at run time",
            helper="execute",
        ),
        issue(IssueType.SELECT_STAR, models, 20, 16, "SELECT * from 'users'", table="users"),
        issue(
            IssueType.PARAMETER_MISMATCH,
            views,
            14,
            60,
            "binds 1 value but the statement has 2 placeholders (?, ?)",
        ),
        Issue(
            type=IssueType.SCHEMA_DRIFT,
            severity=Severity.HIGH,
            path=models,
            span=Span(40, 1, 42, 3),
            message="column 'users.email' is TEXT in the database but VARCHAR in migrations",
            table="users",
            column_name="email",
            origin=Origin("migrations/0002_email.sql", 1),
            fingerprint="fp-drift",
        ),
    )
    notes = (
        FileNote(str(root / "app" / "broken.py"), "skipped: syntax error", line=4),
        FileNote(str(root / "data" / "blob.bin"), "not a Python file"),
    )
    return CheckResult(issues=issues, notes=notes, files_checked=31, statements_checked=58)


# ------------------------------------------------------------------------------------------
# Text


def test_text_small_case_exact() -> None:
    assert render_text(small_result(), color=False, root=ROOT) == SMALL_TEXT


def test_text_color_has_codes_and_same_text() -> None:
    colored = render_text(small_result(), color=True, root=ROOT)
    assert "\x1b[1;31mcritical\x1b[0m" in colored
    assert "\x1b[2mlow\x1b[0m" in colored
    assert "\x1b[1mapp/models.py\x1b[0m" in colored
    assert ANSI.sub("", colored) == SMALL_TEXT


@pytest.mark.parametrize(
    ("severity", "code"),
    [
        (Severity.CRITICAL, "\x1b[1;31m"),
        (Severity.HIGH, "\x1b[33m"),
        (Severity.MEDIUM, "\x1b[34m"),
        (Severity.LOW, "\x1b[2m"),
    ],
)
def test_text_severity_colors(severity: Severity, code: str) -> None:
    result = CheckResult(
        issues=(issue(IssueType.SQL_SYNTAX, "a.py", 1, 1, "bad", severity=severity),),
        files_checked=1,
    )
    assert f"{code}{severity.value}\x1b[0m" in render_text(result, color=True)


def test_text_full_no_escape_codes_and_colour_strips_to_it() -> None:
    plain = render_text(full_result(), color=False, root=ROOT)
    assert "\x1b" not in plain
    assert ANSI.sub("", render_text(full_result(), color=True, root=ROOT)) == plain
    assert "prénom" in plain and "危险" in plain
    assert plain.splitlines()[-1] == (
        "Found 10 issues (5 critical, 2 high, 2 medium, 1 low) in 3 of 31 files; "
        "58 statements checked."
    )


def test_text_issues_sorted_by_line_then_column_within_a_file() -> None:
    lines = render_text(full_result(), color=False, root=ROOT).splitlines()
    views = [line for line in lines if line.startswith("app/views.py:")]
    assert [line.split(":")[1:3] for line in views] == [
        ["8", "1"],
        ["8", "40"],
        ["14", "60"],
        ["30", "9"],
    ]


@pytest.mark.parametrize(
    ("message", "suggestion", "shown"),
    [
        ("no table 'userz'", "users", "no table 'userz'  did you mean 'users'?"),
        (
            "no table 'userz'; did you mean 'users'?",
            "users",
            "no table 'userz'; did you mean 'users'?",
        ),
        ('no column "nme"; try "name"', "name", 'no column "nme"; try "name"'),
        ("no column 'uid'", "id", "no column 'uid'  did you mean 'id'?"),
        ("no column 'uid'", None, "no column 'uid'"),
        ("no column 'uid'", "", "no column 'uid'"),
    ],
)
def test_text_suggestion(message: str, suggestion: str | None, shown: str) -> None:
    result = CheckResult(
        issues=(issue(IssueType.MISSING_COLUMN, "a.py", 2, 3, message, suggestion=suggestion),),
        files_checked=1,
    )
    line = render_text(result, color=False).splitlines()[1]
    assert line == f"a.py:2:3: critical MISSING_COLUMN {shown}"


@pytest.mark.parametrize(
    ("result", "summary"),
    [
        (
            CheckResult(files_checked=31, statements_checked=58),
            "No issues found in 31 files; 58 statements checked.",
        ),
        (
            CheckResult(files_checked=1, statements_checked=1),
            "No issues found in 1 file; 1 statement checked.",
        ),
        (
            CheckResult(
                issues=(issue(IssueType.SELECT_STAR, "a.py", 1, 1, "x"),),
                files_checked=1,
                statements_checked=1,
            ),
            "Found 1 issue (1 low) in 1 of 1 file; 1 statement checked.",
        ),
        (
            CheckResult(
                issues=(
                    issue(IssueType.MISSING_INDEX, "a.py", 1, 1, "x"),
                    issue(IssueType.TYPE_MISMATCH, "b.py", 1, 1, "y"),
                ),
                files_checked=4,
                statements_checked=9,
            ),
            "Found 2 issues (1 high, 1 medium) in 2 of 4 files; 9 statements checked.",
        ),
    ],
)
def test_text_summary(result: CheckResult, summary: str) -> None:
    assert render_text(result, color=False).splitlines()[-1] == summary


def test_text_notes_only() -> None:
    result = CheckResult(
        notes=(FileNote("b.py", "unreadable: permission denied"), FileNote("a.txt", "not Python")),
        files_checked=2,
    )
    assert render_text(result, color=False) == (
        "a.txt: note: not Python\n"
        "b.py: note: unreadable: permission denied\n"
        "\n"
        "No issues found in 2 files; 0 statements checked."
    )


@pytest.mark.parametrize(
    ("path", "root", "shown"),
    [
        ("/proj/app/x.py", Path("/proj"), "app/x.py"),
        ("/proj/app/x.py", Path("/proj/"), "app/x.py"),
        ("/elsewhere/x.py", Path("/proj"), "/elsewhere/x.py"),
        ("/proj/app/x.py", None, "/proj/app/x.py"),
        ("app/x.py", None, "app/x.py"),
        ("app/x.py", Path("/proj"), "app/x.py"),
    ],
)
def test_text_paths_relative_to_root(path: str, root: Path | None, shown: str) -> None:
    result = CheckResult(issues=(issue(IssueType.SQL_SYNTAX, path, 1, 2, "bad"),), files_checked=1)
    lines = render_text(result, color=False, root=root).splitlines()
    assert lines[0] == f"{shown} (1 issue)"
    assert lines[1].startswith(f"{shown}:1:2: ")


def test_text_escapes_control_characters_in_messages() -> None:
    nasty = "bad \x1b[31mred\x1b[0m\nsecond line \u202eevil"
    result = CheckResult(
        issues=(issue(IssueType.SQL_SYNTAX, "a.py", 1, 1, nasty),), files_checked=1
    )
    plain = render_text(result, color=False)
    assert "\x1b" not in plain and "\u202e" not in plain
    assert len(plain.splitlines()) == 4  # header, issue, blank, summary
    assert "bad \\x1b[31mred\\x1b[0m\\nsecond line \\u202eevil" in plain


# ------------------------------------------------------------------------------------------
# JSON

JSON_KEYS = {
    "type",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "table",
    "column_name",
    "db_type",
    "code_type",
    "helper",
    "origin",
    "suggestion",
    "fingerprint",
}


def test_json_keys_values_and_round_trip() -> None:
    result = full_result()
    data = json.loads(render_json(result))
    assert isinstance(data, list) and len(data) == len(result.issues) + len(result.notes)
    notes = [obj for obj in data if obj["type"] == "NOTE"]
    assert len(notes) == len(result.notes) and data[-len(notes) :] == notes  # issues first
    data = [obj for obj in data if obj["type"] != "NOTE"]
    for obj in [*data, *notes]:
        assert set(obj) == JSON_KEYS
        assert all(
            isinstance(obj[k], int) and obj[k] >= 1
            for k in ("line", "column", "end_line", "end_column")
        )
    assert sorted(map(Issue.from_json, data), key=repr) == sorted(result.issues, key=repr)

    by_type = {obj["type"]: obj for obj in data}
    assert by_type.keys() == {t.value for t in IssueType}
    column = by_type["MISSING_COLUMN"]
    assert (column["line"], column["column"], column["end_line"], column["end_column"]) == (
        3,
        15,
        3,
        19,
    )
    assert column["origin"] == "migrations/0001_init.sql:7"
    assert column["column_name"] == "prénom"
    assert by_type["MISSING_TABLE"]["suggestion"] == "users"
    drift = by_type["SCHEMA_DRIFT"]
    assert (drift["line"], drift["column"], drift["end_line"], drift["end_column"]) == (
        40,
        1,
        42,
        3,
    )


def test_json_is_indented_stable_and_keeps_non_ascii() -> None:
    result = full_result()
    text = render_json(result)
    shuffled = CheckResult(
        issues=tuple(reversed(result.issues)), notes=tuple(reversed(result.notes))
    )
    assert render_json(shuffled) == text
    assert text.startswith('[\n  {\n    "type": ')
    assert "prénom" in text and "危险" in text
    data = json.loads(text)
    keys = [(o["path"], o["line"], o["column"]) for o in data if o["type"] != "NOTE"]
    assert keys == sorted(keys)


def test_json_empty() -> None:
    assert json.loads(render_json(CheckResult())) == []


# ------------------------------------------------------------------------------------------
# SARIF: the structure the SARIF 2.1.0 schema requires, checked by hand (no network here).
# Allowed keys are those of the schema's objects (all have additionalProperties: false).

LEVELS = {"none", "note", "warning", "error"}
ALLOWED = {
    "log": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {
        "tool",
        "invocations",
        "conversion",
        "language",
        "versionControlProvenance",
        "originalUriBaseIds",
        "artifacts",
        "logicalLocations",
        "graphs",
        "results",
        "automationDetails",
        "runAggregates",
        "baselineGuid",
        "redactionTokens",
        "defaultEncoding",
        "defaultSourceLanguage",
        "newlineSequences",
        "columnKind",
        "externalPropertyFileReferences",
        "threadFlowLocations",
        "taxonomies",
        "addresses",
        "translations",
        "policies",
        "webRequests",
        "webResponses",
        "specialLocations",
        "properties",
    },
    "tool": {"driver", "extensions", "properties"},
    "driver": {
        "guid",
        "name",
        "organization",
        "product",
        "productSuite",
        "shortDescription",
        "fullDescription",
        "fullName",
        "version",
        "semanticVersion",
        "dottedQuadFileVersion",
        "releaseDateUtc",
        "downloadUri",
        "informationUri",
        "globalMessageStrings",
        "notifications",
        "rules",
        "taxa",
        "locations",
        "language",
        "contents",
        "isComprehensive",
        "localizedDataSemanticVersion",
        "minimumRequiredLocalizedDataSemanticVersion",
        "associatedComponent",
        "translationMetadata",
        "supportedTaxonomies",
        "properties",
    },
    "rule": {
        "id",
        "deprecatedIds",
        "guid",
        "deprecatedGuids",
        "name",
        "deprecatedNames",
        "shortDescription",
        "fullDescription",
        "messageStrings",
        "defaultConfiguration",
        "helpUri",
        "help",
        "relationships",
        "properties",
    },
    "configuration": {"enabled", "level", "rank", "parameters", "properties"},
    "multiformat": {"text", "markdown", "properties"},
    "message": {"text", "markdown", "id", "arguments", "properties"},
    "result": {
        "ruleId",
        "ruleIndex",
        "rule",
        "kind",
        "level",
        "message",
        "analysisTarget",
        "locations",
        "guid",
        "correlationGuid",
        "occurrenceCount",
        "partialFingerprints",
        "fingerprints",
        "stacks",
        "codeFlows",
        "graphs",
        "graphTraversals",
        "relatedLocations",
        "suppressions",
        "baselineState",
        "rank",
        "attachments",
        "hostedViewerUri",
        "workItemUris",
        "provenance",
        "fixes",
        "taxa",
        "webRequest",
        "webResponse",
        "properties",
    },
    "location": {
        "id",
        "physicalLocation",
        "logicalLocations",
        "message",
        "annotations",
        "relationships",
        "properties",
    },
    "physical": {"address", "artifactLocation", "region", "contextRegion", "properties"},
    "artifact": {"uri", "uriBaseId", "index", "description", "properties"},
    "region": {
        "startLine",
        "startColumn",
        "endLine",
        "endColumn",
        "charOffset",
        "charLength",
        "byteOffset",
        "byteLength",
        "snippet",
        "message",
        "sourceLanguage",
        "properties",
    },
    "invocation": {
        "commandLine",
        "arguments",
        "responseFiles",
        "startTimeUtc",
        "endTimeUtc",
        "exitCode",
        "ruleConfigurationOverrides",
        "notificationConfigurationOverrides",
        "toolExecutionNotifications",
        "toolConfigurationNotifications",
        "exitCodeDescription",
        "exitSignalName",
        "exitSignalNumber",
        "processStartFailureMessage",
        "executionSuccessful",
        "machine",
        "account",
        "processId",
        "executableLocation",
        "workingDirectory",
        "environmentVariables",
        "stdin",
        "stdout",
        "stderr",
        "stdoutStderr",
        "properties",
    },
    "notification": {
        "locations",
        "message",
        "level",
        "threadId",
        "timeUtc",
        "exception",
        "descriptor",
        "associatedRule",
        "properties",
    },
}


def check_object(kind: str, obj: object, required: tuple[str, ...] = ()) -> dict[str, object]:
    assert isinstance(obj, dict), f"{kind} is not an object: {obj!r}"
    assert set(obj) <= ALLOWED[kind], f"{kind} has unknown keys {set(obj) - ALLOWED[kind]}"
    for key in required:
        assert key in obj, f"{kind} lacks required {key!r}"
    if "properties" in obj:
        bag = obj["properties"]
        assert isinstance(bag, dict)
        if "tags" in bag:
            tags = bag["tags"]
            assert isinstance(tags, list) and all(isinstance(t, str) for t in tags)
            assert len(set(tags)) == len(tags)
    return obj


def check_text(kind: str, obj: object) -> None:
    checked = check_object(kind, obj, ("text",))
    assert isinstance(checked["text"], str) and checked["text"]


def check_relative_uri(artifact: object) -> str:
    checked = check_object("artifact", artifact, ("uri",))
    uri = checked["uri"]
    assert isinstance(uri, str)
    assert checked.get("uriBaseId") == "%SRCROOT%"
    assert "\\" not in uri and " " not in uri
    assert not uri.startswith("/") and urlsplit(uri).scheme == ""
    return uri


def check_region(region: object) -> dict[str, object]:
    checked = check_object("region", region, ("startLine",))
    for key, value in checked.items():
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 1, key
    return checked


def check_location(location: object) -> tuple[str, dict[str, object]]:
    loc = check_object("location", location, ("physicalLocation",))
    if "id" in loc:
        assert isinstance(loc["id"], int) and loc["id"] >= -1
    if "message" in loc:
        check_text("message", loc["message"])
    physical = check_object("physical", loc["physicalLocation"], ("artifactLocation",))
    uri = check_relative_uri(physical["artifactLocation"])
    region = check_region(physical["region"]) if "region" in physical else {}
    return uri, region


def check_sarif(text: str) -> dict[str, object]:
    """Assert what SARIF 2.1.0 and GitHub code scanning require; return the one run."""
    log = check_object("log", json.loads(text), ("version", "runs"))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    runs = log["runs"]
    assert isinstance(runs, list) and len(runs) == 1
    run = check_object("run", runs[0], ("tool", "results"))
    assert run["columnKind"] == "unicodeCodePoints"

    tool = check_object("tool", run["tool"], ("driver",))
    driver = check_object("driver", tool["driver"], ("name",))
    assert driver["name"] == "dbheal"
    assert isinstance(driver["informationUri"], str)
    assert urlsplit(driver["informationUri"]).scheme == "https"
    rules = driver["rules"]
    assert isinstance(rules, list)
    for rule in rules:
        rule = check_object("rule", rule, ("id",))
        for key in ("shortDescription", "fullDescription", "help"):
            check_text("multiformat", rule[key])
        config = check_object("configuration", rule["defaultConfiguration"])
        assert config["level"] in LEVELS
        assert isinstance(rule["helpUri"], str) and urlsplit(rule["helpUri"]).scheme == "https"
    ids = [rule["id"] for rule in rules if isinstance(rule, dict)]
    assert len(set(ids)) == len(ids)

    results = run["results"]
    assert isinstance(results, list)
    for result in results:
        res = check_object("result", result, ("message",))
        check_text("message", res["message"])
        assert res["level"] in LEVELS
        index = res["ruleIndex"]
        assert isinstance(index, int) and 0 <= index < len(rules)
        assert ids[index] == res["ruleId"]
        locations = res["locations"]
        assert isinstance(locations, list) and len(locations) == 1
        _, region = check_location(locations[0])
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= region.keys()
        fingerprints = res.get("partialFingerprints", {})
        assert isinstance(fingerprints, dict)
        assert all(isinstance(v, str) for v in fingerprints.values())
        for related in res.get("relatedLocations", []):  # type: ignore[attr-defined]
            check_location(related)

    invocations = run["invocations"]
    assert isinstance(invocations, list) and len(invocations) == 1
    invocation = check_object("invocation", invocations[0], ("executionSuccessful",))
    assert invocation["executionSuccessful"] is True
    for note in invocation["toolExecutionNotifications"]:  # type: ignore[attr-defined]
        notification = check_object("notification", note, ("message",))
        check_text("message", notification["message"])
        assert notification.get("level", "warning") in LEVELS
        for location in notification.get("locations", []):  # type: ignore[attr-defined]
            check_location(location)
    return run


def test_sarif_is_valid_and_complete() -> None:
    result = full_result()
    run = check_sarif(render_sarif(result, tool_version="1.2.3", root=ROOT))
    driver = run["tool"]["driver"]  # type: ignore[index]
    assert driver["version"] == "1.2.3"
    assert [r["id"] for r in driver["rules"]] == [t.value for t in IssueType]
    assert len(run["results"]) == len(result.issues)  # type: ignore[arg-type]
    assert len(run["invocations"][0]["toolExecutionNotifications"]) == 2  # type: ignore[index]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///proj/"}}


def test_sarif_rules() -> None:
    rules = json.loads(render_sarif(CheckResult(), tool_version="0"))["runs"][0]["tool"]["driver"][
        "rules"
    ]
    by_id = {rule["id"]: rule for rule in rules}
    for issue_type in IssueType:
        rule = by_id[issue_type.value]
        assert rule["helpUri"] == f"{DOCS_URL}#{issue_type.value.lower()}"
        assert rule["name"] and rule["properties"]["tags"]
        severity = rule["properties"].get("security-severity")
        if issue_type in (IssueType.SQL_INJECTION, IssueType.DYNAMIC_IDENTIFIER):
            assert isinstance(severity, str) and 0.0 < float(severity) <= 10.0
            assert "security" in rule["properties"]["tags"]
        else:
            assert severity is None
    assert by_id["SQL_INJECTION"]["defaultConfiguration"]["level"] == "error"
    assert by_id["SELECT_STAR"]["defaultConfiguration"]["level"] == "note"
    assert by_id["MISSING_INDEX"]["defaultConfiguration"]["level"] == "warning"


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "warning"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
    ],
)
def test_sarif_level(severity: Severity, level: str) -> None:
    result = CheckResult(
        issues=(issue(IssueType.SELECT_STAR, "a.py", 1, 1, "x", severity=severity),)
    )
    run = check_sarif(render_sarif(result, tool_version="0"))
    assert run["results"][0]["level"] == level  # type: ignore[index]


def test_sarif_result_fields() -> None:
    run = check_sarif(render_sarif(full_result(), tool_version="0", root=ROOT))
    results = {r["ruleId"]: r for r in run["results"]}  # type: ignore[attr-defined]

    column = results["MISSING_COLUMN"]
    assert column["message"]["text"] == "no column 'prénom' in table 'users'"
    assert column["partialFingerprints"] == {"dbheal/v1": "fp-missing_column-3-15"}
    physical = column["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "app/models.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 3, "startColumn": 15, "endLine": 3, "endColumn": 19}
    (related,) = column["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "migrations/0001_init.sql"
    assert related["physicalLocation"]["region"] == {"startLine": 7}
    assert "users" in related["message"]["text"]

    table = results["MISSING_TABLE"]
    assert table["message"]["text"] == "no table 'userz'  did you mean 'users'?"
    assert "relatedLocations" not in table

    drift = results["SCHEMA_DRIFT"]["locations"][0]["physicalLocation"]["region"]
    assert drift == {"startLine": 40, "startColumn": 1, "endLine": 42, "endColumn": 3}

    injection = results["SQL_INJECTION"]["locations"][0]["physicalLocation"]
    assert injection["artifactLocation"]["uri"] == "reports/%C3%A9tat.py"
    assert results["SQL_INJECTION"]["ruleIndex"] == list(IssueType).index(IssueType.SQL_INJECTION)


def test_sarif_notifications() -> None:
    run = check_sarif(render_sarif(full_result(), tool_version="0", root=ROOT))
    notes = run["invocations"][0]["toolExecutionNotifications"]  # type: ignore[index]
    assert [n["message"]["text"] for n in notes] == ["skipped: syntax error", "not a Python file"]
    first = notes[0]["locations"][0]["physicalLocation"]
    assert first == {
        "artifactLocation": {"uri": "app/broken.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4},
    }
    assert "region" not in notes[1]["locations"][0]["physicalLocation"]


def test_sarif_empty_result_still_has_results_and_invocation() -> None:
    run = check_sarif(render_sarif(CheckResult(), tool_version="0"))
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert "originalUriBaseIds" not in run


@pytest.mark.parametrize(
    ("path", "root", "uri"),
    [
        ("/proj/app/x.py", Path("/proj"), "app/x.py"),
        ("app/x.py", None, "app/x.py"),
        ("app/my file#1.py", None, "app/my%20file%231.py"),
        ("/proj/deep/er/x.py", Path("/proj/deep"), "er/x.py"),
    ],
)
def test_sarif_uris_relative_with_forward_slashes(path: str, root: Path | None, uri: str) -> None:
    result = CheckResult(issues=(issue(IssueType.SQL_SYNTAX, path, 1, 1, "bad"),))
    run = check_sarif(render_sarif(result, tool_version="0", root=root))
    location = run["results"][0]["locations"][0]["physicalLocation"]  # type: ignore[index]
    assert location["artifactLocation"]["uri"] == uri


def test_sarif_absolute_path_outside_root_is_a_file_uri() -> None:
    result = CheckResult(issues=(issue(IssueType.SQL_SYNTAX, "/other/x.py", 1, 1, "bad"),))
    data = json.loads(render_sarif(result, tool_version="0", root=ROOT))
    artifact = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///other/x.py"}


@pytest.mark.parametrize(
    ("span", "region"),
    [
        (Span(1, 1, 1, 2), {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}),
        (Span(0, 0, 0, 0), {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}),
        (Span(5, 9, 5, 3), {"startLine": 5, "startColumn": 9, "endLine": 5, "endColumn": 9}),
        (Span(5, 9, 7, 1), {"startLine": 5, "startColumn": 9, "endLine": 7, "endColumn": 1}),
    ],
)
def test_sarif_region_values_at_least_one(span: Span, region: dict[str, int]) -> None:
    bad = Issue(IssueType.SQL_SYNTAX, Severity.CRITICAL, "a.py", span, "bad")
    run = check_sarif(render_sarif(CheckResult(issues=(bad,)), tool_version="0"))
    result = run["results"][0]  # type: ignore[index]
    assert result["locations"][0]["physicalLocation"]["region"] == region
    assert "partialFingerprints" not in result  # no fingerprint, none invented


# ------------------------------------------------------------------------------------------
# Exit code


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ((), Severity.CRITICAL, 0),
        ((), Severity.LOW, 0),
        ((Severity.HIGH, Severity.LOW), Severity.CRITICAL, 0),
        ((Severity.HIGH, Severity.LOW), Severity.HIGH, 1),
        ((Severity.LOW,), Severity.MEDIUM, 0),
        ((Severity.LOW,), Severity.LOW, 1),
        ((Severity.CRITICAL,), Severity.CRITICAL, 1),
        ((Severity.CRITICAL,), Severity.LOW, 1),
    ],
)
def test_exit_code(severities: tuple[Severity, ...], fail_on: Severity, code: int) -> None:
    result = CheckResult(
        issues=tuple(
            issue(IssueType.SQL_SYNTAX, "a.py", n + 1, 1, "x", severity=s)
            for n, s in enumerate(severities)
        ),
    )
    assert exit_code(result, fail_on) == code


def test_the_summary_says_how_many_statements_were_only_partly_checked() -> None:
    result = CheckResult(files_checked=3, statements_checked=12, statements_partly=2)
    assert render_text(result, color=False).splitlines()[-1] == (
        "No issues found in 3 files; 12 statements checked, 2 of them partly."
    )


# ------------------------------------------------------------------------------------------
# `dbheal check --format json` as a script runs it: notes included, paths from the project root.


def _check_json(cwd: Path, *args: str) -> list[dict[str, object]]:
    from tests.conftest import run_dbheal

    done = run_dbheal(cwd, "check", "--no-cache", "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert isinstance(data, list)
    return data


def test_json_carries_the_note_of_a_file_with_a_syntax_error(shop: Path) -> None:
    (shop / "app" / "broken.py").write_text(
        'def f(db):\n    db.execute("SELECT * FROM users")\n\ndef g(:\n', encoding="utf-8"
    )
    text = run_check_text(shop, "app/broken.py")
    assert "app/broken.py:4: note: not checked: Python syntax error" in text
    data = _check_json(shop, "app/broken.py")
    (note,) = data
    assert note["type"] == "NOTE" and note["severity"] == "note"
    assert note["path"] == "app/broken.py" and note["line"] == 4
    assert "not checked: Python syntax error" in str(note["message"])
    assert set(note) == JSON_KEYS  # the same keys as an issue: a consumer reads it the same way


def run_check_text(cwd: Path, *args: str) -> str:
    from tests.conftest import run_dbheal

    return run_dbheal(cwd, "check", "--no-cache", *args).stdout


def test_json_paths_are_relative_to_the_project_root_from_a_subfolder(shop: Path) -> None:
    from_root = _check_json(shop, "app")
    from_app = _check_json(shop / "app", ".")
    assert from_app == from_root
    paths = {str(i["path"]) for i in from_app}
    assert "app/routes/auth.py" in paths and all(p.startswith("app/") for p in paths), paths
    origins = {str(i["origin"]) for i in from_app if i["origin"]}
    assert origins and all(o.startswith("migrations/") for o in origins), origins


def test_readme_sample_lines_are_what_the_demo_prints(shop: Path) -> None:
    """`make demo` runs `dbheal check` inside its copy of the shop: README's sample lines are
    that output (a line ending "..." is cut there)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("every kind of finding", 1)[1].split("```", 2)[1]
    samples = [line for line in block.splitlines() if line.strip()]
    assert len(samples) >= 4
    printed = run_check_text(shop).splitlines()
    for sample in samples:
        prefix = sample.removesuffix(" ...")
        assert any(line.startswith(prefix) for line in printed), sample
