# qb-pipeline. Every target creates .venv itself on a fresh clone (only python3 and make needed).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint format ui bench emulator clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q -U pip uv 2>&1 | grep -v "is ignored" || true
	@VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install -q -e '.[dev]' \
		|| $(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)  ## the main job: emulator with 3 demo companies, OAuth connect, summary
	$(VENV)/bin/qb-pipeline demo

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

emulator: $(STAMP)  ## serve 3 demo companies on 127.0.0.1:8765 until Ctrl-C
	$(VENV)/bin/qb-pipeline emulator --companies 3 --size demo

ui: $(STAMP)  ## after `make demo`: the emulator plus `dagster dev` on the demo home (.demo)
	$(VENV)/bin/qb-pipeline ui

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
