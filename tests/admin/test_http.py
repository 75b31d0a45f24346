"""The admin's security model, one test per rule, with plain HTTP requests (docs/admin.md)."""

from __future__ import annotations

import errno
import json
import re
import socket

import pytest

from dbheal_lsp.admin.http import CSP

from .conftest import EVIL_FILE, EVIL_SQL, Running

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'"
)


def _scans(admin: Running) -> int:
    return len(admin.app.store.scans(limit=1000))


def _outward_address() -> str | None:
    """An address of this machine that is not loopback, if it has one (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_binds_127_0_0_1_only(admin: Running) -> None:
    assert admin.server.server_address[0] == "127.0.0.1"
    assert admin.server.socket.getsockname()[0] == "127.0.0.1"
    assert admin.server.url.startswith(f"http://127.0.0.1:{admin.port}/?token=")
    outward = _outward_address()
    if outward is None:
        return  # no other interface to try
    with pytest.raises(OSError) as refused:
        socket.create_connection((outward, admin.port), timeout=3).close()
    assert refused.value.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, None)


def test_every_request_needs_the_token(admin: Running) -> None:
    client = admin.client()
    for path in (
        "/",
        "/issues",
        "/history",
        "/settings",
        "/fix",
        "/static/app.js",
        "/api/plan?entry=1",
    ):
        response = client.get(path)
        assert response.status == 403, path
        assert "dbheal" not in response.header("Set-Cookie")
    assert client.get("/?token=not-the-token").status == 403
    assert client.get(f"/?token={client.token[:-1]}").status == 403
    assert client.get("/", headers={"Cookie": f"dbheal_admin_{admin.port}=made-up"}).status == 403
    # A session cookie does not open another server (the cookie is named for the port).
    assert client.get("/", headers={"Cookie": f"dbheal_admin_1={client.token}"}).status == 403


def test_the_token_sets_a_strict_cookie_and_leaves_the_url(admin: Running) -> None:
    client = admin.client()
    first = client.get(f"/issues?severity=critical&token={client.token}", cookie=False)
    assert first.status == 303
    assert first.header("Location") == "/issues?severity=critical"  # the token is gone
    cookie = first.header("Set-Cookie")
    name, _, rest = cookie.partition("=")
    assert name == f"dbheal_admin_{admin.port}"
    attributes = [a.strip().lower() for a in rest.split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert client.token not in cookie  # a session id of its own, not the token
    client.cookie = cookie.split(";")[0]
    page = client.get("/issues?severity=critical")
    assert page.status == 200
    assert client.token not in page.text
    # The redirect never leaves the server ("//host" would be another site's URL).
    for path in ("//evil.example/", "/\\evil.example/"):
        location = client.get(f"{path}?token={client.token}").header("Location")
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1",
        "localhost",
        "127.0.0.1:1",
        "127.0.0.2:{port}",
        "0.0.0.0:{port}",
        "[::1]:{port}",
        "127.0.0.1:{port}.evil.example",
        "",
    ],
)
def test_a_foreign_host_header_is_refused(admin: Running, host: str) -> None:
    client = admin.client()
    client.login()
    response = client.get("/", host=host.format(port=admin.port))
    assert response.status == 403
    assert "Host" in response.text
    with_token = client.get(f"/?token={client.token}", host=host.format(port=admin.port))
    assert with_token.status == 403
    assert not with_token.header("Set-Cookie")


def test_loopback_hosts_are_accepted(admin: Running) -> None:
    client = admin.client()
    client.login()
    for host in (f"127.0.0.1:{admin.port}", f"localhost:{admin.port}", f"LOCALHOST:{admin.port}"):
        assert client.get("/", host=host).status == 200, host


def test_a_state_change_needs_post(admin: Running) -> None:
    client = admin.client()
    client.login()
    before = _scans(admin)
    assert client.get("/actions/scan").status == 405
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.request(method, "/actions/scan", headers={"Content-Length": "0"})
        assert response.status == 405, method
    assert _scans(admin) == before


def test_a_post_needs_the_csrf_token(admin: Running) -> None:
    client = admin.client()
    client.login()
    before = _scans(admin)
    assert client.post("/actions/scan", {}, csrf=None).status == 403
    assert client.post("/actions/scan", {}, csrf="x" * len(client.csrf)).status == 403
    assert client.post("/actions/scan", {}, csrf=client.csrf[:-1]).status == 403
    assert client.post("/actions/scan", {}, csrf="é" * 10).status == 403
    # Another session's token is not this session's.
    other = admin.client()
    other.login()
    assert client.post("/actions/scan", {}, csrf=other.csrf).status == 403
    # Without a session there is nothing to compare with.
    assert admin.client().post("/actions/scan", {}, csrf=client.csrf).status == 403
    assert _scans(admin) == before
    done = client.post("/actions/scan", {})
    assert done.status == 303 and done.header("Location") == "/"
    assert _scans(admin) == before + 1
    # In a header instead of the form.
    header = client.post("/actions/scan", {}, csrf=None, headers={"X-CSRF-Token": client.csrf})
    assert header.status == 303
    assert _scans(admin) == before + 2


def test_a_post_needs_a_same_origin_origin(admin: Running) -> None:
    client = admin.client()
    client.login()
    before = _scans(admin)
    for origin in (
        None,
        "null",
        "http://evil.example",
        f"http://evil.example:{admin.port}",
        f"https://127.0.0.1:{admin.port}",
        "http://127.0.0.1:1",
        f"http://localhost:{admin.port}",  # another origin than the Host the request names
    ):
        response = client.post("/actions/scan", {}, origin=origin)
        assert response.status == 403, origin
    assert _scans(admin) == before
    via_localhost = client.post(
        "/actions/scan",
        {},
        origin=f"http://localhost:{admin.port}",
        host=f"localhost:{admin.port}",
    )
    assert via_localhost.status == 303
    assert _scans(admin) == before + 1


def test_security_headers_on_every_response(admin: Running) -> None:
    assert CSP == EXPECTED_CSP
    client = admin.client()
    anonymous = [client.get("/"), client.get("/", host="evil.example")]
    client.login()
    responses = [
        *anonymous,
        client.get(f"/?token={client.token}"),
        *(client.get(p) for p in ("/", "/issues", "/history", "/settings", "/fix")),
        client.get("/static/app.css"),
        client.get("/static/app.js"),
        client.get("/api/plan?entry=999"),
        client.get("/no-such-page"),
        client.post("/actions/scan", {}, csrf=None),
        client.post("/actions/scan", {}),
        client.request("DELETE", "/", headers={"Content-Length": "0"}),
    ]
    for response in responses:
        assert response.header("Content-Security-Policy") == EXPECTED_CSP, response.status
        assert response.header("X-Content-Type-Options") == "nosniff", response.status
    assert client.get("/static/app.js").header("Content-Type").startswith("text/javascript")
    assert client.get("/static/app.css").header("Content-Type").startswith("text/css")


def test_pages_have_no_inline_script_or_style(admin: Running) -> None:
    client = admin.client()
    client.login()
    for path in ("/", "/issues", "/history", "/settings", "/fix"):
        text = client.get(path).text
        assert " style=" not in text and "<style" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path
        for script in re.findall(r"<script[^>]*>", text):
            assert 'src="/static/app.js"' in script or 'type="application/json"' in script
        assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in text


def test_code_is_shown_as_text(evil_admin: Running) -> None:
    client = evil_admin.client()
    client.login()
    evil_admin.app.store.record_event(
        f"no such table: {EVIL_FILE}", f"SELECT '{EVIL_SQL}'", path=f"app/{EVIL_FILE}", line=5
    )
    pages = {p: client.get(p).text for p in ("/", "/issues", "/fix")}
    for path, text in pages.items():
        assert "<img src=x" not in text, path
        assert "<script>alert(1)" not in text, path
    issues = pages["/issues"]
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in issues
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in issues
    dashboard = pages["/"]
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in dashboard  # the event
    # The issue's fixes come as JSON, which the page shows with textContent.
    fingerprint = next(
        i.fingerprint for i in evil_admin.app.result().issues if i.path.endswith(EVIL_FILE)
    )
    preview = client.get(f"/api/issue-fixes?fp={fingerprint}")
    assert preview.status == 200
    assert preview.header("Content-Type").startswith("application/json")
    assert json.loads(preview.body)["issue"]["path"] == f"app/{EVIL_FILE}"


def test_a_refused_request_closes_its_connection(admin: Running) -> None:
    # Its body is not read, so the connection must not go on to read "the next request" from it.
    client = admin.client()
    client.login()
    before = _scans(admin)
    inner = (
        f"POST /actions/scan HTTP/1.1\r\nHost: 127.0.0.1:{admin.port}\r\n"
        f"Cookie: {client.cookie}\r\nOrigin: {client.origin}\r\n"
        f"X-CSRF-Token: {client.csrf}\r\nContent-Length: 0\r\n\r\n"
    )
    outer = (
        f"POST /actions/scan HTTP/1.1\r\nHost: 127.0.0.1:{admin.port}\r\n"
        f"Cookie: {client.cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(inner)}\r\n\r\n{inner}"
    )
    with socket.create_connection(("127.0.0.1", admin.port), timeout=10) as conn:
        conn.sendall(outer.encode())
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 ") == 1
    assert received.startswith(b"HTTP/1.1 403 ")
    assert b"\r\nConnection: close\r\n" in received
    assert _scans(admin) == before
