# Two entry points after cloning: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

# Reinstall when the project's packages change too: an editable install only maps the
# top-level packages it saw when it was made.
$(STAMP): pyproject.toml $(wildcard */__init__.py) worker.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/csflow demo

test: $(STAMP)
	sh scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy devserver domain crm activities workflows starter worker.py

bench: $(STAMP)
	$(BIN)/python bench/devserver_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
