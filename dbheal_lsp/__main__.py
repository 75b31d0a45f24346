"""`python -m dbheal_lsp`: the language server without arguments (what editors run), else the CLI.

`python -m dbheal_lsp` alone speaks LSP on stdin/stdout; `python -m dbheal_lsp check ...` (any
argument at all) is the `dbheal` command line, `python -m dbheal_lsp serve --tcp :2087` included.
"""

import sys

if len(sys.argv) <= 1:
    from dbheal_lsp.lsp.server import serve

    sys.exit(serve())

from dbheal_lsp.cli import main

sys.exit(main())
