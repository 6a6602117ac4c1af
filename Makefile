# PDAC liver-metastasis outcomes explorer
# make run    serve the dashboard on http://localhost:8501 (demo cohort)
# make test   install what the tests need and run the whole suite (browser tests and the ~100 s
#             calibration tests marked `slow` included; they are listed at the end of the run).
#             No test asserts on wall-clock time: speed is measured by make bench / make loadtest.
# make bench  run the speed benchmarks (pipeline, reading files) and write docs/benchmarks.md
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

# the benchmark compares with "the obvious way" (lifelines, scikit-learn: test-only tools)
bench: $(VENV)/.testtools
	$(PY) -m benchmarks

loadtest: $(VENV)/.testtools chromium
	$(PY) -m scripts.loadtest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
