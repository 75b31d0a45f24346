"""Build gpodder's database by running its own schema code: `python schema.py CHECKOUT OUT_DB`.

`gpodder.schema.upgrade` on an empty file calls `initialize_database`, exactly what gpodder does
on first start (dbsqlite.Database.db).
"""

from __future__ import annotations

import sqlite3
import sys
import types
from pathlib import Path


def _stub_missing(names: list[str]) -> None:
    """Put an empty module in place of each of `names` that is not installed.

    gpodder/__init__.py exits when podcastparser or mygpoclient is missing, and gpodder.util
    imports requests; none of them is used by the schema code (feeds and sync only).
    """
    for name in names:
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            module.__path__ = []  # a package, so that `requests.exceptions` imports too
            sys.modules[name] = module
    requests = sys.modules.get("requests")
    if requests is not None and not hasattr(requests, "adapters"):
        # gpodder.util subclasses requests.adapters.HTTPAdapter at import time.
        for sub in (
            "adapters",
            "exceptions",
            "packages",
            "packages.urllib3",
            "packages.urllib3.util",
            "packages.urllib3.util.retry",
        ):
            module = types.ModuleType(f"requests.{sub}")
            module.__path__ = []
            sys.modules[f"requests.{sub}"] = module
        sys.modules["requests.adapters"].HTTPAdapter = object  # type: ignore[attr-defined]
        sys.modules["requests.packages.urllib3.util.retry"].Retry = object  # type: ignore[attr-defined]
        sys.modules["requests.exceptions"].RequestException = Exception  # type: ignore[attr-defined]


def main(checkout: Path, out_db: Path) -> None:
    """Create `out_db` with gpodder's current schema (version table included)."""
    sys.path.insert(0, str(checkout / "src"))
    _stub_missing(["podcastparser", "mygpoclient", "requests"])
    from gpodder import schema  # type: ignore[import-not-found]

    db = sqlite3.connect(out_db)
    schema.upgrade(db, str(out_db))
    db.commit()
    db.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
