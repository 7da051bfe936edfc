# The two commands: `make run` (set up, ingest the seeds, open the chat) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE_STAMP := $(VENV)/.native

.PHONY: setup run chat test test-all browser clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,ui,plot,dev]'
	touch $(STAMP)

# llama.cpp compiled for this CPU (about 7 minutes the first time on a machine, cached after;
# RAG_NATIVE_BUILD=0 skips it and keeps the prebuilt wheel).
$(NATIVE_STAMP): $(STAMP)
	$(BIN)/python -m rag.backends.native
	touch $(NATIVE_STAMP)

setup: $(STAMP) $(NATIVE_STAMP)

# Debian's Chromium for the browser tests (needs root or sudo; skipped when present).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

run: setup
	$(BIN)/rag ingest seeds/
	$(BIN)/rag serve

chat: setup
	$(BIN)/rag ingest seeds/
	$(BIN)/rag chat

# The default suite: everything but the tests marked slow (a few real-model tests still run).
test: setup browser
	$(BIN)/pytest -m "not slow" -q

test-all: setup browser
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
