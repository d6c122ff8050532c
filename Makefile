# Bridgeway: `make run` (dev server + worker on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= 1

.PHONY: install lock run test lint migrate seed bench clean

# requirements.lock pins every runtime and dev package to the version CI tested with.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" -c requirements.lock
	touch $@

install: $(VENV)/.installed

# After changing dependencies in pyproject.toml: resolve them afresh in a scratch venv and
# pin what was installed. Commit requirements.lock with the change.
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q -e ".[dev]"
	{ echo "# Exact versions of Bridgeway's runtime and dev dependencies, used as constraints"; \
	  echo "# by make install (pip install -e \".[dev]\" -c requirements.lock). Made by make lock."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf $(LOCK_VENV)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# PUBLIC_BASE_URL follows HOST/PORT (unless set) so links in texts and emails reach this server.
run: seed
	@echo ""
	@echo "  Bridgeway is starting at http://$(HOST):$(PORT)/  (Ctrl-C stops web and worker)"
	@echo "  Development SMS outbox: http://$(HOST):$(PORT)/dev/sms/   API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo ""
	HOST=$(HOST) PORT=$(PORT) PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} \
		$(VENV)/bin/honcho -f Procfile.dev start

# One run of the whole suite, in random order (pytest-randomly; the seed to replay an order
# is printed at the end: -p randomly --randomly-seed=N).
test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/ruff format --check .

bench: install
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(LOCK_VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm test-output
