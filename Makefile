# hazardloop: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test docs bench schemas check-schemas setup clean browser promtool

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# The QR form is tested in a real headless Chromium: Debian's package, driven by Playwright.
CHROMIUM := $(shell command -v chromium 2>/dev/null)
browser:
ifeq ($(CHROMIUM),)
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium || \
	  sudo sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium'
endif

# promtool checks the shipped alert rules: the one binary from Debian's prometheus package,
# unpacked into the venv (no Prometheus server is installed or started). Without apt the
# test that runs it is skipped.
PROMTOOL := $(BIN)/promtool
$(PROMTOOL): | $(STAMP)
	@work=$$(mktemp -d) && (cd $$work && apt-get download -qq prometheus 2>/dev/null \
	  && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool \
	  && mv usr/bin/promtool $(CURDIR)/$(PROMTOOL)) \
	  || echo "promtool not available: the alert rules get the structural check only"; rm -rf $$work
promtool: $(PROMTOOL)

# The test session's OpenID provider (the certified oidc-provider on Node), as locked.
OIDC := tests/oidc
OIDC_STAMP := $(OIDC)/node_modules/.installed
$(OIDC_STAMP): $(OIDC)/package.json $(OIDC)/package-lock.json
	npm ci --prefix $(OIDC) --no-audit --no-fund --silent
	touch $(OIDC_STAMP)

setup: $(STAMP)

DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,docs]"
	touch $(DOCS_STAMP)

## Run the whole system: broker, four services, a demo. Ctrl-C stops everything.
run: $(STAMP)
	$(BIN)/hazardloop run

## Set up and pass every test (unit, integration on real NATS/SQLite/PostgreSQL, end to end).
test: $(STAMP) browser $(OIDC_STAMP) $(PROMTOOL)
	$(BIN)/hazardloop schemas --check
	$(BIN)/pytest -q

## Build the documentation site into site/ (offline; the event catalogue is rendered from the code).
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

## Benchmarks against a raw nats-py baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python -m bench.run

## Regenerate the published event contracts (JSON Schema, AsyncAPI).
schemas: $(STAMP)
	$(BIN)/hazardloop schemas

clean:
	rm -rf .hazardloop .pytest_cache site
