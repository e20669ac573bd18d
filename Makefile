# Django Pymetrics: `make run` serves the app, `make test` runs every check.
# Only python3.11+, git, node/npm and the package registries are needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=var --ignore=test-artifacts --ignore=tests
NODE_STAMP := node_modules/.installed

# Test-only secrets, used when the environment does not provide its own.
TEST_ENV := DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-secret-key-for-the-test-suite-only-0123456789abcdef} \
	PYMETRICS_ENCRYPTION_KEYS=$${PYMETRICS_ENCRYPTION_KEYS:-dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=} \
	DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost,testserver}

.PHONY: install run test test-unit test-integration lint fmt bench worker clean messages security

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(PY_STAMP) $(NODE_STAMP)

run: install
	bin/run

test: install lint security
	npm test --silent
	$(TEST_ENV) bin/test
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		echo "integration tier ran against $$DATABASE_URL and $$REDIS_URL (see tests/integration)"; \
	else \
		echo "integration tier skipped: set DATABASE_URL and REDIS_URL to run it (.ci/run does)"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/mypy .
	$(BIN)/lint-imports

# Static and dependency audits (bin/security): bandit over the product code
# (.bandit.yaml; a finding is fixed or carries "# nosec BXXX" with its reason on the
# line) and pip-audit over the installed packages; a finding fails the target.
security: install
	bin/security

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules var/static

# Collect every marked string of the pages, forms, games and scripts into locale/
# (needs GNU gettext); a test fails while the committed catalogues are behind.
messages: install
	$(TEST_ENV) $(BIN)/python manage.py makemessages -l en $(MESSAGES_IGNORE)
	$(TEST_ENV) $(BIN)/python manage.py makemessages -d djangojs -l en $(MESSAGES_IGNORE) --ignore=js-tests --ignore=docs
