# The two commands a newcomer needs: `make demo` (the service and the program demo on the
# embedded stack) and `make test` (lint, types and the whole test suite). Both create the
# virtual environment on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install lock test lint typecheck pytest demo up bench clean chromium nginx secrets

# Every dependency (runtime and the test extra) comes pinned with its hashes from
# requirements.lock, so a fresh machine installs exactly what CI tested; the project itself
# installs editable on top, without resolving anything.
LOCK := requirements.lock

$(BIN)/.installed: $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/.installed

# Re-resolves requirements.lock from pyproject.toml (run it after adding or changing a
# dependency), for CPython 3.11 on Linux x86_64 whatever machine runs it. Pins that still
# satisfy pyproject.toml are kept; ARGS=--upgrade moves every pin to the newest release
# allowed, ARGS='--upgrade-package NAME' one of them. Review the diff, then `make install`.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  --no-emit-index-url --custom-compile-command 'make lock' --quiet -o $(LOCK) $(ARGS)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# The portal's browser tests drive Debian's Chromium. As root (these machines) it is
# installed when missing; elsewhere install it yourself (`sudo apt-get install chromium`)
# or point WWC_TEST_CHROMIUM at a Chromium or Chrome binary.
CHROMIUM ?= $(or $(WWC_TEST_CHROMIUM),/usr/bin/chromium)

chromium:
	@test -x $(CHROMIUM) || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	   >/dev/null) ; } || { echo "Chromium is missing: install it (apt-get install chromium)" \
	   "or set WWC_TEST_CHROMIUM" >&2; exit 1; }

# The mutual-TLS tests put Debian's nginx (a gRPC gateway that requires client
# certificates) in front of the Temporal dev server. As root it is installed when missing;
# elsewhere install it yourself or point WWC_TEST_NGINX at an nginx binary: without one
# those tests are skipped, saying why. The package's own service is not started.
nginx:
	@test -n "$$WWC_TEST_NGINX" || command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  { test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	   --no-install-recommends nginx >/dev/null) ; } || \
	  echo "nginx is missing: the mutual-TLS tests will be skipped (apt-get install nginx)" >&2

# Two workers (pytest-xdist), each taking whole modules, the costliest first
# (tests/xdist_plan.py): most of the suite's time is spent waiting on the servers,
# subprocesses, timers and browsers its tests start, so one core would idle. Two, not
# one a core: CI has two, and each worker starts servers of its own. Here rather than in
# pytest's addopts, so `.venv/bin/pytest tests/unit/test_x.py` runs in one process;
# PYTEST_WORKERS=0 runs the suite in one too.
PYTEST_WORKERS ?= 2

pytest: install chromium nginx
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# The type check runs beside the tests (about half a minute of one core, while the first
# tests mostly wait on the servers they start): CI's time stays within its budget.
test: lint install chromium nginx
	@$(MAKE) --no-print-directory -j2 typecheck pytest

demo: install
	$(BIN)/wwc demo

up: install
	$(BIN)/wwc up

# The production stack's private CA, mutual-TLS certificates and database passwords, in
# deploy/secrets (see README, "Deploying it safely"). Safe to run again: it renews the
# certificates that expire within 30 days and keeps the rest; ARGS=--renew re-issues them
# all now, ARGS=--new-ca makes a new CA too.
secrets: install
	$(BIN)/python -m infra.ops.deploy_secrets deploy/secrets $(ARGS)

bench: install
	$(BIN)/python bench/event_store.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
