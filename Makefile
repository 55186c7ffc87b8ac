# Every target bootstraps .venv itself; only Python >= 3.11 is needed on the machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test test-core lint bench clean

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[demo]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) install -e '.[dev,onnx,tft,beam]'
	touch $@

# Core dependencies and test tools only, in a venv of its own: proves the suite
# passes without any extra (tests needing one skip, saying which).
VENV_CORE := .venv-core
$(VENV_CORE)/.test: pyproject.toml
	$(PYTHON) -m venv $(VENV_CORE)
	$(VENV_CORE)/bin/python -m pip --disable-pip-version-check -q install -e '.[test]'
	touch $@

demo: $(VENV)/.core
	$(PY) -m tskew demo

test: $(VENV)/.dev
	$(PY) -m ruff check tskew tests conftest.py $(wildcard benchmarks)
	$(PY) -m pytest -n 2 -q

test-core: $(VENV_CORE)/.test
	$(VENV_CORE)/bin/python -m pytest -n 2 -q

lint: $(VENV)/.dev
	$(PY) -m ruff check tskew tests conftest.py $(wildcard benchmarks)
	$(PY) -m ruff format --check tskew tests conftest.py $(wildcard benchmarks)

bench: $(VENV)/.dev
	$(PY) benchmarks/bench_analyze.py
	$(PY) benchmarks/bench_serving.py
	$(PY) benchmarks/bench_onnx.py
	$(PY) benchmarks/bench_skew.py
	$(PY) benchmarks/bench_monitor.py
	$(PY) benchmarks/bench_continuous.py

clean:
	rm -rf $(VENV) $(VENV_CORE) .pytest_cache .ruff_cache .hypothesis
