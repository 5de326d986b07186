# IAM Classroom: `make run` starts the product, `make test` runs every test (browser tests included).
# The only prerequisite is Python >= 3.12; both targets create .venv and install the project on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS='-m "not e2e" -x'`.
PYTEST_ARGS ?=

# The fast subset: no browser, no live HTTP server, no Celery worker subprocess, none of the heaviest modules
# (`slow`, tests/conftest.py); two xdist processes.
FAST_MARKERS := not browser and not e2e and not worker and not slow

# axe-core (npm), which the accessibility browser test injects into every page: pinned by tests/a11y/package-lock.json.
AXE := tests/a11y/node_modules/axe-core/axe.min.js

.PHONY: help run test test-fast lint chromium pgbouncer axe clean-data

help:
	@echo "make run        start IAM Classroom on http://localhost:$(PORT)/ (PORT=... to change; Ctrl-C stops it)"
	@echo "make test       run the whole test suite (PYTEST_ARGS=... for pytest options)"
	@echo "make test-fast  the tests without browser, live server or worker, on 2 processes (about a minute)"
	@echo "make lint       ruff (rules and format), mypy and the import contracts, as CI runs them"

run: $(STAMP)
	exec $(PY) manage.py standalone --port $(PORT)

# Local PostgreSQL/Redis when DATABASE_URL/REDIS_URL are unset and they answer; embedded ones otherwise. Two xdist
# processes (the 2-core machine's cores), each with its own test database; PYTEST_ARGS=-n0 for one.
test: $(STAMP) chromium pgbouncer axe
	exec $(PY) manage.py with_services --local-defaults -- $(PY) -m pytest --ds=tests.settings -n 2 $(PYTEST_ARGS)

test-fast: $(STAMP)
	exec $(PY) manage.py with_services --local-defaults -- $(PY) -m pytest --ds=tests.settings -q -n 2 \
	  -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# Lint rules and formatting (pyproject.toml's [tool.ruff]), types ([tool.mypy]: core/ and policies/engine/) and the
# layers with no import cycles ([tool.importlinter], docs/architecture.md).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; \
	  else \
	    echo "warning: chromium is not installed; the browser tests need it (apt-get install chromium)" >&2; \
	  fi; \
	fi

# The accessibility test (tests/browser/test_accessibility.py) injects axe-core, installed by npm from the committed
# lock file (npm ci: exactly the locked version); Debian's npm is installed first when it is missing.
axe: $(AXE)

$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's npm for axe-core"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends npm >/dev/null; \
	  else \
	    echo "error: npm is not installed; the accessibility test needs it for axe-core (apt-get install npm)" >&2; \
	    exit 1; \
	  fi; \
	fi
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	@touch $@

# The PgBouncer tests (tests/e2e/test_pgbouncer.py) start Debian's PgBouncer in transaction pooling mode; without it
# they fail, saying so.
pgbouncer:
	@if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's pgbouncer for the PgBouncer tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null; \
	  else \
	    echo "warning: pgbouncer is not installed; the PgBouncer tests need it (apt-get install pgbouncer)" >&2; \
	  fi; \
	fi

# Install (again) only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	  echo "error: $(VENV) uses Python < 3.12; remove it (rm -rf $(VENV)) and run make again" >&2; exit 1; }
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test,dev]'
	@touch $@

# A virtualenv from the first Python >= 3.12 found: python3.12, pyenv's version from .python-version, python3.13,
# python3. An existing .venv on an older Python is refused with a hint rather than silently replaced.
$(PY):
	@if [ -d $(VENV) ] && [ ! -x $(PY) ]; then rm -rf $(VENV); fi
	@set +e; found=""; \
	pyenv_python=""; \
	if [ -f .python-version ]; then \
	  version=$$(head -n1 .python-version | tr -d '[:space:]'); \
	  root=$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv"); \
	  pyenv_python="$$root/versions/$$version/bin/python"; \
	fi; \
	for candidate in python3.12 "$$pyenv_python" python3.13 python3; do \
	  [ -n "$$candidate" ] || continue; \
	  if "$$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    found="$$candidate"; break; \
	  fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "error: IAM Classroom needs Python 3.12 or newer (with the venv module); none was found." >&2; \
	  echo "       Install python3.12 (e.g. 'pyenv install 3.12' or your system's python3.12 and python3.12-venv)." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$("$$found" -c 'import sys; print(sys.executable, sys.version.split()[0])')"; \
	"$$found" -m venv $(VENV) || exit 1

# Removes the embedded database, Redis data, demo credentials and collected static files.
clean-data:
	rm -rf .data
