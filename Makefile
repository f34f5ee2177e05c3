# iap: the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint clean bench bench-deps services

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# make demo [PORT=N]: the local port psql connects to (default: iap demo's, 15432)
demo: $(STAMP)
	$(BIN)/iap demo $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# PostgreSQL 15 and MariaDB 10.11 from Debian, installed when missing and started, set up as the
# tests expect (needs root; `make test` never does this by itself). .ci/run calls it.
services:
	./.ci/services

lint: $(STAMP)
	$(BIN)/ruff check iap protocols agent tests bench
	$(BIN)/ruff format --check iap protocols agent tests bench
	$(BIN)/mypy

# The benchmark's reference tools come from Debian: installed when missing and when this
# machine can (root with apt-get); otherwise the paths that need them are reported unavailable.
BENCH_PACKAGES := pgbench:postgresql-client psql:postgresql-client pgbouncer:pgbouncer sysbench:sysbench

bench-deps:
	@missing=""; \
	for pair in $(BENCH_PACKAGES); do \
	  tool=$${pair%%:*}; pkg=$${pair#*:}; \
	  if ! command -v $$tool >/dev/null 2>&1 && [ ! -x /usr/sbin/$$tool ]; then \
	    case " $$missing " in *" $$pkg "*) ;; *) missing="$$missing $$pkg";; esac; \
	  fi; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "bench: installing$$missing (apt-get)" >&2; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $$missing >/dev/null; } \
	    || echo "bench: could not install$$missing: the paths that need them are skipped" >&2; \
	else \
	  echo "bench:$$missing missing and not installable here (needs root and apt-get):" \
	    "the paths that need them are skipped" >&2; \
	fi

# make bench [QUICK=1] [BENCH_ARGS="select-simple --rounds 5"]
bench: $(STAMP) bench-deps
	$(BIN)/python -m bench $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache
