# Loopwave — two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed
FUZZ_EXAMPLES ?= 250

.PHONY: install run serve test test-fast test-sqlite test-postgres lint bench bench-wall bench-callgrind bench-scale fuzz clean chromium wrk valgrind

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/flask --app app db upgrade
	@echo "Loopwave is starting: open http://127.0.0.1:$(PORT)/ (development sign-in is on)"
	@echo "The webhook worker runs beside it (flask --app app worker), stopped with it."
	export WEBHOOK_ALLOW_PRIVATE=$${WEBHOOK_ALLOW_PRIVATE:-1}; \
	$(BIN)/flask --app app worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEV_LOGIN=$${DEV_LOGIN:-1} $(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

serve: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: install chromium lint test-sqlite test-postgres

# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "chromium is missing: install Debian's chromium package (apt-get install chromium)" >&2; exit 1; fi
	@test -x /usr/bin/chromium || { echo "chromium could not be installed" >&2; exit 1; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The in-process tier: no gunicorn, no browser, no fuzzing (SQLite).
test-fast: install
	$(BIN)/pytest -q -m "not server and not browser"

test-sqlite: install
	$(BIN)/pytest -q

test-postgres: install
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

# Schemathesis against live gunicorn: cases and failures per operation (CI runs a bounded
# version inside the test suite: tests/core/test_fuzz.py).
fuzz: install
	LOOPWAVE_IGNORE_DOTENV=1 $(BIN)/python -m tests.fuzz --examples $(FUZZ_EXAMPLES)

# Wall clock (gunicorn + wrk), then instructions per request under callgrind; both with the
# request log on, in text and in JSON (docs/performance.md).
bench: bench-wall bench-callgrind

bench-wall: install wrk
	$(BIN)/python bench/run.py

bench-callgrind: install valgrind
	$(BIN)/python bench/callgrind.py

# The load generator of `make bench` (Debian's package).
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; \
	else echo "wrk is missing: install Debian's wrk package (apt-get install wrk)" >&2; exit 1; fi

# The instruction counter of `make bench` (Debian's package).
valgrind:
	@if command -v valgrind >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind; \
	else echo "valgrind is missing: install Debian's valgrind package (apt-get install valgrind)" >&2; exit 1; fi

bench-scale: install wrk
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
