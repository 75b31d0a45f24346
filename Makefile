# `make demo` and `make test` are the only commands a fresh clone needs: each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint format bench clean vsix

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,fast]'
	touch $(STAMP)

setup: $(STAMP)

# The demo works on a copy (build/demo/shop) so that healing never edits the committed example.
demo: $(STAMP)
	rm -rf build/demo && mkdir -p build/demo
	cp -r examples/shop build/demo/shop
	rm -rf build/demo/shop/shop.db build/demo/shop/.dbheal
	$(BIN)/python build/demo/shop/make_db.py
	@echo
	@echo '$$ dbheal check build/demo/shop'
	@$(BIN)/dbheal check build/demo/shop; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal heal build/demo/shop --yes'
	@$(BIN)/dbheal heal build/demo/shop --yes; status=$$?; test $$status -le 1
	@echo
	@echo '$$ dbheal check build/demo/shop'
	@$(BIN)/dbheal check build/demo/shop; status=$$?; test $$status -le 1

lint: $(STAMP)
	$(BIN)/ruff check dbheal_lsp tests bench
	$(BIN)/ruff format --check dbheal_lsp tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix dbheal_lsp tests bench
	$(BIN)/ruff format dbheal_lsp tests bench

test: lint
	$(BIN)/python -m pytest
	DBHEAL_PYTHON=$(CURDIR)/$(BIN)/python bash scripts/ci-editors.sh

bench: $(STAMP)
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_heal.py

# The VS Code extension: editors/vscode/dbheal-<version>.vsix (needs node 20+ and npm).
vsix:
	cd editors/vscode && npm ci && npm run build && npm run package

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache .pytest_cache .dbheal examples/shop/.dbheal examples/shop/shop.db
