# One-command entry points; each creates the virtual environment and installs what it needs.
VENV := .venv
PY := $(VENV)/bin/python
PG_URL := postgres://postgres@127.0.0.1:5432/mdm
REDIS := redis://127.0.0.1:6379/0

.PHONY: run test test-postgres test-sqlite services lint bench bench-ingest bench-quality bench-people bench-deps

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# Start PostgreSQL and Redis on 127.0.0.1 when they are not already up.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "services did not come up" >&2; exit 1

# The embedded hub: SQLite, tasks in-process, sandbox systems with demo data.
run: $(VENV)/.installed
	$(PY) manage.py demo

test: lint test-postgres test-sqlite

test-postgres: $(VENV)/.installed services
	$(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) CELERY_TASK_ALWAYS_EAGER=true $(PY) -m pytest

test-sqlite: $(VENV)/.installed
	MDM_VAR_DIR=$$(mktemp -d) $(PY) -m pytest -m sqlite

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench-deps: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[dev,bench]'

# Benchmarks print figures; they are not part of the test run. Record results in bench/RESULTS.md.
bench: bench-quality bench-people bench-ingest
	$(PY) bench/console.py --database-url $(PG_URL)_bench_console

bench-quality: bench-deps
	$(PY) bench/quality.py

# The same benchmark on a generated labelled set of individuals (the labelled set holds organisations).
bench-people: bench-deps
	$(PY) bench/people.py bench/out/people
	$(PY) bench/quality.py --data bench/out/people

bench-ingest: bench-deps services
	$(PY) bench/ingest.py --database-url $(PG_URL)_bench
	$(PY) bench/sync.py --database-url $(PG_URL)_bench_sync
