# PDAC liver-metastasis outcomes explorer
# make run    serve the dashboard on http://localhost:8501 (demo cohort)
# make test   install what the tests need and run the whole suite (browser tests included)
# make bench  run the speed benchmark and write docs/benchmarks.md
# make loadtest  concurrent browser sessions against a real server, writes docs/loadtest.md (not in make test)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint bench methodcheck loadtest chromium clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.testtools: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-test.txt
	touch $@

run: $(VENV)/.runtime
	PYTHON=$(PY) sh scripts/serve.sh --server.port $(PORT)

chromium:
	@bash scripts/ensure_chromium.sh

lint: $(VENV)/.testtools
	$(PY) -m ruff check .

test: $(VENV)/.testtools chromium lint
	$(PY) -m pytest

bench: $(VENV)/.runtime
	$(PY) -m benchmarks

loadtest: $(VENV)/.testtools chromium
	$(PY) -m scripts.loadtest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
