"""The admin's HTTP server: the standard library's ThreadingHTTPServer on 127.0.0.1, and the
checks every request passes before it reaches its route (`routes.py`).

Security model (docs/admin.md):

- the socket is bound to 127.0.0.1 only;
- a request whose Host header is not `127.0.0.1:PORT` or `localhost:PORT` is refused (DNS
  rebinding: a page of another site that resolves its name to 127.0.0.1 sends its own Host);
- every request needs the token printed at start: a visit with `?token=` in the URL opens a
  session (an HttpOnly, SameSite=Strict cookie named for the port) and is redirected to the
  same URL without the token; every other request needs that cookie;
- only POST changes anything; a POST needs the session's CSRF token (form field `csrf` or
  header `X-CSRF-Token`, compared in constant time) and an Origin header equal to the
  server's own origin;
- every response carries a strict Content-Security-Policy (no inline script or style, nothing
  from elsewhere) and `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .app import AdminApp, Notice
from .html import Markup
from .layout import forbidden_page
from .routes import GET_ROUTES, POST_ROUTES

__all__ = ["CSP", "AdminHandler", "AdminServer", "Session"]

HOST = "127.0.0.1"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # Not "no-referrer": with it a browser sends `Origin: null` on a form POST, and the origin
    # check below would refuse the admin's own forms. "same-origin" never leaves the server.
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
STATIC_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "app.css": "text/css; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "favicon.svg": "image/svg+xml",
    }
)
MAX_BODY = 1_000_000
MAX_SESSIONS = 64


@dataclass
class Session:
    """One browser that presented the token: its CSRF token and the notices it has not seen."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    notices: list[Notice] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AdminServer(ThreadingHTTPServer):
    """The admin of one project, served on 127.0.0.1:`port` (0: a free port)."""

    daemon_threads = True
    allow_reuse_address = False  # a second admin on the same port must fail, not share it

    def __init__(self, app: AdminApp, port: int = 0, *, token: str | None = None) -> None:
        self.app = app
        self.token = token or secrets.token_urlsafe(32)
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._sessions_lock = threading.Lock()
        super().__init__((HOST, port), AdminHandler)
        self.port = int(self.server_address[1])
        self.cookie_name = f"dbheal_admin_{self.port}"
        self.allowed_hosts = frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def url(self) -> str:
        """The URL to open: the server's address with the token."""
        return f"http://{HOST}:{self.port}/?token={self.token}"

    def new_session(self) -> tuple[str, Session]:
        """Open a session; the oldest goes when there are too many."""
        sid = secrets.token_urlsafe(32)
        with self._sessions_lock:
            self._sessions[sid] = session = Session()
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return sid, session

    def session(self, sid: str) -> Session | None:
        """Return the session of a cookie value, or None."""
        with self._sessions_lock:
            for known, session in self._sessions.items():
                if hmac.compare_digest(known.encode(), sid.encode()):
                    return session
        return None

    def token_ok(self, given: str) -> bool:
        """Return whether `given` is the server's token (compared in constant time)."""
        return hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))


