# Two commands on a fresh machine:  `make demo` (install, then build and run a pipeline)
# and `make test` (install, then run every test). Both install from requirements.lock.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-fast lint bench
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock tests/sources_rest/server/package-lock.json
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock -e ".[agent,dev]"
	# json-server: the third-party REST API the REST source's tests run against.
	if command -v npm >/dev/null; then npm ci --silent --prefix tests/sources_rest/server; fi
	touch $@

# The main job on embedded defaults: the offline planner turns a sentence into a spec and a
# DAG (profiled, rendered, checked by Airflow), then runs it into the embedded DuckDB file
# .dagsmith/warehouse.duckdb.
DEMO := "Every day at 06:00 load examples/data/orders.csv into table orders, upsert on order_id, rename OrderID to order_id, drop rows without customer_id"
demo: install
	$(BIN)/dagsmith build $(DEMO) --out demo --run --yes

test: install
	$(BIN)/pytest -q

# No database server, no Airflow, nothing marked slow (markers come from the fixtures a
# test uses: tests/conftest.py).
test-fast: install
	$(BIN)/pytest -q -m "not postgres and not mariadb and not redis and not airflow and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture  # dead code; paths and whitelist in pyproject.toml
	$(BIN)/lint-imports  # layering contracts in pyproject.toml

bench: install
	$(BIN)/python bench/load.py
