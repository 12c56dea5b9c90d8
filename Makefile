# Everyday commands. Every recipe calls the virtualenv's interpreter directly; nothing is activated.
#
#   make demo     create the venv, install, migrate, load demo data, serve on http://127.0.0.1:8000
#   make test     run the test suite (PYTEST_ARGS="-k orders -x" to pass arguments to pytest)
#
# DATABASE_URL and REDIS_URL are read from the environment by config/settings.py; without them
# the project uses SQLite, the in-memory channel layer and a local-memory cache.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := $(wildcard requirements*.txt)
PYTEST_ARGS ?=
# Test processes (pytest-xdist); the suite is safe to split: each worker gets its own test database.
PYTEST_WORKERS ?= 2

.PHONY: help demo test lint migrate shell install

help:
	@echo "make demo      install, migrate, load demo data and serve on http://127.0.0.1:8000"
	@echo "make test      run the tests (PYTEST_ARGS='...' is passed to pytest)"
	@echo "make lint      ruff check + ruff format --check"
	@echo "make migrate   apply database migrations"
	@echo "make shell     Django shell"
	@echo "make install   create .venv and install requirements-dev.txt"
	@echo "make messages  update locale/ar/LC_MESSAGES/django.po from the code and compile django.mo"

# --- virtualenv -------------------------------------------------------------------------

$(PY):
	@if command -v python3.11 >/dev/null 2>&1; then \
		python3.11 -m venv $(VENV); \
	else \
		echo "python3.11 not found, using $$(command -v python3)"; \
		python3 -m venv $(VENV); \
	fi

# Re-installs only when a requirements file is newer than the stamp.
$(STAMP): $(REQUIREMENTS) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

install: $(STAMP)

# --- demo: the embedded default (SQLite, in-memory channel layer), DEBUG on --------------

demo: export DJANGO_DEBUG := 1
demo: DEMO_ENV := env -u DATABASE_URL -u REDIS_URL
demo: $(STAMP)
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# --- tests --------------------------------------------------------------------------------
# DATABASE_URL / REDIS_URL pass through from the environment (or `make test DATABASE_URL=...`).
# Any pytest failure fails make (make itself reports it as exit status 2).

test: export DJANGO_SECRET_KEY ?= test-secret-key-not-for-production-0123456789abcdef
test: export DJANGO_ALLOWED_HOSTS ?= localhost,127.0.0.1,testserver
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# --- management -----------------------------------------------------------------------------

migrate: $(STAMP)
	$(PY) manage.py migrate

shell: $(STAMP)
	$(PY) manage.py shell

# --- translations ---------------------------------------------------------------------------
# Collects every translatable string into locale/ar/LC_MESSAGES/django.po (new ones arrive
# untranslated or "fuzzy": translate them, following docs/TRANSLATION.md), then compiles django.mo.
# Both files are committed; tests/common/test_translations.py fails when either is out of date.
# Needs GNU gettext (xgettext, msgmerge, msgfmt): apt-get install gettext.

.PHONY: messages
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=static/vendor --ignore=staticfiles \
	--ignore=bench --ignore=tests --ignore=media --ignore=backups

messages: export DJANGO_DEBUG := 1
messages: $(STAMP)
	$(PY) manage.py makemessages -l ar --no-obsolete --add-location file $(MESSAGES_IGNORE)
	$(PY) manage.py compilemessages -l ar $(MESSAGES_IGNORE)