class AdminHandler(BaseHTTPRequestHandler):
    """One request: the checks of the module docstring, then its route (`routes.py`): a page, a
    JSON answer or an action."""

    server: AdminServer
    protocol_version = "HTTP/1.1"
    server_version = "dbheal-admin"

    def version_string(self) -> str:
        return self.server_version

    # --- responses ----------------------------------------------------------------------------

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The base class's own error page (malformed requests, unknown methods), with our
        # headers and no echo of the request.
        status = HTTPStatus(code)
        self._send(
            status, f"{status.value} {status.phrase}\n".encode(), "text/plain; charset=utf-8"
        )

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are not logged: the first one carries the token in its URL.
        return

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        *,
        cache: str = "no-store",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_html(self, page: Markup, status: HTTPStatus = HTTPStatus.OK) -> None:
        """Answer with a page."""
        self._send(status, page.encode("utf-8"), "text/html; charset=utf-8")

    def send_json(self, data: object, status: HTTPStatus = HTTPStatus.OK) -> None:
        """Answer with `data` as JSON."""
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def send_redirect(self, location: str, headers: Mapping[str, str] | None = None) -> None:
        """Send the browser to `location` (a path of this server) with a GET."""
        self._send(
            HTTPStatus.SEE_OTHER,
            b"",
            "text/plain; charset=utf-8",
            {"Location": location, **(headers or {})},
        )

    def _refuse(self, refused: _Refused) -> None:
        # The request's body may be unread: the connection cannot serve another request.
        self.close_connection = True
        if self.path.startswith("/api/") or self.command == "POST":
            self._send(
                refused.status,
                (refused.message + "\n").encode(),
                "text/plain; charset=utf-8",
                {"Connection": "close"},
            )
        else:
            body = forbidden_page(refused.message).encode("utf-8")
            self._send(refused.status, body, "text/html; charset=utf-8", {"Connection": "close"})

    # --- the checks ---------------------------------------------------------------------------

    def _check_host(self) -> None:
        host = (self.headers.get("Host") or "").strip().lower()
        if len(self.headers.get_all("Host") or []) != 1 or host not in self.server.allowed_hosts:
            raise _Refused(
                HTTPStatus.FORBIDDEN,
                "refused: the Host header must be 127.0.0.1 or localhost with this server's port",
            )

    def _cookie_session(self) -> Session | None:
        # Parsed by hand: other servers on localhost may have set cookies SimpleCookie rejects.
        for header in self.headers.get_all("Cookie") or []:
            for pair in header.split(";"):
                name, sep, value = pair.strip().partition("=")
                if sep and name == self.server.cookie_name:
                    session = self.server.session(value.strip().strip('"'))
                    if session is not None:
                        return session
        return None

    def _check_origin(self) -> None:
        origin = self.headers.get("Origin")
        host = (self.headers.get("Host") or "").strip().lower()
        if origin is None or origin.strip().lower() != f"http://{host}":
            raise _Refused(HTTPStatus.FORBIDDEN, "refused: not a same-origin request")

    def _check_csrf(self, session: Session, form: Mapping[str, str]) -> None:
        given = form.get("csrf") or self.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(given.encode("utf-8"), session.csrf.encode("utf-8")):
            raise _Refused(HTTPStatus.FORBIDDEN, "refused: missing or wrong CSRF token")

    # --- methods ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _method_not_allowed(self) -> None:
        self.close_connection = True  # a body it may have sent is not read
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"405 Method Not Allowed\n",
            "text/plain; charset=utf-8",
            {"Allow": "GET, POST", "Connection": "close"},
        )

    def _other_method(self) -> None:
        def run() -> None:
            if self._cookie_session() is None:
                raise _Refused(HTTPStatus.FORBIDDEN, "refused: no session")
            self._method_not_allowed()

        self._handle(run)

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other_method

    def _handle(self, run: Callable[[], None]) -> None:
        try:
            self._check_host()
            run()
        except _Refused as refused:
            self._refuse(refused)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                b"500 Internal Server Error: see the terminal of dbheal admin\n",
                "text/plain; charset=utf-8",
            )

    def _get(self) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if "token" in params:
            if not self.server.token_ok(params.pop("token")):
                raise _Refused(
                    HTTPStatus.FORBIDDEN,
                    "That token is not this server's. Open the URL that `dbheal admin` printed.",
                )
            sid, _ = self.server.new_session()
            cookie = f"{self.server.cookie_name}={sid}; Path=/; HttpOnly; SameSite=Strict"
            # The same page without the token; only a path of this server ("//x" would leave).
            path = url.path if re.fullmatch(r"/(?![/\\])[^\\]*", url.path) else "/"
            query = urlencode(params)
            self.send_redirect(path + (f"?{query}" if query else ""), {"Set-Cookie": cookie})
            return
        session = self._cookie_session()
        if session is None:
            raise _Refused(
                HTTPStatus.FORBIDDEN,
                "This page needs the token: open the URL that `dbheal admin` printed "
                "(http://127.0.0.1:PORT/?token=...).",
            )
        route = GET_ROUTES.get(url.path)
        if route is not None:
            route(self, session, params)
        elif url.path.startswith("/static/") and url.path[8:] in STATIC_TYPES:
            name = url.path[8:]
            data_path = resources.files("dbheal_lsp.admin").joinpath("static").joinpath(name)
            data = data_path.read_bytes()
            self._send(HTTPStatus.OK, data, STATIC_TYPES[name], cache="no-cache")
        elif url.path.startswith("/actions/"):
            self._method_not_allowed()
        else:
            self._send(HTTPStatus.NOT_FOUND, b"404 Not Found\n", "text/plain; charset=utf-8")

    def _post(self) -> None:
        session = self._cookie_session()
        if session is None:
            raise _Refused(
                HTTPStatus.FORBIDDEN, "refused: no session (open the URL with the token)"
            )
        self._check_origin()
        form = self._read_form()
        self._check_csrf(session, form)
        route = POST_ROUTES.get(urlsplit(self.path).path)
        if route is None:
            self._send(HTTPStatus.NOT_FOUND, b"404 Not Found\n", "text/plain; charset=utf-8")
            return
        route(self, session, form)

    def _read_form(self) -> dict[str, str]:
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            raise _Refused(HTTPStatus.LENGTH_REQUIRED, "refused: Content-Length required")
        length = int(length_text)
        if length > MAX_BODY:
            raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "refused: request too large")
        body = self.rfile.read(length)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body and content_type != "application/x-www-form-urlencoded":
            raise _Refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "refused: expected a form")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(HTTPStatus.BAD_REQUEST, "refused: the form is not UTF-8") from None
        return dict(parse_qsl(text, keep_blank_values=True))
