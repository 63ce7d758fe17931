# Common tasks. `make test` is what CI runs (.ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test check format bench screenshots mutation

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[dev,train,frameworks]'

setup: $(PY)

test: $(PY)
	$(PY) -m pytest

check: $(PY)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(PY)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(PY)
	$(PY) bench/log_bench.py

screenshots: $(PY) scripts/screenshots.py
	$(PY) scripts/screenshots.py

# Mutation testing of the store's pure modules (not in CI; scores in bench/MUTATION.md).
mutation: $(PY)
	$(VENV)/bin/pip install -q -e '.[mutation]'
	$(PY) scripts/mutation.py
