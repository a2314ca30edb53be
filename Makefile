# The two commands: `make dev` (the whole stack) and `make test` (the whole suite).
# Each creates .venv and installs the project into it when missing or out of date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: dev test lint install clean chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/oms dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Lint (after installing the venv) and the browser install run side by side.
test:
	@$(MAKE) --no-print-directory -j2 lint chromium
	$(BIN)/pytest

# The browser tests drive the system's Chromium (Debian's package). As root with apt
# (CI, a fresh machine) it is installed here; otherwise install it yourself or point
# OMS_TEST_CHROMIUM at a Chromium or Chrome binary.
chromium:
	@if [ -z "$$OMS_TEST_CHROMIUM" ] && ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Chromium (Debian's package) for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "the browser tests need Chromium: apt-get install chromium, or set OMS_TEST_CHROMIUM"; \
			exit 1; \
		fi; \
	fi

clean:
	rm -rf $(VENV) .oms .pytest-tmp .pytest_cache .mypy_cache .ruff_cache
