# The two commands a newcomer needs: `make demo` and `make test`.
# Both create or refresh the local virtual environment (.venv) first; the
# environment is rebuilt only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint types pytest venv clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: venv
	$(BIN)/assoc-audit demo

test: venv lint types pytest

lint: venv
	$(BIN)/ruff check assoc_audit tests benchmarks
	$(BIN)/ruff format --check assoc_audit tests benchmarks
	$(BIN)/lint-imports --no-cache

types: venv
	$(BIN)/mypy assoc_audit

pytest: venv
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
