# `make demo` and `make test` are the only commands a fresh clone needs: each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,fast]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/shop/make_db.py
	@echo
	@echo '$$ dbheal check examples/shop'
	@$(BIN)/dbheal check examples/shop; status=$$?; test $$status -le 1

lint: $(STAMP)
	$(BIN)/ruff check dbheal_lsp tests bench
	$(BIN)/ruff format --check dbheal_lsp tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix dbheal_lsp tests bench
	$(BIN)/ruff format dbheal_lsp tests bench

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .dbheal examples/shop/.dbheal examples/shop/shop.db
