# Two commands on a fresh machine:  `make demo` (install, then build and run a pipeline)
# and `make test` (install, then run every test). Both install from requirements.lock.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-fast lint security bench
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
DEMO := "Every day at 06:00 load examples/data/orders.csv into table demo_orders, upsert on order_id, rename OrderID to order_id, drop rows without customer_id"
demo: install
	$(BIN)/dagsmith build $(DEMO) --out demo --run --yes

# Every test, on every core (pytest-xdist): each test has a schema, database, role, port and
# folder of its own, and each worker its own Airflow metadata database, so none waits for another.
test: install
	$(BIN)/pytest -q -n auto

# Under a minute: no database server, no Airflow, no process of `dagsmith` (nor its chat in a
# terminal), no json-server, no Prometheus, no browser, no property test, nothing marked slow.
# Markers come from the fixtures a test uses (tests/conftest.py).
FAST := not postgres and not mariadb and not redis and not airflow and not cli and not pty \
	and not node and not kafka and not prometheus and not browser and not hypothesis and not slow
test-fast: install
	$(BIN)/pytest -q -n auto -m "$(FAST)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture  # dead code; paths and whitelist in pyproject.toml
	$(BIN)/lint-imports  # layering contracts in pyproject.toml

# Ruff's security rules on our code and on the DAGs of every spec in examples/ and pipelines/,
# pip-audit on the lock; a finding fails unless security/accepted.toml accepts it with a
# reason. With no vulnerability service in reach the audit prints SKIPPED (docs/security.md).
security: install
	rm -rf .dagsmith/security-dags
	$(BIN)/dagsmith render $(wildcard examples/*.yaml pipelines/*.yaml) --out .dagsmith/security-dags
	$(BIN)/python -m agent.security agent connectors .dagsmith/security-dags --lock requirements.lock

bench: install
	$(BIN)/python bench/load.py
