# The two commands of the README. Each creates .venv when it is missing and
# installs what it needs, so both work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

# Every install comes from the locks in requirements/, checked against their hashes, so a fresh
# clone installs what the tests passed with. Nothing is built in an isolated environment, where
# pip would fetch a build backend of whatever version is newest: the backends are locked too.
INSTALL := $(PIP) install --quiet --no-build-isolation

.PHONY: build test lint wheel-check lock bench clean

build: $(VENV)/.installed
	$(BIN)/python -m compileall -q ndlld  # as pip does for an installed package; an editable install is not compiled
	$(BIN)/ndlld build

# The LDES client tests/test_feed.py reads the event stream with (npm's ldes-client: no LDES
# client is on PyPI), as locked in tests/ldes/, no install script run. Without npm, that test is
# skipped (under CI it fails).
LDES_CLIENT := tests/ldes/node_modules/.package-lock.json
# The Nu HTML Checker (vnu.jar) tests/test_site.py runs on the pages, from npm's vnu-jar as
# locked in tests/nu/ (PyPI has only an old one); it needs Java, which .ci/run installs.
NU_CHECKER := tests/nu/node_modules/.package-lock.json

test: $(VENV)/.installed-test build $(LDES_CLIENT) $(NU_CHECKER)
	$(BIN)/pytest

$(LDES_CLIENT): tests/ldes/package-lock.json
	@if command -v npm >/dev/null; then npm ci --ignore-scripts --no-audit --no-fund --prefix tests/ldes >/dev/null; \
	else echo "npm is not installed: the test with the LDES client will be skipped"; fi

$(NU_CHECKER): tests/nu/package-lock.json
	@if command -v npm >/dev/null; then npm ci --ignore-scripts --no-audit --no-fund --prefix tests/nu >/dev/null; \
	else echo "npm is not installed: the test with the Nu HTML Checker will be skipped"; fi

# The habits CI keeps (.ci/run): ruff's lints, its formatting, the type check, and the complexity ceiling.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ndlld
	$(BIN)/python .ci/complexity

# The wheel, installed with the locked dependencies in a new environment outside the checkout,
# runs the whole pipeline (.ci/wheel-check says how). It needs the package registry.
wheel-check: $(VENV)/.installed
	PYTHON=$(PYTHON) .ci/wheel-check

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# pip and setuptools first, from a lock of their own: the pip a new environment comes with is
# whichever its Python ships, and setuptools must be there before anything is built without
# isolation (jstyleson, a dependency of extruct, comes from PyPI as source only).
$(VENV)/.installed-bootstrap: requirements/bootstrap.lock | $(VENV)/bin/python
	$(PIP) install --quiet --require-hashes -r requirements/bootstrap.lock
	touch $@

$(VENV)/.installed: requirements/run.lock pyproject.toml $(VENV)/.installed-bootstrap
	$(INSTALL) --require-hashes -r requirements/run.lock
	$(INSTALL) --no-deps -e .  # the project itself: a directory, which has no hash
	touch $@

$(VENV)/.installed-test: requirements/test.lock $(VENV)/.installed
	$(INSTALL) --require-hashes -r requirements/test.lock
	touch $@

# Resolve the locks again from pyproject.toml (and requirements/bootstrap.in), against PyPI alone:
# a local index or find-links of pip's configuration would put hashes in them that no one else can
# download. Versions stay as locked unless UPGRADE=1 (then the newest allowed); run make test after.
LOCK_ENV := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_NO_INDEX \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock"
COMPILE  := $(LOCK_ENV) $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url $(if $(UPGRADE),--upgrade)
# hatchling, and what it needs for an editable install (make build) and for a wheel (wheel-check).
BACKEND  := --build-deps-for editable --build-deps-for wheel

# The locked pip resolves, when there is a lock of it yet. pip-tools is pinned: it uses pip's insides.
lock: $(if $(wildcard requirements/bootstrap.lock),$(VENV)/.installed-bootstrap) | $(VENV)/bin/python
	test -x $(BIN)/pip-compile || $(PIP) install --quiet 'pip-tools==7.7.0'
	$(COMPILE) -o requirements/bootstrap.lock requirements/bootstrap.in
	$(COMPILE) $(BACKEND) -o requirements/run.lock pyproject.toml
	# The test lock keeps every version of the run lock: the tests try what users install.
	$(COMPILE) $(BACKEND) --extra test -c requirements/run.lock -o requirements/test.lock pyproject.toml

bench: $(VENV)/.installed-test
	bench/run

clean:
	rm -rf $(VENV) dist .pytest_cache
