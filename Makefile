# The two commands of the README. Each creates .venv when it is missing and
# installs what it needs, so both work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: build test lint bench clean

build: $(VENV)/.installed
	$(BIN)/python -m compileall -q ndlld  # as pip does for an installed package; an editable install is not compiled
	$(BIN)/ndlld build

test: $(VENV)/.installed-test build
	$(BIN)/pytest

# The habits CI keeps (.ci/run): ruff's lints, its formatting, the type check, and the complexity ceiling.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ndlld
	$(BIN)/python .ci/complexity

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

bench: $(VENV)/.installed-test
	bench/run

clean:
	rm -rf $(VENV) dist .pytest_cache
