# ShelfOps portal: `make run` (everything, embedded, no servers needed) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint fmt bench migrate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,sandbox]'
	# Shopify's published Admin schema (npm @shopify/dev-mcp) for the sandbox and the tests; without npm the sandbox
	# falls back to its own slice of the schema and says so (the tests fetch it themselves).
	$(BIN)/python -m sandbox.shopify.published || true
	touch $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: install
	bash scripts/run.sh

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	bash scripts/bench.sh

clean:
	rm -rf $(VENV) var staticfiles
