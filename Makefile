# Quick start (prerequisites: python3 >= 3.11 with venv, make, npm):  make run  then  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR)
export DBT_PROFILES_DIR := $(CURDIR)
# telemetry off (observatoire/conventions.py, TELEMETRY_OFF_ENV, for the Python entry points)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export DAGSTER_HOME := $(CURDIR)/data/dagster_home

.PHONY: check-prereqs install run test dev bench lint typecheck synth clean serve serve-stop

# One line naming the first missing prerequisite, instead of a failure deep inside pip or npm.
check-prereqs:  ## python3 >= 3.11 with venv, and npm (Node.js)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "missing prerequisite: $(PYTHON) (Python 3.11 or newer)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "missing prerequisite: Python 3.11 or newer ($(PYTHON) is $$($(PYTHON) -V 2>&1))" >&2; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "missing prerequisite: the venv module of $(PYTHON) (apt-get install python3-venv)" >&2; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "missing prerequisite: npm (Node.js; apt-get install npm), for the offline Data Docs assets" >&2; exit 1; }

$(BIN)/activate: | check-prereqs
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

vendor/node_modules/.package-lock.json: vendor/package.json vendor/package-lock.json
	npm ci --prefix vendor --no-audit --no-fund --ignore-scripts

install: $(VENV)/.installed  ## virtual environment with the locked dependencies

run: check-prereqs install vendor/node_modules/.package-lock.json  ## build everything from the shipped files
	$(BIN)/observatoire run

test: check-prereqs install vendor/node_modules/.package-lock.json  ## the whole test suite
	$(BIN)/pytest

dev: install  ## Dagster UI on http://127.0.0.1:3000
	$(BIN)/observatoire dev

bench: install  ## benchmarks: pipeline (smallest size; FULL=1 for every size), refresh, landing
	$(BIN)/python bench/run.py $(if $(FULL),--full,)
	$(BIN)/python bench/refresh.py
	$(BIN)/python bench/landing.py

lint: install  ## ruff (Python) and sqlfluff (SQL of the models, tests and macros; duckdb dialect)
	$(BIN)/ruff check observatoire orchestration tests bench models expectations/gx/plugins
	$(BIN)/sqlfluff lint models tests/dbt macros --processes 2

typecheck: install  ## mypy on observatoire/ and orchestration/ (settings in pyproject.toml)
	$(BIN)/mypy

serve: install  ## PostgreSQL for BI tools on 127.0.0.1:54320 (cluster in data/postgres/)
	$(BIN)/python -m observatoire.serving start

serve-stop: install  ## stop the PostgreSQL server of `make serve`
	$(BIN)/python -m observatoire.serving stop

synth: install  ## regenerate the synthetic respondent files of a wave (WAVE=2024)
	$(BIN)/python -m observatoire.synthetic --wave $(or $(WAVE),2024)

clean:
	rm -rf data target logs
