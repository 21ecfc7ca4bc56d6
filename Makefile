# The README's two commands. Each bootstraps .venv on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint format clean translations catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed catalogs
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(BIN)/python -m learnhub.devrun

test: $(VENV)/.installed catalogs
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Email translations: extract the marked strings into the template, merge them into every
# catalog (new strings come in untranslated; the catalog test then names them). The app reads
# the compiled catalogs (.mo, not committed): `make catalogs` compiles each .po newer than its
# .mo, leaving untranslated and fuzzy entries out (they read English).
TRANSLATIONS := platform/learnhub/translations
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k N_ --no-location --sort-output \
		--project LearnHub -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--width 100 --ignore-obsolete

catalogs: $(CATALOGS)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

clean:
	rm -rf $(VENV) instance .pytest_cache
