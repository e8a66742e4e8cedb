# Two commands for a newcomer: `make demo` (the embedded NBA demo) and `make test` (the suite).
# Both create .venv and install the project into it first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint format install benchmark fuzz

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/mlflow-feast-mcp demo $(ARGS)

test: $(BIN)/.installed
	$(BIN)/ruff check src tests feature_repo benchmarks
	$(BIN)/ruff format --check src tests feature_repo benchmarks
	$(BIN)/pytest -q $(ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests feature_repo benchmarks
	$(BIN)/ruff format --check src tests feature_repo benchmarks

format: $(BIN)/.installed
	$(BIN)/ruff format src tests feature_repo benchmarks
	$(BIN)/ruff check --fix src tests feature_repo benchmarks

benchmark: $(BIN)/.installed
	$(BIN)/python -m benchmarks $(ARGS)

# the opt-in fuzz profile: 420 generated calls per tool (10,000+ in all), with a summary line
fuzz: $(BIN)/.installed
	MLFLOW_FEAST_MCP_FUZZ_EXAMPLES=420 $(BIN)/pytest -q -s tests/test_bad_input.py $(ARGS)
