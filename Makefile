# Every target sets itself up on a fresh machine: it creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow test-fast bench lint install clean browser data node messages screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/policy-timeline serve --seed

# Both treaties' membership (data/membership.jsonl) from the UNTC tables in data/reference/, and
# its French and Ukrainian headlines (data/membership.translations.jsonl).
data: $(STAMP)
	$(BIN)/python data/membership/build.py

# The embed tests drive Debian's Chromium through Playwright, which cannot download browsers.
browser:
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

# Third-party clients the tests run against a real server (graphql-http's GraphQL over HTTP
# audit, TimelineJS), from the npm registry into var/node; nothing of them is committed.
node: $(STAMP)
	command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	$(BIN)/python -m tests.node_support

# The browser and node tests fail here when Chromium or node is missing (they skip elsewhere).
REQUIRE := POLICY_TIMELINE_TEST_REQUIRE="browser node"

# Everything but the suites marked slow (test-slow runs those; CI runs both).
test: $(STAMP) browser node
	$(BIN)/lint-imports
	$(REQUIRE) $(BIN)/python -m pytest -q -m "not slow"

# The long suites: several processes, the large generated inputs, scale.
test-slow: $(STAMP) browser node
	$(REQUIRE) $(BIN)/python -m pytest -q -m slow

# A quicker loop while developing: no slow or reliability suite, and no Chromium or node
# needed (their tests skip, saying what is missing).
test-fast: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not slow and not reliability"

bench: $(STAMP) browser
	$(BIN)/policy-timeline bench

# Every check that reads the code without running it; the configuration is in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache

# Interface messages: extract them from api/ into the template, then merge it into each
# language's catalog (a new message stays untranslated, and a test fails, until translated).
MESSAGES := api/locale/messages.pot
messages: $(STAMP)
	$(BIN)/pybabel extract -F api/locale/babel.cfg -k tr:2 -k trp:2c,3 --no-location \
		--sort-output --omit-header -o $(MESSAGES) api
	$(BIN)/pybabel update -i $(MESSAGES) -d api/locale -D messages \
		--no-fuzzy-matching --ignore-obsolete -w 100
	sed -i '/EMAIL@ADDRESS/d' api/locale/*/LC_MESSAGES/messages.po  # no placeholder address

# The pictures in docs/embeds.md: the seed story's embed in Chromium, whole pages.
screenshots: $(STAMP) browser
	$(BIN)/python -m tests.screenshots docs/img
