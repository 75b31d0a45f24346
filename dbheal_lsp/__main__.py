"""`python -m dbheal_lsp` runs the dbheal command line."""

import sys

from dbheal_lsp.cli import main

sys.exit(main())
