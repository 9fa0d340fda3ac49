# The two commands in the README: `make run` and `make test`.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test setup test-setup lint bench

run: setup ## start the whole platform in embedded mode on http://$(HOST):$(PORT)
	$(PY) -m backend run

test: test-setup ## unit, integration (PostgreSQL, Redis) and end-to-end (Chromium) tests
	$(PY) -m pytest

setup:
	@bash infra/scripts/setup.sh python

test-setup:
	@bash infra/scripts/setup.sh test
