# searchledger: `make demo` to try it, `make test` to test it, `make check` to lint it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SL := $(BIN)/searchledger
export SEARCHLEDGER_HOME ?= $(CURDIR)/var
# Keep Playwright from ever downloading a browser; tests use Debian's /usr/bin/chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install demo serve test test-sqlite test-postgres check format clean fuzz

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(SL) init
	$(SL) manage migrate --noinput
	$(SL) load-demo
	@echo
	@echo "searchledger demo: http://127.0.0.1:8000/  (sign in with a demo log-in above)"
	@echo
	SEARCHLEDGER_DEBUG=1 $(SL) serve --host 127.0.0.1 --port 8000

serve: install
	$(SL) serve

# The load scenario (bench/load_scenario.py): 50 users for 60 s against gunicorn on
# 127.0.0.1 with a fresh copy of the demo, then every acknowledged write looked up in the
# ledger and `searchledger verify`. SQLite by default; LOAD_DATABASE_URL=postgresql://...
# names a PostgreSQL database that it creates and drops (it refuses an existing one).
.PHONY: load
load: install
	$(BIN)/python bench/load_scenario.py \
	  $(if $(LOAD_DATABASE_URL),--database-url $(LOAD_DATABASE_URL)) $(LOAD_ARGS)

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install
	$(MAKE) test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) test-postgres; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-sqlite: install
	env -u DATABASE_URL $(BIN)/pytest -q

test-postgres: install
	DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest -q

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy searchledger tests conftest.py
	$(BIN)/lint-imports
	SEARCHLEDGER_DEBUG=1 $(SL) manage makemigrations --check --dry-run
	SEARCHLEDGER_DEBUG=1 $(SL) manage check

# Fuzz every parser with atheris for FUZZ_SECONDS each (fuzz/fuzz_*.py; seeds and regression
# inputs in fuzz/corpus/<target>/). New inputs go to var/fuzz/<target>/ and a crash to
# var/fuzz/crash-<target>-*; copy a fixed crash into fuzz/corpus/<target>/ as regress-*.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.py,%,$(wildcard fuzz/fuzz_*.py))
fuzz: install
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p var/fuzz/$$target; echo "== fuzz $$target ($(FUZZ_SECONDS) s)"; \
	  $(BIN)/python fuzz/fuzz_$$target.py var/fuzz/$$target fuzz/corpus/$$target \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=var/fuzz/crash-$$target- > var/fuzz/$$target.log 2>&1; \
	  status=$$?; grep -E '^(Done|stat::number_of_executed_units|stat::average_exec)' \
	    var/fuzz/$$target.log; \
	  if [ $$status -ne 0 ]; then \
	    tail -40 var/fuzz/$$target.log; echo "CRASH in $$target: var/fuzz/$$target.log"; exit 1; \
	  fi; \
	done

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
