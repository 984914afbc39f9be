# napari-seisseg: two commands for a newcomer (see README):
#   make demo   set everything up and run the main job headless on the sample data
#   make test   set everything up (Xvfb + Mesa included) and run the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
XVFB := xvfb-run -a -s "-screen 0 1400x900x24"
DEMO_OUT ?= demo_output

.PHONY: all venv system-deps demo test test-fast lint bench clean

all: test

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# torch first, pinned: on these machines 2.13.0 is the local CPU build; a looser
	# requirement would pull a newer torch with several GB of CUDA packages.
	$(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/ensure_system_deps.sh

demo: venv
	$(VENV)/bin/seisseg demo --out $(DEMO_OUT)

test: venv system-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(XVFB) $(PY) -m pytest -p no:cacheprovider

test-fast: venv
	$(PY) -m pytest -m "not gui" -p no:cacheprovider

lint: venv
	$(VENV)/bin/ruff check src tests benchmarks

bench: venv
	$(PY) benchmarks/bench_read.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build dist src/*.egg-info .pytest_cache .ruff_cache
