# koastops — developer entry points. `make` (or `make help`) lists them.
#
# Everything runs from the project virtualenv in .venv, created with the first Python
# >= 3.12 found among $(PYTHON_CANDIDATES) (or the one you name: `make install PYTHON=...`).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON_CANDIDATES := python3.13 python3.12 python3
MIN_PYTHON := 3.12

HOST ?= 127.0.0.1
PORT ?= 8000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/koastops_bench
BENCH_RUNS ?= 30
# Test processes (pytest-xdist); each gets its own database, broker and cache db, var dir.
# Three on CI's two cores: the browser, worker and live-server tests spend much of their
# time waiting, so a third process fills it (10:39 with two, measured on this machine).
TEST_WORKERS ?= 3

.PHONY: help
help: ## list the targets
	@echo "koastops — make targets:"
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  \033[1m%-11s\033[0m %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PYTHON=<interpreter> PORT=$(PORT) BENCH_RUNS=$(BENCH_RUNS) PYTEST_ARGS='...'"

# --- Virtualenv ---------------------------------------------------------------------------
# The probe runs each candidate for real: a pyenv shim exists on PATH even for versions that
# are not installed or not selected, and only fails when executed.
$(BIN)/python:
	@py="$(PYTHON)"; \
	if [ -n "$$py" ]; then \
		if ! "$$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
			version=$$("$$py" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo "not runnable"); \
			echo "koastops needs Python >= $(MIN_PYTHON); PYTHON=$$py is $$version." >&2; \
			exit 1; \
		fi; \
	else \
		found=""; \
		for candidate in $(PYTHON_CANDIDATES); do \
			if version=$$("$$candidate" -c 'import platform; print(platform.python_version())' 2>/dev/null); then \
				if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
					py=$$candidate; break; \
				fi; \
				found="$$found$${found:+, }$$candidate = $$version"; \
			fi; \
		done; \
		if [ -z "$$py" ]; then \
			echo "koastops needs Python >= $(MIN_PYTHON); found $${found:-no runnable python3}." >&2; \
			echo "Install $(MIN_PYTHON)+ (pyenv install $(MIN_PYTHON)) and retry." >&2; \
			exit 1; \
		fi; \
	fi; \
	echo "Creating $(VENV) with $$py ($$("$$py" -c 'import platform; print(platform.python_version())'))"; \
	"$$py" -m venv $(VENV)

# The first install shows pip's progress (it takes a while: something must be seen to
# happen); re-installs after a change to pyproject.toml or constraints.txt stay quiet.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@if [ -e $@ ]; then \
		echo "Updating $(VENV) (pyproject.toml or constraints.txt changed)"; \
		$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'; \
	else \
		echo "Installing koastops and its dev tools into $(VENV) (first time: about a minute)"; \
		$(BIN)/python -m pip install --progress-bar on -c constraints.txt -e '.[dev]'; \
	fi
	@touch $@

.PHONY: install
install: $(STAMP) ## create .venv and install koastops with the dev tools (pinned by constraints.txt)

# --- Run ----------------------------------------------------------------------------------
.PHONY: run
run: install ## migrate, seed the demo data and start web + worker + beat (DEBUG=1 unless set)
	@export DEBUG="$${DEBUG:-1}"; \
	$(BIN)/python manage.py migrate --noinput; \
	$(BIN)/python manage.py seed_demo; \
	exec $(BIN)/python manage.py devserver --addr $(HOST) --port $(PORT)

# --- Quality ------------------------------------------------------------------------------
.PHONY: test
test: install ## run the test suite (PostgreSQL if DATABASE_URL is set, SQLite otherwise)
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff check + ruff format --check + mypy + lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=ci-only-secret-key-not-for-production-0123456789abcdef $(BIN)/mypy koastops
	$(BIN)/lint-imports

.PHONY: fmt
fmt: install ## fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: ci
ci: ## what CI runs (starts PostgreSQL and Redis if needed): .ci/run
	./.ci/run

# --- Benchmark ----------------------------------------------------------------------------
# Runs against its own database (koastops_bench unless DATABASE_URL says otherwise), never the
# test database; production-like settings (DEBUG off) with bench-only secrets.
.PHONY: bench
bench: install ## seed a large dataset in PostgreSQL, time the pages, write docs/benchmarks.md
	@export DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}" \
		DEBUG="$${DEBUG:-0}" \
		SECRET_KEY="$${SECRET_KEY:-bench-only-secret-key-not-for-production-0123456789abcdef}" \
		ACTIVITY_LOG_KEYS="$${ACTIVITY_LOG_KEYS:-bench:bench-only-activity-log-key}" \
		STATIC_MANIFEST="$${STATIC_MANIFEST:-false}" \
		LOG_LEVEL="$${LOG_LEVEL:-WARNING}"; \
	$(BIN)/python manage.py bench --create-database --runs $(BENCH_RUNS)

# --- Screenshots and Lighthouse -----------------------------------------------------------
# Both serve the demo data production-like (DEBUG off, WhiteNoise with hashed, compressed
# static files from collectstatic) from a throwaway SQLite database under $(SERVE_VAR),
# rebuilt on every run, on 127.0.0.1 in the command's own process. Demo-only secrets.
SERVE_VAR := var/serve
LIGHTHOUSE_VERSION := 12.2.3
LIGHTHOUSE := var/lighthouse/node_modules/.bin/lighthouse
SERVE_ENV := export KOASTOPS_VAR_DIR="$(CURDIR)/$(SERVE_VAR)" \
		DATABASE_URL="sqlite:///$(CURDIR)/$(SERVE_VAR)/serve.sqlite3" \
		DEBUG=0 STATIC_MANIFEST=true SECURE_SSL_REDIRECT=false \
		ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=http://127.0.0.1 LOG_LEVEL=WARNING \
		SECRET_KEY=serve-only-secret-key-not-for-production-0123456789abcdef \
		FIELD_ENCRYPTION_KEYS=ZGVtby1zZXJ2ZS1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \
		ACTIVITY_LOG_KEYS=serve:serve-only-activity-log-key-not-for-production

.PHONY: serve-data
serve-data: install
	@rm -rf $(SERVE_VAR)
	@$(SERVE_ENV); \
	$(BIN)/python manage.py migrate --noinput -v 0; \
	$(BIN)/python manage.py seed_demo --force > /dev/null; \
	$(BIN)/python manage.py collectstatic --noinput -v 0

.PHONY: screenshots
screenshots: serve-data ## capture the main pages per demo persona into docs/screenshots/
	@$(SERVE_ENV); $(BIN)/python manage.py screenshots --out docs/screenshots

$(LIGHTHOUSE):
	npm install --no-audit --no-fund --save-exact --prefix var/lighthouse lighthouse@$(LIGHTHOUSE_VERSION)

.PHONY: lighthouse
lighthouse: serve-data $(LIGHTHOUSE) ## Lighthouse on the start page, a brand overview, members; scores into docs/benchmarks.md
	@$(SERVE_ENV); $(BIN)/python manage.py lighthouse --lighthouse $(LIGHTHOUSE) --output docs/benchmarks.md $(LIGHTHOUSE_ARGS)

# --- Maintenance --------------------------------------------------------------------------
# A fresh resolve: a throwaway venv gets the newest versions pyproject.toml allows, and its
# freeze (minus koastops itself) becomes the new lock. Review the diff, run `make test`.
.PHONY: lock
lock: $(BIN)/python ## re-resolve the dependencies and rewrite constraints.txt
	@rm -rf .lock-venv
	$(BIN)/python -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	@{ \
		echo "# koastops lock: exact versions of every installed package (runtime + [dev] extra)."; \
		echo "# Used as: pip install -c constraints.txt -e '.[dev]'   (the Dockerfile: -c constraints.txt .)"; \
		echo "# Regenerate with \`make lock\` (fresh venv, newest versions pyproject.toml allows,"; \
		echo "# then pip freeze --exclude-editable). Do not edit by hand."; \
		.lock-venv/bin/python -m pip freeze --exclude-editable; \
	} > constraints.txt
	@rm -rf .lock-venv
	@echo "constraints.txt rewritten; review the diff, then: make install test"

.PHONY: clean
clean: ## remove the venv, caches and local data (var/: SQLite db, broker files, static)
	rm -rf $(VENV) .lock-venv var .pytest_cache .ruff_cache test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
