# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
FLASK   := FLASK_APP=run.py $(VENV)/bin/flask
MO      := app/translations/zh_Hans_CN/LC_MESSAGES/messages.mo
# Debian packages the app needs at run time (WeasyPrint's Pango, CJK fonts, graphviz).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-noto-cjk graphviz
# and what the tests need: Debian's Chromium for the Playwright browser tests (no browser download)
TEST_APT_PACKAGES := chromium poppler-utils

.PHONY: run test install system-deps worker clean soak

install: $(VENV)/.installed $(MO)

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $@

$(MO): app/translations/zh_Hans_CN/LC_MESSAGES/messages.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d app/translations >/dev/null

system-deps:
	@missing=$$(for p in $(APT_PACKAGES) $(EXTRA_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: system-deps install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host 127.0.0.1 --port 5000

test: EXTRA_APT_PACKAGES = $(TEST_APT_PACKAGES)
test: system-deps install
	mkdir -p test-results
	$(PY) -m pytest --db=sqlite --junitxml=test-results/sqlite.xml
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  $(PY) -m pytest --db=postgres --junitxml=test-results/postgres.xml; \
	fi

# The property machines (cases, execution, ledger) with thousands of sequences each and a fixed seed
# (about an hour on 2 cores); SOAK_EXAMPLES=200 for a shorter run, SOAK_DB=postgres for TEST_DATABASE_URL.
SOAK_SEED ?= 20261201
SOAK_DB ?= sqlite
SOAK_EXAMPLES ?= 2000
soak: EXTRA_APT_PACKAGES = $(TEST_APT_PACKAGES)
soak: system-deps install
	HYPOTHESIS_PROFILE=soak SOAK_EXAMPLES=$(SOAK_EXAMPLES) $(PY) -m pytest tests/property --db=$(SOAK_DB) \
	  --hypothesis-seed=$(SOAK_SEED) --hypothesis-show-statistics -p no:randomly -s -v

# A Celery worker for execution tasks and deadlines (set CELERY_BROKER_URL for the app too).
worker: install
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} $(VENV)/bin/celery -A app.worker worker --loglevel=info

clean:
	rm -rf $(VENV) instance test-results

# Benchmarks (bench/README.md): they wipe and rebuild the schema of BENCH_DATABASE_URL.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench
.PHONY: bench
bench: install
	$(PY) -m bench.actions --database-url $(BENCH_DATABASE_URL)
	$(PY) -m bench.sweep --database-url $(BENCH_DATABASE_URL)
	$(PY) -m bench.statements --database-url $(BENCH_DATABASE_URL)
