# Xinqiao: `make run` sets up and starts the whole system on SQLite with demo data;
# `make test` runs the suite (TEST_DATABASE_URL=postgresql+psycopg://… for PostgreSQL).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app
# The development settings (embedded SQLite) unless the caller chose others.
export XINQIAO_CONFIG ?= development

.PHONY: setup run test test-postgres lint translations messages bench screenshots

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed translations

# Compiled only when the catalog changed, so two `make test` side by side (CI) never rewrite the
# .mo file one of them is reading.
CATALOG := translations/zh_Hans_CN/LC_MESSAGES/messages
translations: $(CATALOG).mo

$(CATALOG).mo: $(CATALOG).po $(BIN)/.installed
	$(BIN)/pybabel compile -d translations --statistics

# Re-extract every UI string (N_ marks notification texts translated when shown) into the template
# and merge it into the catalogs; then translate what is new in translations/*/LC_MESSAGES/*.po.
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ \
	  -k pgettext:1c,2 -k _lp:1c,2 -k lazy_pgettext:1c,2 -k npgettext:1c,2,3 -o translations/messages.pot \
	  --ignore-dirs='.venv tests bench' .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask campus seed-demo
	@echo "Xinqiao is at http://127.0.0.1:5000/  (stop with Ctrl-C; the scheduler stops with it)"
	$(BIN)/flask scheduler run & SCHEDULER=$$!; \
	  trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: setup
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/xinqiao_test} \
	  $(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

screenshots: setup
	XINQIAO_SCREENSHOTS=docs/screenshots $(BIN)/pytest -m e2e $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench
