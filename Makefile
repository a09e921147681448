# Two commands matter: `make demo` and `make test`. Both bootstrap .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test chromium lint typecheck unit bench chaos clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ledgerline demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Chromium first: the suite holds the browser tests, and `make -j test` must not start it without one.
# Tests run in TEST_WORKERS processes (pytest-xdist): most of the suite waits on workers, simulators and rate
# limits rather than the CPU, so four share two cores well; each process has its own databases and Redis database.
TEST_WORKERS ?= 4
unit: $(STAMP) chromium
	LEDGERLINE_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

test: chromium lint typecheck unit

# The browser tests drive Debian's Chromium: install it where we may (root with apt), else stop with what to do.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  echo "installing Chromium for the browser tests (apt-get install chromium)" && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && test -x $(CHROMIUM); } || \
	  { echo "make test needs Chromium at $(CHROMIUM) for the browser tests: install it ('sudo apt-get install chromium' on Debian/Ubuntu) or name yours with 'make test CHROMIUM=/path/to/chromium'" >&2; exit 1; }

# Not part of `make test`: it restarts the local PostgreSQL and flushes Redis (see README.md, "Breaking it on purpose").
chaos: $(STAMP)
	$(BIN)/python -m chaos
	LEDGERLINE_SCHEDULES=5000 $(BIN)/pytest tests/sync/test_exactly_once_schedules.py -q

# Not part of `make test`: every benchmark under bench/ (about 12 minutes), one table, bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench.all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
