# kechuang: `make run` serves the platform with demo data, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ENTERPRISES ?= 2000

.DEFAULT_GOAL := help
.PHONY: help install run test test-pg lint bench demo clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned dependencies

run: $(STAMP) ## prepare SQLite, load demo data, serve on http://127.0.0.1:8000
	mkdir -p var
	$(BIN)/kechuang migrate --no-input
	$(BIN)/kechuang demo --enterprises $(ENTERPRISES)
	$(BIN)/kechuang assess --also-a-year-before
	$(BIN)/kechuang demo_indicators
	$(BIN)/kechuang demo_accounts
	$(BIN)/kechuang demo_projects
	$(BIN)/kechuang demo_policies
	$(BIN)/kechuang demo_matching
	$(BIN)/kechuang demo_vouchers
	$(BIN)/kechuang demo_recognitions
	@$(BIN)/kechuang db_worker --no-reload > var/worker.log 2>&1 & echo $$! > var/worker.pid
	@trap 'kill $$(cat var/worker.pid) 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/kechuang demo_accounts --print --url http://$(HOST):$(PORT)/; \
	  $(BIN)/kechuang runserver --noreload $(HOST):$(PORT)

test: $(STAMP) ## run the whole test suite (SQLite; browser tests need /usr/bin/chromium)
	$(BIN)/pytest

test-pg: $(STAMP) ## the suite against PostgreSQL (DATABASE_URL, default 127.0.0.1:5432/test)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest

lint: $(STAMP) ## ruff, and no missing migrations
	$(BIN)/ruff check kechuang tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/kechuang makemigrations --check --dry-run

bench: $(STAMP) ## run the benchmarks (figures go to benchmarks/RESULTS.md)
	$(BIN)/python benchmarks/run_all.py

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles
