# The two commands a newcomer needs: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint format bench bench-tools render-tools alert-tools clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/hotline up

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# LibreOffice and poppler, for the test that renders the Word bulletin to pages (skipped without
# them). Installed with apt when run as root on Debian or Ubuntu; CI does; elsewhere, a hint.
RENDER_PACKAGES := libreoffice-writer-nogui poppler-utils fonts-noto-cjk
render-tools:
	@if command -v soffice >/dev/null && command -v pdftoppm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends $(RENDER_PACKAGES) >/dev/null) || \
		echo "could not install $(RENDER_PACKAGES): the rendering test will be skipped"; \
	else echo "install $(RENDER_PACKAGES) to run the rendering test"; fi

# promtool, for the test that runs the alert rules' unit tests (deploy/prometheus/alerts.test.yml;
# skipped without it): Debian's prometheus package ships it. Installed like render-tools.
alert-tools:
	@if command -v promtool >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends prometheus >/dev/null) || \
		echo "could not install prometheus (promtool): the alert rules' tests will be skipped"; \
	else echo "install promtool (Debian/Ubuntu: the prometheus package) to run the alert rules' tests"; fi

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install bench-tools
	$(BIN)/python -m bench.intake_webhooks
	$(BIN)/python -m bench.dispatch_flow
	$(BIN)/python -m bench.broker_restart
	$(BIN)/python -m bench.repeat_matching
	$(BIN)/python -m bench.scoring
	$(BIN)/python -m bench.provincial_sync
	$(BIN)/python -m bench.knowledge_search
	$(BIN)/python -m bench.end_to_end

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The benchmarks' load generator: Debian's wrk (a compiled client, so it is not what is measured).
bench-tools:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends wrk >/dev/null); \
	else echo "make bench needs wrk: install it (Debian/Ubuntu: sudo apt-get install wrk)"; exit 1; fi
