"""The admin page: a local web app over the same engine, safety layer and state file as the CLI.

`dbheal admin [PATH] [--port N] [--open]` serves it on 127.0.0.1 (docs/admin.md). Modules:

- `http`: the HTTP server and the checks every request passes (Host, token, CSRF, Origin);
- `routes`: the page, JSON answer or action of each path, over `app`;
- `app`: what each page shows and does, through `Project`, `FixEngine` and `StateStore`;
- `layout`: the frame of every page and the pieces pages share; `dashboard_page`,
  `issues_page` (with the Manual Fix page), `history_page` (with the rollback confirmation) and
  `settings_page`: each page's HTML, built by `html`, which escapes everything it is given;
- `settings`: [tool.dbheal] as a form, validated by `load_config`, written with tomlkit;
- `static/`: the stylesheet, the script and the icon (no build step, nothing from elsewhere).
"""

from __future__ import annotations

from dbheal_lsp.admin.app import AdminApp
from dbheal_lsp.admin.http import AdminServer

__all__ = ["AdminApp", "AdminServer"]
