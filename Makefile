# `make demo` and `make test` are the only commands a fresh clone needs: each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint format bench accuracy clean vsix

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The demo works on copies (build/demo/shop, build/demo/accounts-node) so that healing never edits
# the committed examples.
# It runs inside the copy, as a user runs dbheal in a project: paths print as app/..., the same
# as README.md's sample lines.
DEMO := build/demo/shop
NODE_DEMO := build/demo/accounts-node
demo: $(STAMP)
	rm -rf build/demo && mkdir -p build/demo
	cp -r examples/shop $(DEMO)
	rm -rf $(DEMO)/shop.db $(DEMO)/.dbheal
	$(BIN)/python $(DEMO)/make_db.py
	@echo
	@echo '$$ cd $(DEMO)'
	@echo '$$ dbheal check'
	@cd $(DEMO) && $(CURDIR)/$(BIN)/dbheal check; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal heal --yes        # the safe schema fixes (or the cast removal instead), verified, backed up'
	@cd $(DEMO) && $(CURDIR)/$(BIN)/dbheal heal --yes; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal fix               # the code fixes, as diffs: nothing is written'
	@cd $(DEMO) && $(CURDIR)/$(BIN)/dbheal fix; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal check'
	@cd $(DEMO) && $(CURDIR)/$(BIN)/dbheal check; status=$$?; test $$status -le 1
	@echo
	@echo '(`dbheal fix --apply` writes those code fixes after asking; `dbheal history` lists what heal did.)'
	@echo
	@echo '--- The same in Node: the two cases of the original design (examples/accounts-node) ---'
	cp -r examples/accounts-node $(NODE_DEMO)
	rm -rf $(NODE_DEMO)/accounts.db $(NODE_DEMO)/.dbheal
	$(BIN)/python $(NODE_DEMO)/make_db.py
	@echo
	@echo '$$ cd $(NODE_DEMO)'
	@echo '$$ dbheal check'
	@cd $(NODE_DEMO) && $(CURDIR)/$(BIN)/dbheal check; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal heal --yes        # user_preferences from 004; the parseInt() cast removed by binding'
	@cd $(NODE_DEMO) && $(CURDIR)/$(BIN)/dbheal heal --yes; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal check'
	@cd $(NODE_DEMO) && $(CURDIR)/$(BIN)/dbheal check; status=$$?; test $$status -le 1

lint: $(STAMP)
	$(BIN)/ruff check dbheal_lsp tests bench scripts
	$(BIN)/ruff format --check dbheal_lsp tests bench scripts
	$(BIN)/mypy
	$(BIN)/mypy --strict scripts/check_layers.py scripts/check_globals.py scripts/check_sizes.py
	$(BIN)/python scripts/check_layers.py
	$(BIN)/python scripts/check_globals.py
	$(BIN)/python scripts/check_sizes.py

format: $(STAMP)
	$(BIN)/ruff check --fix dbheal_lsp tests bench scripts
	$(BIN)/ruff format dbheal_lsp tests bench scripts

test: lint
	$(BIN)/python -m pytest
	DBHEAL_PYTHON=$(CURDIR)/$(BIN)/python bash scripts/ci-editors.sh

bench: $(STAMP)
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/generate.py --schema-from code
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_heal.py
	$(BIN)/python bench/bench_js.py
	@# PostgreSQL against the bare SQL on the same server (a throwaway cluster: bench/pg_cluster.py)
	@if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		$(BIN)/python bench/postgres_check.py && $(BIN)/python bench/postgres_type_change.py; \
	else echo "PostgreSQL benchmarks not run: no initdb/pg_ctl (Debian: postgresql)"; fi

# Issue 11's figures on real apps (bench/accuracy/README.md): "before" is dbheal at 18bc023^,
# "after" the working tree. Needs the fetched mirrors in /work/.mirror, so not part of `make test`.
accuracy: $(STAMP)
	test -d /tmp/dbheal-before || (mkdir -p /tmp/dbheal-before && git archive 18bc023^ | tar -x -C /tmp/dbheal-before)
	test -x /tmp/qb-venv/bin/python || ($(PYTHON) -m venv /tmp/qb-venv && /tmp/qb-venv/bin/pip install --quiet PyQt6 PyYAML jinja2)
	$(BIN)/python bench/accuracy/run.py --dbheal-src /tmp/dbheal-before --label before
	$(BIN)/python bench/accuracy/run.py --label after

# The VS Code extension: editors/vscode/dbheal-<version>.vsix (needs node 20+ and npm).
vsix:
	cd editors/vscode && npm ci && npm run build && npm run package

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache .pytest_cache .dbheal examples/shop/.dbheal examples/shop/shop.db examples/accounts-node/.dbheal examples/accounts-node/accounts.db
