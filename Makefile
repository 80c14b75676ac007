# The two commands of the README: `make demo` and `make test`.
# Each sets up what it needs on a fresh machine (system packages, a virtual
# environment with pinned packages) and then runs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The demo's Prefect runs are kept in var/prefect, so that `make ui` shows them.
export PREFECT_HOME ?= $(CURDIR)/var/prefect
# Nothing here sends usage data anywhere, the Prefect server of `make ui` included.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test bench ui install clean

$(STAMP): pyproject.toml requirements.lock scripts/install-system-packages
	scripts/install-system-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements.lock -e '.[test]'
	mkdir -p var/prefect
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p var/prefect
	$(BIN)/proactief demo

test: $(STAMP)
	$(BIN)/python -m pytest

ui: $(STAMP)
	mkdir -p var/prefect
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

bench: $(STAMP)
	$(BIN)/python bench/garbage_bags.py
	$(BIN)/python bench/desk_check.py
	$(BIN)/python bench/city_scale.py

clean:
	rm -rf $(VENV) var out
