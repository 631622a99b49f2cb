# The platform's commands. `make demo` runs the main job end to end; `make test` runs every test.
# Both install what they need on a fresh machine (Python venv, then the services from Maven Central).

PYTHON ?= python3
VENV := .venv
CTL := $(VENV)/bin/platformctl
STAMP := $(VENV)/.installed

# TOPOLOGY=scaled (e.g. `make up TOPOLOGY=scaled`, or in .env) runs Pinot's roles, two Pinot servers,
# a Trino worker, two Connect workers and a Dask cluster as separate processes, with data of their
# own under .state/scaled (docs/scaling.md). Every target below acts on the chosen topology.
ifdef TOPOLOGY
export TOPOLOGY
endif

.PHONY: help install up bootstrap demo test lint test-default test-scaled test-unit test-quick down status logs reset clean

help:
	@echo "make demo    platform up, bootstrap, demo rows through to Trino (the main job)"
	@echo "make test    the whole test suite: unit + live end-to-end, then the scaled topology's"
	@echo "             (test-default, test-scaled; each starts its stack if needed)"
	@echo "make test-unit | test-quick (unit tests; quick: without the slow ones, under a minute)"
	@echo "make up | down | status | logs [SERVICE=name] | bootstrap | install | reset | clean"
	@echo "             reset: fresh data, downloads kept; backup/restore: docs/operations.md"

# The Python environments, rebuilt when pyproject.toml or the catalog's requirements change.
$(STAMP): pyproject.toml datahub/requirements.txt
	@echo "== Python environment ($(VENV))"
	@# The standard library's venv, then uv inside it: nothing is installed into the system Python,
	@# which Debian's marks externally managed (PEP 668).
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/python -m uv pip install --quiet --python $(VENV)/bin/python -e '.[test]'
	@# The reference TSum (tests compare against it) pins attrs<24, which Airflow 3 cannot take;
	@# it runs fine on the newer versions installed above.
	$(VENV)/bin/python -m uv pip install --quiet --python $(VENV)/bin/python --no-deps 'tsum==0.1.0'
	@# The catalog's own environment (.venv-datahub): DataHub's ingestion sources, apart from Airflow.
	$(VENV)/bin/python -m realtime_platform.catalog.environment
	@touch $@

install: $(STAMP)
	$(CTL) install

up: $(STAMP)
	$(CTL) up
	$(CTL) bootstrap

bootstrap: $(STAMP)
	$(CTL) bootstrap

demo: up
	$(CTL) demo

# Debian's chromium for the browser test of the Superset dashboards.
BROWSER := /usr/bin/chromium

$(BROWSER):
	@echo "== Debian packages: chromium (browser tests)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation

test: lint test-default test-scaled

# ruff and mypy on the platform's code and DAGs ([tool.ruff] and [tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check realtime_platform dags
	$(VENV)/bin/mypy

# Unit tests and the live suite on the single-process topology.
test-default: $(STAMP) $(BROWSER)
	$(CTL) install
	TOPOLOGY=single $(VENV)/bin/pytest

# The live tests of the scaled topology (tests marked `scaled`), on a stack of their own: the
# single-process stack is stopped first (both use the same ports).
test-scaled: $(STAMP)
	TOPOLOGY=single $(CTL) down
	TOPOLOGY=scaled $(CTL) install
	TOPOLOGY=scaled $(VENV)/bin/pytest -m scaled

# Unit tests need no running service, but some use the services' jars (Pinot's, for bootstrap's
# transform check): the install step fetches them.
test-unit: $(STAMP)
	$(CTL) install
	$(VENV)/bin/pytest -m "not live"

# The unit tests without the slow ones (reference TSum comparisons, process supervision, Pinot's
# transform check): the loop to run while editing, under a minute.
test-quick: $(STAMP)
	$(VENV)/bin/pytest -m "not live and not slow" -q

down: $(STAMP)
	$(CTL) down

status: $(STAMP)
	$(CTL) status

logs: $(STAMP)
	$(CTL) logs $(SERVICE)

# Stops the stack and wipes every service's data and logs; keeps downloads, .env and secrets, so
# the next `make up` starts a fresh platform without downloading again (docs/operations.md).
reset: $(STAMP)
	$(CTL) reset

# Removes the local state (data, logs, downloads unpacked from ~/.m2); keeps .env and the venv.
clean: down
	rm -rf .state
