# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
# PostgreSQL and Redis used by `make test-services` (CI starts them on this machine).
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-services test-nodes browser screenshots bench lint format clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Flask-Admin, the peer `make bench` compares the customers list with (never imported by the portal).
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# The web server and one background worker, together (Procfile, run by honcho).
run: $(VENV)/.installed
	$(BIN)/python -m portal.core.instance
	$(FLASK) db upgrade
	$(BIN)/honcho start --procfile Procfile --port $(PORT)

# The end-to-end tests need a Chromium: Debian's when there is one, else one this target provides
# (apt as root, else Playwright's download), else it stops and names the command to run.
browser: $(VENV)/.installed-test
	@if command -v chromium >/dev/null 2>&1 || $(BIN)/python -m tests.support.browser; then \
		exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "No Chromium found: installing Debian's chromium (apt-get install -y chromium)."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif echo "No Chromium found: downloading Playwright's (playwright install chromium)." && \
		$(BIN)/playwright install chromium >/dev/null 2>&1; then \
		exit 0; \
	else \
		echo "No Chromium for the browser tests: run 'sudo apt-get install -y chromium' (Debian, Ubuntu) or '$(BIN)/playwright install chromium', then 'make test' again." >&2; \
		exit 1; \
	fi

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q

# The database, auth and rate-limit tests a second time, against PostgreSQL and Redis.
test-services: $(VENV)/.installed-test
	TEST_DATABASE_URL=$(TEST_PG_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest -q -m services

# Two gunicorn nodes and two job workers in production mode on one PostgreSQL and one Redis
# (the same databases as test-services: the schema is dropped, the Redis database emptied).
test-nodes: $(VENV)/.installed-test
	TEST_DATABASE_URL=$(TEST_PG_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest -q -m nodes tests/nodes

# PNGs of the main pages at 1440 and 390 px for README.md, from a seeded temporary database.
screenshots: $(VENV)/.installed-test browser
	$(BIN)/python -m tests.support.screenshots --out docs/screenshots

# Every benchmark in benchmarks/ against gunicorn (2 workers), one table, under 10 minutes
# (README.md, "Benchmarks: make bench"). BENCH_ARGS=--quick for a smoke run.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/ruff format --check portal tests benchmarks

format: $(VENV)/.installed-test
	$(BIN)/ruff format portal tests benchmarks
	$(BIN)/ruff check --fix portal tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
