# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
DEVENV := $(BIN)/python scripts/devenv.py

.PHONY: run test install install-dev lint typecheck check manage bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.run-*; touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.dev-* $(VENV)/.run-*; touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

## make run: set up the database, load the demo seller and start web, worker and beat.
run: install
	$(DEVENV) run

## make test: the whole suite (against DATABASE_URL/REDIS_URL when set, else embedded servers).
test: install-dev
	$(DEVENV) exec -- $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

typecheck: install-dev
	$(DEVENV) exec -- $(BIN)/mypy .

check: lint typecheck test

## make manage ARGS="shell": any manage.py command with the servers up.
manage: install
	$(DEVENV) exec -- $(BIN)/python manage.py $(ARGS)

## make bench: the provisioning, migration, sales engine and conversation benchmarks (several minutes).
bench: install-dev
	$(DEVENV) exec -- $(BIN)/python bench/provision.py
	$(DEVENV) exec -- $(BIN)/python bench/migrate_schemas.py
	$(DEVENV) exec -- $(BIN)/python bench/sales_engine.py
	$(DEVENV) exec -- $(BIN)/python bench/conversations_eval.py
	$(DEVENV) exec -- $(BIN)/python bench/learning.py
	$(DEVENV) exec -- $(BIN)/python bench/whatsapp_gateway.py

## make messages: refresh and compile the Arabic and French translations.
messages: install-dev
	$(DEVENV) exec -- $(BIN)/python manage.py makemessages -l ar -l fr --ignore=.venv --ignore=.data --ignore=bench
	$(DEVENV) exec -- $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache staticfiles
