"""`dbheal admin` as a user starts it: the URL line, the port, the errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.admin.conftest import Client, serve_cli


def test_prints_its_url_first_and_serves_it(shop: Path) -> None:
    for served in serve_cli(shop):
        assert served.first_line == f"dbheal admin: {served.base}/?token={served.token}\n"
        assert served.port > 0
        client = Client(served.port, served.token)
        assert client.get("/").status == 403
        client.login()
        page = client.get("/issues")
        assert page.status == 200 and "app/store/orders.py" in page.text
        assert (shop / ".dbheal" / "state.sqlite").is_file()


def test_each_start_has_its_own_token(shop: Path) -> None:
    tokens = {served.token for _ in range(2) for served in serve_cli(shop)}
    assert len(tokens) == 2


def test_a_taken_port_is_a_clear_error(shop: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "dbheal_lsp", "admin", str(shop), "--port", str(port)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port 0" in result.stderr
    assert result.stdout == ""


def test_usage_errors(tmp_path: Path) -> None:
    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dbheal_lsp", "admin", *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )

    missing = admin(str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert admin(str(tmp_path), "--port", "70000").returncode == 2
    (tmp_path / "pyproject.toml").write_text('[tool.dbheal]\ndialect = "oracle"\n')
    invalid = admin(str(tmp_path), "--port", "0")
    assert invalid.returncode == 2 and "dialect must be one of" in invalid.stderr
