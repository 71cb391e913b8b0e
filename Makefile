# Panggil: two commands. `make run` sets up and starts a demo hall; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config.yaml
PYTEST_ARGS ?=

.PHONY: run test lint bench setup system-deps clean display counter

run: setup
	$(PY) -m server --config $(CONFIG) --demo --database var/demo.sqlite

display: setup
	$(PY) -m display --config $(CONFIG)

counter: setup
	$(PY) -m counter_client --config $(CONFIG)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check server display counter_client tests bench panggil_protocol

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
	$(PY) -m pip install -q -e '.[server,display,counter,dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache
