# Two commands on a fresh machine: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app checkin
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
TRANSLATIONS := checkin/translations

.PHONY: run addresses test test-slow lint format translations messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The secret key is its owner's only from the moment the file exists (umask, never chmod).
instance/config.py:
	umask 077 && mkdir -p instance && \
		$(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile --use-fuzzy -d $(TRANSLATIONS) -f 2>/dev/null

# After changing words in the code or templates: refresh the catalogue, then translate what
# `tests/test_translations.py` reports missing in checkin/translations/id/LC_MESSAGES/messages.po.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_ngettext:1,2 --no-location --sort-output \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

# `make run HOST=0.0.0.0` lets a tablet on the office network try the demo.
HOST ?= 127.0.0.1
PORT ?= 5000
# Served on every IPv4 address (0.0.0.0, which no browser reaches), the demo is reached at
# 127.0.0.1 on this machine and at each of its IPv4 network addresses from a tablet or a TV;
# served on one address, at that address.
EVERY_ADDRESS = $(filter 0.0.0.0,$(HOST))
NETWORK_ADDRESSES = $(if $(EVERY_ADDRESS),$(foreach address,$(shell hostname -I 2>/dev/null),$(if $(findstring :,$(address)),,$(address))))
LOCAL_ADDRESS = $(if $(EVERY_ADDRESS),127.0.0.1,$(HOST))
# The display link printed by the demo names the first of them a TV can reach.
REACHED_AT = $(or $(firstword $(NETWORK_ADDRESSES)),$(LOCAL_ADDRESS))

define print_addresses
	@echo "checkin is at http://$(LOCAL_ADDRESS):$(PORT)/  (Ctrl+C stops it)"
	@for address in $(NETWORK_ADDRESSES); do echo "From a tablet on this network: http://$$address:$(PORT)/"; done
endef

run: $(VENV)/.installed instance/config.py translations
	$(FLASK) demo --url "http://$(REACHED_AT):$(PORT)"
	$(print_addresses)
	$(FLASK) run --host $(HOST) --port $(PORT)

# What `make run` prints of where it serves (tests/test_make_run.py reads it).
addresses:
	$(print_addresses)

# The PostgreSQL variant runs when a server answers on 127.0.0.1:5432 (CI always starts one
# and sets CHECKIN_REQUIRE_POSTGRES, so that a missing server fails the build).
POSTGRES_UP := $(BIN)/python -c "import psycopg; psycopg.connect('$(POSTGRES_URL:postgresql+psycopg%=postgresql%)', connect_timeout=3).close()" 2>/dev/null
with_postgres = if $(POSTGRES_UP); then \
		CHECKIN_TEST_POSTGRES_URL=$(POSTGRES_URL) $(1); \
	else \
		echo "No PostgreSQL on 127.0.0.1:5432: running the SQLite variant only."; \
		test -z "$$CHECKIN_REQUIRE_POSTGRES" || exit 1; \
		$(1); \
	fi

# axe-core for the accessibility checks of the browser tests (tests/browser/package.json);
# without npm those tests fail and say so.
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	if command -v npm >/dev/null; then cd tests/browser && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; fi

test: $(VENV)/.installed-test translations tests/browser/node_modules/.installed
	$(BIN)/ruff check checkin tests bench build_steps.py
	$(BIN)/ruff format --check checkin tests bench build_steps.py
	$(call with_postgres,$(BIN)/pytest -n auto --dist loadfile)

# Stress and fault tests against real gunicorn servers (about 2 minutes on 2 cores), and every
# bench part once with tiny sizes (bench/run.py --smoke: a few minutes more; the valgrind count
# of instructions, skipped where valgrind is missing as on CI, ten more); CI runs them after
# `make test`.
test-slow: $(VENV)/.installed-test translations
	$(call with_postgres,$(BIN)/pytest -m slow)

# The quick benchmarks (under 5 minutes); figures go to bench/RESULTS.md by hand.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py --quick

lint: $(VENV)/.installed-test
	$(BIN)/ruff check checkin tests bench build_steps.py

format: $(VENV)/.installed-test
	$(BIN)/ruff format checkin tests bench build_steps.py
	$(BIN)/ruff check --fix checkin tests bench build_steps.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts tests/browser/node_modules
