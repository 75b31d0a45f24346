"""Fixtures of the admin's tests: a server on a copy of the demo, and a plain HTTP client."""

from __future__ import annotations

import http.client
import queue
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

from dbheal_lsp.admin import AdminApp, AdminServer
from tests.conftest import copy_shop

# A file name and SQL that would run script if the admin ever built HTML from them unescaped.
EVIL_FILE = "<img src=x onerror=alert(1)>.py"
EVIL_SQL = "</script><script>alert(1)</script>"
EVIL_SOURCE = (
    "import sqlite3\n\n\n"
    "def evil(db: sqlite3.Connection) -> None:\n"
    f"    db.execute(\"SELECT '{EVIL_SQL}' FROM no_such_table_here\")\n"
)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""


@dataclass
class Client:
    """Plain HTTP requests to a running admin, with its session cookie once `login` ran."""

    port: int
    token: str
    cookie: str = ""
    csrf: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        host: str | None = None,
        cookie: bool = True,
    ) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host is not None:
                if host:
                    conn.putheader("Host", host)
            else:
                conn.putheader("Host", f"127.0.0.1:{self.port}")
            all_headers = dict(headers or {})
            if cookie and self.cookie:
                all_headers.setdefault("Cookie", self.cookie)
            if body is not None:
                all_headers.setdefault("Content-Length", str(len(body)))
            for name, value in all_headers.items():
                conn.putheader(name, value)
            conn.endheaders(body)
            response = conn.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs: object) -> Response:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def login(self) -> Response:
        """Visit the URL with the token; keep the session cookie and the page's CSRF token."""
        first = self.get(f"/?token={self.token}", cookie=False)
        assert first.status == 303, first.text
        self.cookie = first.header("Set-Cookie").split(";")[0]
        page = self.get("/")
        assert page.status == 200
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, "no CSRF field on the dashboard"
        self.csrf = match.group(1)
        return first

    def post(
        self,
        path: str,
        fields: Mapping[str, str],
        *,
        origin: str | None = "",
        csrf: str | None = "",
        headers: Mapping[str, str] | None = None,
        host: str | None = None,
    ) -> Response:
        """POST a form; by default with this session's CSRF token and same-origin Origin.
        `csrf=None` / `origin=None` leave them out; other values replace them."""
        data = dict(fields)
        if csrf is not None:
            data["csrf"] = csrf or self.csrf
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        if origin is not None:
            all_headers["Origin"] = origin or self.origin
        return self.request(
            "POST", path, headers=all_headers, body=urlencode(data).encode(), host=host
        )


@dataclass
class Running:
    server: AdminServer
    app: AdminApp
    root: Path

    @property
    def port(self) -> int:
        return self.server.port

    def client(self) -> Client:
        return Client(self.port, self.server.token)


def start(root: Path) -> Iterator[Running]:
    app = AdminApp(root)
    server = AdminServer(app, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Running(server, app, root)
    finally:
        server.shutdown()
        server.server_close()
        app.close()
        thread.join(5)


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Running]:
    """The admin of a fresh copy of the demo, served in this process on a free port."""
    yield from start(copy_shop(tmp_path))


@pytest.fixture
def evil_admin(tmp_path: Path) -> Iterator[Running]:
    """The admin of a demo copy holding a file whose name and SQL are HTML."""
    root = copy_shop(tmp_path)
    (root / "app" / EVIL_FILE).write_text(EVIL_SOURCE, encoding="utf-8")
    yield from start(root)


def logged_in(admin: Running) -> Client:
    """A client of `admin` with a session."""
    client = admin.client()
    client.login()
    return client


def issue_fp(admin: Running, type_: str, path_end: str = "") -> str:
    """The fingerprint of the first issue of `type_` in a file ending with `path_end`."""
    return next(
        i.fingerprint
        for i in admin.app.result().issues
        if i.type.value == type_ and i.path.endswith(path_end)
    )


def index_names(root: Path) -> set[str]:
    """The indexes of the demo database."""
    with sqlite3.connect(root / "shop.db") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def notice_for(client: Client, path: str) -> str:
    """The newest notice `path` shows (each is shown once, then gone)."""
    text = client.get(path).text
    found = re.findall(r'<div class="notice (ok|error)" role="status"><strong>(.*?)</strong>', text)
    assert found, f"no notice on {path}"
    return f"{found[-1][0]}: {found[-1][1]}"


URL_LINE = re.compile(r"dbheal admin: (http://127\.0\.0\.1:(\d+))/\?token=([A-Za-z0-9_-]{32,})\n\Z")


@dataclass
class Served:
    """`dbheal admin` running in a child process."""

    process: subprocess.Popen[str]
    first_line: str
    base: str
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"{self.base}/?token={self.token}"


def serve_cli(root: Path, *args: str, timeout: float = 60.0) -> Iterator[Served]:
    """Run `dbheal admin ROOT --port 0 ARGS` and yield it once it printed its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dbheal_lsp", "admin", str(root), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("dbheal admin printed no URL")
        match = URL_LINE.match(first)
        if match is None:
            process.kill()
            _, err = process.communicate(timeout=10)
            pytest.fail(f"unexpected first line {first!r}; stderr: {err}")
        yield Served(process, first, match.group(1), int(match.group(2)), match.group(3))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
