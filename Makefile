# nmstated — everything a developer runs.  `make demo` and `make test` set up
# what they need on a fresh Debian 12 machine (as root), idempotently.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := dbus network-manager libglib2.0-bin iproute2 util-linux libsystemd-dev pkg-config gcc \
	python3-dev python3-venv systemd polkitd dnsmasq-base

.PHONY: all deps demo test unit lint sandbox sandbox-stop bench clean

all: test

deps: $(STAMP)

$(STAMP): pyproject.toml
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# compat: a plain path entry; the default import hook costs every Python start ~10 ms.
	$(PY) -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	@touch $@

demo: deps
	$(PY) -m sandbox.demo

test: deps lint
	$(PY) -m pytest

unit: deps
	$(PY) -m pytest tests/unit

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy nmstated client sandbox bench

sandbox: deps
	$(PY) -m sandbox start

sandbox-stop:
	@if [ -x $(PY) ]; then $(PY) -m sandbox stop; fi

# Measurements, not tests: prints a table, writes bench-results/bench-<time>.json.
bench: deps
	$(PY) -m bench

clean: sandbox-stop
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache bench-results
