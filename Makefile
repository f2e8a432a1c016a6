# make run   - start the service on 127.0.0.1:$(PORT) with a worker (embedded defaults)
# make test  - the whole suite; set DATABASE_URL / CELERY_BROKER_URL to run it on real services
# make bench - the benchmarks, one name=value line per figure
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: help install run test lint typecheck unit browser-deps bench clean

help:
	@echo "make run | make test | make bench | make lint"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) backend/manage.py migrate --noinput
	$(PY) backend/manage.py collectstatic --noinput --verbosity 0
	$(PY) backend/manage.py seed_demo
	exec $(PY) backend/manage.py serve

# Browser tests need Debian's chromium and axe-core; install them when they are missing.
browser-deps:
	@command -v pdftotext >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) || echo "poppler-utils not installable here: CJK PDF text checks will be skipped"; }
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installable here: browser tests will be skipped"; }
	@[ -f tests/browser/node_modules/axe-core/axe.min.js ] || (cd tests/browser && npm ci --silent --no-audit --no-fund) || echo "axe-core not installable here: browser tests will be skipped"
	@[ -f tests/fhir_r4/node_modules/lforms/package.json ] || (cd tests/fhir_r4 && npm ci --silent --no-audit --no-fund) || echo "FHIR schema and LHC-Forms not installable here: those FHIR checks will be skipped"

lint: install
	$(VENV)/bin/ruff check backend forms tests
	$(VENV)/bin/ruff format --check backend forms tests
	cd backend && ../$(VENV)/bin/mypy --config-file ../pyproject.toml .

test: install browser-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench
	$(PY) -m bench.fonts

clean:
	rm -rf $(VENV) var
