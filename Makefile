# Panggil: two commands. `make run` sets up and starts a demo hall; `make test` runs the tests (SLOW=1: the slow ones too).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config.yaml
PYTEST_ARGS ?=
# `make test` runs every test but the ones marked slow (real processes, Chromium, wheel builds,
# the hall benchmark's smoke run): under ten minutes on a 2-core machine. `make test SLOW=1` runs
# them all, as CI does (.ci/run).
SLOW ?=

.PHONY: run test lint bench setup system-deps clean display counter

run: setup
	$(PY) -m server --config $(CONFIG) --demo --database var/demo.sqlite

display: setup
	$(PY) -m display --config $(CONFIG)

counter: setup
	$(PY) -m counter_client --config $(CONFIG)

test: setup
	$(PY) -m pytest $(if $(SLOW),,-m "not slow") $(PYTEST_ARGS)

LINTED := server display counter_client panggil_protocol panggil_common tests bench setup.py

# ruff (lint + format) on everything, mypy on the core ([tool.mypy] in pyproject.toml).
lint: setup
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m mypy

bench: setup
	$(PY) bench/run_all.py

setup: system-deps $(STAMP)

# Debian packages the project needs: chromium for browser tests, sox to measure audio,
# DejaVu fonts for the display, Node for the browser module's tests. Installed only when missing
# (root, or through sudo).
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[server,display,counter,printer-usb,dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache
