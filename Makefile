# Every target sets up .venv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The engine's hot modules compiled with mypyc (see build_native.py); rebuilt when a domain
# source changes. If compiling fails the compiled files are removed and plain Python runs.
NATIVE := exchange_server/domain/.native-built
DOMAIN_SOURCES := $(wildcard exchange_server/domain/*.py)

.PHONY: run test lint typecheck pytest bench native clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NATIVE): $(STAMP) $(DOMAIN_SOURCES) build_native.py
	@echo "compiling the engine with mypyc..."
	@$(BIN)/python build_native.py > $(VENV)/native-build.log 2>&1 \
		|| { $(BIN)/python -m exchange_server.domain.native_build --clean; \
		     echo "warning: mypyc build failed (see $(VENV)/native-build.log); using plain Python"; }
	@touch $(NATIVE)

native: $(NATIVE)

run: $(NATIVE)
	$(BIN)/workstation

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(NATIVE)
	$(BIN)/python -m pytest

bench: $(NATIVE)
	$(BIN)/python -m tests.benchmarks

clean:
	$(BIN)/python -m exchange_server.domain.native_build --clean || true
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache $(NATIVE)
