# The two commands of the README. Both create .venv and install what they need on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench-events

$(STAMP): pyproject.toml tests/console/package-lock.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# axe-core, which the console's browser tests run in the page (npm registry, pinned)
	npm ci --prefix tests/console --no-audit --no-fund --loglevel=error
	@# export MiniLM's graph and embed the moderation exemplars now, not on the first request
	@# (CLEARFRAME_CACHE_DIR)
	$(VENV)/bin/clearframe build-model-cache
	@touch $(STAMP)

## run: migrate the embedded SQLite database and start the API with all workers in-process
run: $(STAMP)
	$(VENV)/bin/clearframe serve

PACKAGES := core contracts feed generator provenance reverse_search trust_safety console

## test: the type check over every package, then the whole suite (SQLite, PostgreSQL at
## 127.0.0.1:5432, a Tansu broker it starts); CI runs this, so a type error fails CI
test: $(STAMP)
	$(VENV)/bin/mypy $(PACKAGES)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --no-loadscope-reorder

## lint: ruff and mypy over every package
lint: $(STAMP)
	$(VENV)/bin/ruff check $(PACKAGES) tests bench
	$(VENV)/bin/mypy $(PACKAGES)

bench-events: $(STAMP)
	$(PY) bench/event_pipeline.py --events 20000
