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

.PHONY: help install run test lint typecheck unit render-deps browser-deps bench clean

help:
	@echo "make run | make test | make bench | make lint"

# Installs go through uv (from PyPI, into the venv): 8 s here for what pip took 100 s to do.
# `make run` installs only what running needs; the dev tools (pytest, playwright, mypy, ruff,
# schemathesis) come with `make test`. If uv cannot be had, pip does the same, more slowly.
UV := $(VENV)/bin/uv
define deps
	@echo "--- installing $(1) dependencies into $(VENV)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --disable-pip-version-check --progress-bar on 'uv==0.13.9' \
	  || echo "uv not available: installing with pip"
	if [ -x $(UV) ]; then $(UV) pip install --python $(PY) -r pyproject.toml $(2); \
	else $(PY) -m pip install --disable-pip-version-check --progress-bar on -e '.$(3)'; fi
endef

$(VENV)/.installed-run: pyproject.toml
	$(call deps,runtime,,)
	touch $@

$(VENV)/.installed: pyproject.toml
	$(call deps,runtime and dev,--extra dev,[dev])
	touch $(VENV)/.installed-run $@

install: $(VENV)/.installed

# WeasyPrint subsets fonts with HarfBuzz when libharfbuzz-subset is installed, with slow
# fontTools otherwise (about 4x the CPU per PDF, measured): install it when it is missing.
render-deps:
	@ldconfig -p | grep -q libharfbuzz-subset.so || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null) || echo "libharfbuzz-subset0 not installable here: PDFs will render about 4x slower"; }

run: $(VENV)/.installed-run render-deps
	$(PY) backend/manage.py migrate --noinput
	@# No collectstatic here (it took most of the start): WhiteNoise serves from the finders.
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

test: install render-deps browser-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install render-deps
	$(PY) -m bench
	$(PY) -m bench.fonts

clean:
	rm -rf $(VENV) var
