# Dashtam — every set-up step lives here, so a fresh clone needs only `make run` / `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-stress install lint typecheck contracts unit integration api bench bench-check \
        migrate-create migrate-up migrate-down migrate-history clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11+ is required)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install migrate-up
	$(BIN)/dashtam serve --host $(HOST) --port $(PORT)

test: install lint typecheck contracts
	$(BIN)/python -m pytest -q

# For releases: the fault suite and schemathesis against real processes (excluded from `test`),
# then the audit tamper suite; each phase is bounded by `timeout`.
STRESS_TIMEOUT ?= 900
TAMPER_TESTS = $(wildcard tests/integration/test_*tamper*.py)
test-stress: install
	@status=0; \
	timeout $(STRESS_TIMEOUT) $(BIN)/python -m pytest -q -m stress tests/stress || status=1; \
	$(if $(TAMPER_TESTS),timeout 300 $(BIN)/python -m pytest -q $(TAMPER_TESTS) || status=1;) \
	exit $$status

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy --strict src

contracts: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/python -m pytest -q tests/unit

integration: install
	$(BIN)/python -m pytest -q tests/integration

api: install
	$(BIN)/python -m pytest -q tests/api

# Benchmarks (docs/performance.md): same-run ratios to the raw limit, never timed tests.
# BENCH_ARGS="--quick" or "--only http" narrows a run.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-check: install
	$(BIN)/python -m bench --check $(BENCH_ARGS)

migrate-create: install
	@test -n "$(NAME)" || { echo 'usage: make migrate-create NAME="what it does"'; exit 1; }
	$(BIN)/dashtam db revision -m "$(NAME)"

migrate-up: install
	$(BIN)/dashtam db upgrade

migrate-down: install
	$(BIN)/dashtam db downgrade

migrate-history: install
	$(BIN)/dashtam db history --verbose

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dashtam.db dashtam.db-wal dashtam.db-shm
