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
	$(BIN)/mypy domain crm activities workflows starter worker.py bench

bench: $(STAMP)
	$(BIN)/python bench/hello_throughput.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/inbound_replies.py
	$(BIN)/python bench/simulated_year.py
	$(BIN)/python bench/billable_actions.py

clean:
	rm -rf $(VENV) build *.egg-info
