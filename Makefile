# Two commands matter: `make demo` (the main job, against the local sandbox) and `make test`;
# `make check` is the quick one for every change.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Meltano lives in its own virtualenv: it pins libraries the tap's SDK also uses.
MELTANO_VENV ?= .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP := $(MELTANO_VENV)/.installed
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_BIN := $(abspath $(MELTANO))

.PHONY: install check test lint demo clean-demo sandbox bench clean

# The sandbox is its own distribution (sandbox/): installed beside the tap, both editable, in one
# pip call so that its requirement on the tap is this checkout's tap.
$(STAMP): pyproject.toml sandbox/pyproject.toml
	@echo "==> Creating $(VENV) and installing the tap with its dev tools, and the sandbox"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e ./sandbox
	touch $(STAMP)

$(MELTANO_STAMP): meltano.yml pyproject.toml
	@echo "==> Creating $(MELTANO_VENV) with Meltano, then installing the project's plugins"
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install --quiet "meltano~=4.4"
	$(MELTANO) install
	touch $(MELTANO_STAMP)

install: $(STAMP) $(MELTANO_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# What a developer runs often, in under a minute: lint, types and the unit tests (no sandbox).
check: lint
	$(BIN)/python -m pytest -q tests/units

# Everything, as CI runs it: the tests spread over the machine's CPUs (pytest-xdist), each
# module on one worker so that its module-scoped fixtures (a Meltano load, a sandbox) run once.
test: lint $(MELTANO_STAMP)
	$(BIN)/python -m pytest -n auto --dist loadscope

# `make demo API=post_analytics`: the same pipeline on X API v2's Post analytics.
API ?= engagement_api
demo: $(STAMP) $(MELTANO_STAMP)
	$(BIN)/python -m scripts.demo --api $(API)

clean-demo:
	rm -rf output/jsonl output/engagement.duckdb output/engagement.png
	-$(MELTANO) state clear --force demo:tap-twitter-engagement-to-target-jsonl

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

sandbox: $(STAMP)
	$(BIN)/tap-twitter-engagement-sandbox --port 0 --config-out sandbox-config.json --env-out sandbox.env

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .pytest_cache .ruff_cache output .meltano
