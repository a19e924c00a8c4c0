# LogLake — `make help` lists the targets. The first target that needs it creates .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV := $(VENV)/.dev-installed
READER := .venv-reader/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck check bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# What running needs (make demo); the development tools (tests, linters, moto) come with $(DEV).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

$(DEV): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV)

# An Iceberg reader that is not pyiceberg (DuckDB's own iceberg extension), in a venv of its own: the
# tests check that other engines read the lake's tables as LogLake does.
$(READER): Makefile
	$(PYTHON) -m venv .venv-reader
	.venv-reader/bin/python -m pip install --quiet 'duckdb==1.5.5' 'duckdb-extension-iceberg==1.5.5' 'duckdb-extension-avro==1.5.5'
	@touch $(READER)

demo: $(STAMP) ## generate sample logs, ingest, process, crawl, run the tutorial's queries (lake: ./lake)
	$(BIN)/loglake --lake ./lake demo

test: $(DEV) $(READER) ## run the whole test suite (slow end-to-end tests included)
	@command -v chromium >/dev/null 2>&1 || echo "note: Chromium is not installed, so the web console's browser tests are skipped; install it with: sudo apt-get install chromium"
	$(BIN)/python -m pytest -n 2 -q

lint: $(DEV) ## ruff
	$(BIN)/ruff check loglake tests bench
	$(BIN)/ruff format --check loglake tests bench

typecheck: $(DEV) ## mypy
	$(BIN)/mypy

check: lint typecheck test ## everything CI should care about

bench: $(DEV) ## throughput and memory against reference approaches, then S3 scale (BENCH_MB=256 BENCH_SMALL=2000 BENCH_ROWS=10000000 BENCH_QUERY_ROWS=1000000 BENCH_SCALE_OBJECTS=1000)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.query
	$(BIN)/python -m bench.scale

clean: ## remove the virtualenv, the demo lake and caches
	rm -rf $(VENV) .venv-reader lake .pytest_cache .mypy_cache .ruff_cache
