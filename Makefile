# Every target bootstraps .venv itself; `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
EXAMPLE := src/cardioscreen/data/example/00001_hr.hea

.PHONY: run test bench lint docs system-deps clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# CPU build from this machine's disk; never let a resolver pick a CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p out
	$(VENV)/bin/cardioscreen analyze $(EXAMPLE) --report out/example_report.html
	$(VENV)/bin/cardioscreen analyze $(EXAMPLE) --report out/example_report.pdf --json

# Debian packages the browser and PostgreSQL tests need (root on this machine and in CI).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

# the strict docs build runs inside the suite (tests/test_docs.py), so a broken page fails `make test`
test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) -m bench

# The documentation site into site/, offline and strict (a warning, a broken link or a missing page fails).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
