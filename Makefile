# Set-up and entry points. Every target creates .venv with Python 3.10 when it is absent,
# because lava-nc 0.10.0 installs on Python 3.10 only.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON310 ?= $(shell sh tools/find-python310.sh)
EXTRAS ?= dev
TRAIN_ARGS ?=
STAMP := $(VENV)/.installed-$(EXTRAS)

.PHONY: venv install train test bench clean

$(PY):
	@test -n "$(PYTHON310)" && test -x "$(PYTHON310)" || { \
	  echo "error: Python 3.10 not found. Install it (for example 'pyenv install 3.10.13') or pass PYTHON310=/path/to/python3.10" >&2; exit 1; }
	"$(PYTHON310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25" setuptools wheel

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv install: $(STAMP)

train: $(STAMP)
	$(VENV)/bin/lava-biograd train $(TRAIN_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_reference.py

clean:
	rm -rf $(VENV) build *.egg-info
