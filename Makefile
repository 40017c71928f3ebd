# `make run` and `make test` are the whole quick start; everything else wraps the same tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run migrate test test-fast lint typecheck check serve serve-env bench clean browsers nginx

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_enumerations

# The demo credentials are kept in .demo-credentials.env (git-ignored): every run prints the
# same ones. Each request is logged once (config/settings/local.py).
run: migrate
	$(MANAGE) bootstrap_demo --no-seed --host $(HOST) --port $(PORT)
	@echo "Serving http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	@# one webhook worker beside the web server, stopped with it; demo receivers may be local
	export ONBOARD_WEBHOOK_ALLOW_PRIVATE=true; $(MANAGE) run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; $(MANAGE) runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy .

check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) check
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

test: install lint typecheck check browsers nginx
	$(BIN)/pytest

test-fast: install browsers nginx
	$(BIN)/pytest -x

# Production settings (needs DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS): migrate, seed and
# collect static once, then gunicorn with gunicorn.conf.py ((2 x cores) + 1 workers unless
# WEB_CONCURRENCY is set). Behind several app servers, run the first three steps once per
# release instead (README "Running in production").
SERVE_REQUIRED := DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS
serve: export DJANGO_SETTINGS_MODULE = config.settings.production
serve: serve-env install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_enumerations
	$(MANAGE) collectstatic --noinput -v0
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py config.wsgi:application

# One line naming every missing variable, before anything runs (not a settings traceback).
SERVE_MISSING = $(strip $(foreach name,$(SERVE_REQUIRED),$(if $($(name)),,$(name))))
serve-env:
	$(if $(SERVE_MISSING),$(error make serve: set $(SERVE_MISSING) (production settings, see README "Running in production")))
	@true

# Load a data set into PostgreSQL, serve it with gunicorn, print throughput and latency per
# endpoint (bench/README.md). Options go in ARGS, e.g. make bench ARGS="--users 1000000"
# (make would take `make bench --users N` as its own option); or run bench/run.py directly.
bench: install
	$(PY) bench/run.py $(ARGS) $(BENCH_ARGS)

# Headless Chromium for the admin browser tests (Playwright drives it): Debian's package,
# installed once if missing. Playwright's own browser download is never used.
CHROMIUM ?= /usr/bin/chromium
browsers:
	@test -x $(CHROMIUM) || { \
		echo "== installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
		test -x $(CHROMIUM); \
	}

# Debian's nginx for the production-front tests (tests/core/test_front.py runs deploy/nginx.conf
# in front of gunicorn): installed once if missing, as chromium is above.
NGINX ?= /usr/sbin/nginx
nginx:
	@test -x $(NGINX) || { \
		echo "== installing Debian's nginx for the production-front tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx-light >/dev/null; \
		test -x $(NGINX); \
	}

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .mypy_cache .ruff_cache
