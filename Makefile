# The two set-up commands (see README): `make run` serves, `make test` tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test test-browser lint bench

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# Embedded default (SQLite, in-memory channel layer) at http://127.0.0.1:8000, with demo data.
run: $(VENV)/.installed
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_chitchat
	DEBUG=true $(VENV)/bin/uvicorn chitchat.asgi:application --host 127.0.0.1 --port 8000

# The whole test suite: SQLite with nothing set, PostgreSQL/Redis with DATABASE_URL/REDIS_URL.
test: $(VENV)/.installed
	$(VENV)/bin/pytest --create-db -q

# The web client in a real browser (browser_tests/): Debian's chromium, installed with apt-get
# when missing (Playwright never downloads a browser here). A separate pytest run with its
# own ini, on its own live server and SQLite database.
test-browser: $(VENV)/.installed
	test -x /usr/bin/chromium || DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(VENV)/bin/pytest -c browser_tests/pytest.ini --rootdir browser_tests -q browser_tests

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
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
