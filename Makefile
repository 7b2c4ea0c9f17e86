# Hausruf: `make demo` runs the hotline with the demo directory, `make test` runs the whole suite.
# Both set everything up first (system packages, .venv), so they work on a fresh Debian machine.

VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_NUMBERS := +4927150000001=hotline,+4927150000002=wohnen

.PHONY: setup demo test check bench docs clean

setup:
	@scripts/bootstrap

demo: setup
	$(BIN)/hausruf db upgrade
	$(BIN)/hausruf import data/demo
	$(BIN)/hausruf check flows/
	$(BIN)/hausruf staff secret
	@echo "Staff console: http://$(HOST):$(PORT)/  First account (asks for a password of 10+ characters):"
	@echo "  $(BIN)/hausruf staff add you@example.org --name 'Your Name' --role admin"
	HAUSRUF_NUMBERS=$${HAUSRUF_NUMBERS:-$(DEMO_NUMBERS)} $(BIN)/hausruf demo --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/hausruf check flows/
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: setup
	$(BIN)/hausruf check flows/

bench: setup
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/webhook_instructions.py
	$(BIN)/python bench/speech.py

docs: setup
	$(BIN)/hausruf docs reference -o docs/flow-reference.md
	$(BIN)/hausruf schema > docs/flow.schema.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
