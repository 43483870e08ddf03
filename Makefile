# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Test processes (pytest-xdist; 0 = in this process). Each worker has its own databases and
# ports; the gate never waits out a rate limit before an ack, so two workers keep every ack in time.
# Tests that start real `breachroom` processes (marker `processes`) run afterwards, one at a time:
# each keeps a core busy with its own bots, and two side by side on two cores (tried again on
# 2026-12-02) made the two-replica test miss its reminders' deadline in 2 runs of 5.
TEST_WORKERS ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the bot against the embedded sandbox workspace on SQLite, and print where to look.
demo: install
	$(BIN)/breachroom sandbox

## Run the tests on SQLite and PostgreSQL (TEST_DATABASE_URL, default the local server).
## The browser test needs Debian's Chromium (and fonts for Chinese text and emoji): installed
## here when missing and we are root; otherwise that test skips (it fails under CI instead).
test: install
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium fonts-wqy-microhei fonts-noto-color-emoji >/dev/null) \
	      || echo "Could not install chromium: the browser test will skip (or fail under CI)"; \
	  else \
	    echo "No /usr/bin/chromium and not root: the browser test will skip"; \
	  fi; \
	fi
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not processes" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m processes $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache
