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

# -- make install / make uninstall (docs/service.md) -------------------------------------------
# PREFIX is /usr/local: what an administrator builds stays out of /usr, which dpkg owns; a
# package build sets PREFIX=/usr DESTDIR=<staging>.  The unit, activation file, man page and
# completion go under PREFIX, where systemd, dbus-daemon, man and bash-completion also look;
# the bus policy and polkit action go to /usr/share, the only place dbus-daemon and polkitd
# read them from.  Each directory can be set on the command line.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
PKGLIBDIR ?= $(PREFIX)/lib/nmstated
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# The service's interpreter: Debian's, not one under /home or /root (ProtectHome=yes).
SERVICE_PYTHON ?= /usr/bin/python3
pkgvar = $(patsubst %/,%,$(shell pkg-config $(3) --variable=$(1) $(2) 2>/dev/null))
UNITDIR ?= $(or $(if $(filter /usr,$(PREFIX)),$(call pkgvar,systemdsystemunitdir,systemd)),$(PREFIX)/lib/systemd/system)
DBUS_SERVICEDIR ?= $(or $(call pkgvar,system_bus_services_dir,dbus-1,--define-variable=prefix=$(PREFIX)),$(DATADIR)/dbus-1/system-services)
DBUS_INTERFACEDIR ?= $(or $(call pkgvar,interfaces_dir,dbus-1,--define-variable=prefix=$(PREFIX)),$(DATADIR)/dbus-1/interfaces)
DBUS_POLICYDIR ?= $(or $(call pkgvar,datadir,dbus-1),/usr/share)/dbus-1/system.d
POLKIT_ACTIONDIR ?= $(or $(call pkgvar,policydir,polkit-gobject-1),/usr/share/polkit-1/actions)
BASH_COMPLETIONDIR ?= $(or $(call pkgvar,completionsdir,bash-completion,--define-variable=prefix=$(PREFIX)),$(DATADIR)/bash-completion/completions)
INSTALL_DIRS = PREFIX DESTDIR BINDIR SBINDIR PKGLIBDIR MANDIR SERVICE_PYTHON UNITDIR DBUS_SERVICEDIR \
	DBUS_INTERFACEDIR DBUS_POLICYDIR POLKIT_ACTIONDIR BASH_COMPLETIONDIR

.PHONY: install uninstall
install uninstall:
	@env $(foreach v,$(INSTALL_DIRS),$(v)='$($(v))') sh packaging/install.sh $@
