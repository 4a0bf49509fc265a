# Every target sets itself up: the first run creates .venv from pyproject.toml (and npm assets).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
UI      := src/pvpp_kg/web/static/yasgui
SWAGGER := src/pvpp_kg/web/static/swagger-ui
PYTEST_ARGS ?=

.PHONY: serve test lint fmt docs bench load stats setup clean browser jemalloc

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# the front-end assets from npm, served by the server itself: YASGUI (/sparql) and Swagger UI (/docs)
$(UI)/yasgui.min.js $(SWAGGER)/swagger-ui-bundle.js &: ui/package.json
	cd ui && npm install --no-audit --no-fund --silent
	mkdir -p $(UI) $(SWAGGER)
	cp ui/node_modules/@zazuko/yasgui/build/yasgui.min.js ui/node_modules/@zazuko/yasgui/build/yasgui.min.css $(UI)/
	cp ui/node_modules/swagger-ui-dist/swagger-ui-bundle.js ui/node_modules/swagger-ui-dist/swagger-ui.css $(SWAGGER)/

setup: $(STAMP) $(UI)/yasgui.min.js $(SWAGGER)/swagger-ui-bundle.js

serve: setup jemalloc  ## the main job: SPARQL endpoint + linked data on the embedded store
	$(BIN)/pvpp-kg serve

test: setup browser jemalloc lint  ## the whole suite (lint first)
	$(BIN)/pytest $(PYTEST_ARGS)

browser:  ## Debian's headless Chromium for the UI tests
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's chromium for the browser tests: apt-get update && apt-get install chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium"; fi; }

jemalloc:  ## Debian's jemalloc, preloaded into query processes when installed (optional: ~15 % faster heavy queries)
	@$(PY) -c "import ctypes.util, sys; sys.exit(ctypes.util.find_library('jemalloc') is None)" || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's jemalloc (optional, ~15 % faster heavy queries): apt-get update && apt-get install libjemalloc2"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null; \
	  else echo "jemalloc missing (optional): sudo apt-get install libjemalloc2"; fi; }

lint: $(STAMP)  ## ruff rules and format, and the import layers (pyproject.toml [tool.importlinter])
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

load: $(STAMP)
	$(BIN)/pvpp-kg load

stats: $(STAMP)
	$(BIN)/pvpp-kg stats

docs: $(STAMP)  ## ontology documentation (pyLODE) in build/docs/
	mkdir -p build/docs
	$(BIN)/pvpp-kg docs --out build/docs

bench: setup jemalloc  ## benchmarks (not part of make test)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf var build
