"""`python -m dbheal_lsp.lsp [--tcp HOST:PORT]`: the language server, as `dbheal serve`."""

import sys

from dbheal_lsp.cli.serve import main

sys.exit(main())
