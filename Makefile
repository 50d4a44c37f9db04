# Set-up and entry points. Every target creates .venv with Python 3.10 when it is absent,
# because lava-nc 0.10.0 installs on Python 3.10 only.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON310 ?= $(shell sh tools/find-python310.sh)
TRAIN_ARGS ?= --out runs/mnist
PYTEST_ARGS ?=

.PHONY: venv install install-test train test bench clean

$(PY):
	@test -n "$(PYTHON310)" && test -x "$(PYTHON310)" || { \
	  echo "error: Python 3.10 not found. Install it (for example 'pyenv install 3.10.13') or pass PYTHON310=/path/to/python3.10" >&2; exit 1; }
	"$(PYTHON310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25" setuptools wheel

# The core package (training, Lava Processes, data).
$(VENV)/.installed-core: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

# Test tools and lava-dl (netx export checks). lava-dl pulls a CUDA build of torch (about 5 GB).
$(VENV)/.installed-test: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev,dl]"
	touch $@

venv install: $(VENV)/.installed-core

install-test: $(VENV)/.installed-test

train: $(VENV)/.installed-core
	$(VENV)/bin/lava-biograd train $(TRAIN_ARGS)

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(VENV)/.installed-core
	$(PY) benchmarks/bench_reference.py
	$(PY) benchmarks/bench_lava.py

clean:
	rm -rf $(VENV) build *.egg-info
