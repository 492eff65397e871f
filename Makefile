# Two commands for a new machine: `make demo` (set up, then run the pipeline on a real walking
# clip) and `make test` (the whole test suite). Both set up what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GAIT := $(VENV)/bin/gait

.PHONY: setup demo test stack bench clean-output

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed
	$(GAIT) setup

demo: setup
	$(GAIT) run data/demo/demo.mp4 --out output/demo

test: setup
	$(PY) -m pytest -q

stack: setup
	$(GAIT) stack

clean-output:
	rm -rf output

bench: setup
	$(PY) benchmarks/run.py
