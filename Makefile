# The two set-up commands (see README): `make run` serves, `make test` tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint bench

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# Embedded default (SQLite, in-memory channel layer) at http://127.0.0.1:8000, with demo data.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_chitchat
	$(VENV)/bin/uvicorn chitchat.asgi:application --host 127.0.0.1 --port 8000

# The whole test suite: SQLite with nothing set, PostgreSQL/Redis with DATABASE_URL/REDIS_URL.
test: $(VENV)/.installed
	$(VENV)/bin/pytest --create-db -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports

# The load benchmark (bench/run.py): PostgreSQL + Redis, database chitchat_bench recreated,
# granian/uvicorn on CPU 0, wrk and the WebSocket client on CPU 1; writes bench/results/.
# BENCH_SECONDS (15) per endpoint; see bench/run.py for the other knobs.
$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(PY) -m pip install -q -r bench/requirements.txt
	touch $@

bench: $(VENV)/.bench-installed
	command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	$(PY) -m bench.run
