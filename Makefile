# Two commands do all the set-up on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run   - create .venv, install, start the app on the bundled MNIST at http://127.0.0.1:8050
#   make test  - create .venv, install the test extra, run the whole suite (browser tests headless)
#   make wheel - build dist/ssvae_labeling-<version>-py3-none-any.whl (configs, assets, MNIST inside)
# The command line is then .venv/bin/ssvae (or `source .venv/bin/activate`, then ssvae); the
# checkout is the workspace (data/, artifacts/) of `make run`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/ssvae dashboard

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest --headless

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py

wheel: | $(BIN)/python
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .
	@ls dist/*.whl

clean:
	rm -rf $(VENV) .pytest_cache build dist
