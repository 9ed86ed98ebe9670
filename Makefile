# Quick start on a fresh machine with only python3:  make run  then  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR)
export DBT_PROFILES_DIR := $(CURDIR)
# telemetry off (observatoire/conventions.py, TELEMETRY_OFF_ENV, for the Python entry points)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export DAGSTER_HOME := $(CURDIR)/data/dagster_home

.PHONY: install run test dev bench lint typecheck synth clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

vendor/node_modules/.package-lock.json: vendor/package.json vendor/package-lock.json
	npm ci --prefix vendor --no-audit --no-fund --ignore-scripts

install: $(VENV)/.installed  ## virtual environment with the locked dependencies

run: install vendor/node_modules/.package-lock.json  ## build everything from the shipped files
	$(BIN)/observatoire run

test: install vendor/node_modules/.package-lock.json  ## the whole test suite
	$(BIN)/pytest

dev: install  ## Dagster UI on http://127.0.0.1:3000
	$(BIN)/observatoire dev

bench: install  ## benchmark (smallest size; FULL=1 for every size)
	$(BIN)/python bench/run.py $(if $(FULL),--full,)

lint: install  ## ruff (Python) and sqlfluff (SQL of the models, tests and macros; duckdb dialect)
	$(BIN)/ruff check observatoire orchestration tests bench models
	$(BIN)/sqlfluff lint models tests/dbt macros --processes 2

typecheck: install  ## mypy on observatoire/ and orchestration/ (settings in pyproject.toml)
	$(BIN)/mypy

synth: install  ## regenerate the synthetic respondent files of a wave (WAVE=2024)
	$(BIN)/python -m observatoire.synth --wave $(or $(WAVE),2024)

clean:
	rm -rf data target logs
