# The two commands a newcomer needs: `make demo` (the service and the program demo on the
# embedded stack) and `make test` (lint, types and the whole test suite). Both create the
# virtual environment on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test lint typecheck pytest demo up bench clean chromium

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/.installed

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

pytest: install chromium
	$(BIN)/pytest

test: lint typecheck pytest

demo: install
	$(BIN)/wwc demo

up: install
	$(BIN)/wwc up

bench: install
	$(BIN)/python bench/event_store.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
