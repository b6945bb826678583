# bitbridge: `make demo` and `make test` set everything up on Debian 12 (as root) and are
# cheap to run again: each step checks whether it has anything to do.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What the set-up installs system-wide (the README names each): the 32-bit C, C++ and
# FORTRAN compilers, binutils (PyInstaller's objdump, for the frozen server), Mono's C#
# compiler, venv for the system's python3, Chromium with its WebDriver (the test of the
# documentation site in a real browser; npm too where the machine has none), and for
# Windows DLLs Wine (wine, wine32:i386) with mingw's 32-bit Windows C, C++ and FORTRAN
# compilers. No i386 runtime package for Linux: the provisioned interpreter and the frozen
# server carry their own.
APT_PACKAGES := gcc-multilib g++-multilib gfortran-multilib python3-venv binutils mono-mcs \
	chromium chromium-driver \
	wine wine32:i386 gcc-mingw-w64-i686 g++-mingw-w64-i686 gfortran-mingw-w64-i686
# What the documentation site carries so that it works offline (docs/hooks/offline_assets.py):
# mermaid and iframe-worker from npm (pinned by docs/package-lock.json), and Python's
# inventory (links to docs.python.org) from Debian's python3.X-doc.
DOCS_DEPS := build/docs-deps
EXAMPLE_LIBS := examples/cpp/cpp_lib32.so examples/cpp/cpp_lib64.so \
	examples/fortran/fortran_lib32.so examples/dotnet/dotnet_lib32.dll \
	examples/cpp/cpp_lib32.dll examples/fortran/fortran_lib32.dll
# The WINEPREFIX of the tests: made once (seconds, about 600 MB), then reused.
export BITBRIDGE_WINE_PREFIX ?= $(CURDIR)/build/wine-prefix

.PHONY: demo test lint setup system-packages python32 wine example-libs examples clean bench \
	fresh-check test-matrix

demo: setup
	$(BIN)/python examples/cpp/cpp.py

test: setup lint docs
	$(BIN)/python -m pytest

# docs: the documentation site (docs/mkdocs.yml), built strictly into build/site (not
# --quiet: it hides the warnings that --strict counts).
docs: $(VENV)/.installed $(DOCS_DEPS)/node_modules/.installed $(DOCS_DEPS)/python-objects.inv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -f docs/mkdocs.yml
.PHONY: docs

$(DOCS_DEPS)/node_modules/.installed: docs/package.json docs/package-lock.json | system-packages
	@echo "==> installing the site's JavaScript (mermaid, iframe-worker) into $(DOCS_DEPS)"
	@mkdir -p $(DOCS_DEPS)
	cp docs/package.json docs/package-lock.json $(DOCS_DEPS)/
	npm ci --prefix $(DOCS_DEPS) --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# Python's objects.inv, out of the python3.X-doc package that python3-doc names (downloaded,
# not installed).
$(DOCS_DEPS)/python-objects.inv: | system-packages
	@mkdir -p $(DOCS_DEPS)
	@package=$$(apt-cache depends python3-doc | awk '/Depends: python3\.[0-9]+-doc/ {print $$2; exit}'); \
	echo "==> unpacking Python's inventory from $$package into $@"; \
	work=$$(mktemp -d) && trap 'rm -rf "$$work"' EXIT && \
	{ [ "$$(id -u)" != 0 ] || chown _apt "$$work" 2>/dev/null || true; } && \
	(cd "$$work" && apt-get download -qq "$$package") && \
	dpkg-deb --fsys-tarfile "$$work"/*.deb | tar -xO --wildcards './usr/share/doc/python3*/html/objects.inv' > $@.part && \
	mv $@.part $@

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests examples benchmarks docs/hooks noxfile.py
	$(BIN)/ruff format --check src tests examples benchmarks docs/hooks noxfile.py
	$(BIN)/mypy

setup: system-packages $(VENV)/.installed python32 mono32 wine example-libs

# The i386 architecture (for the provisioned interpreter) and the 32-bit compilers.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	i386_lists=$$(ls /var/lib/apt/lists/ 2>/dev/null | grep -c 'i386_Packages' || true); \
	if [ -z "$$missing" ] && dpkg --print-foreign-architectures | grep -qx i386 && [ "$$i386_lists" -gt 0 ]; then exit 0; fi; \
	echo "==> installing system packages:$${missing:- (none)}, enabling i386"; \
	$(SUDO) dpkg --add-architecture i386; \
	$(SUDO) apt-get update -qq || echo "==> apt-get update reported errors (a mirror syncing?); going on with the lists it got"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null

$(VENV)/.installed: pyproject.toml
	@echo "==> creating $(VENV) and installing bitbridge with its test tools"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,lint,docs]'
	@touch $@

python32: $(VENV)/.installed
	@$(BIN)/bitbridge python32 install

# The 32-bit Windows Python that hosts Windows DLLs under Wine (from msl-loadlib's wheel).
wine: $(VENV)/.installed
	@$(BIN)/bitbridge wine install

# The private 32-bit Mono that hosts .NET assemblies (libtype "net"); needs mono-mcs.
mono32: $(VENV)/.installed
	@$(BIN)/bitbridge mono32 install
.PHONY: mono32

example-libs: $(EXAMPLE_LIBS)

# Run every example against its real 32-bit library (kernel32's under Wine).
examples: setup
	@for example in echo cpp fortran libc dotnet kernel32; do \
		echo "==> examples/$$example/$$example.py"; \
		$(BIN)/python examples/$$example/$$example.py || exit 1; \
	done

examples/cpp/cpp_lib32.so: examples/cpp/cpp_lib.cpp
	g++ -m32 -shared -fPIC -O2 -static-libstdc++ -static-libgcc -o $@ $<

# A 64-bit build of the same library: for the wrong-architecture tests and in_process=True.
examples/cpp/cpp_lib64.so: examples/cpp/cpp_lib.cpp
	g++ -shared -fPIC -O2 -o $@ $<

# fortran: the FORTRAN example library, 32-bit, runtime linked in statically.
examples/fortran/fortran_lib32.so: examples/fortran/fortran_lib.f90
	gfortran -m32 -shared -fPIC -O2 -static-libgfortran -static-libgcc -o $@ $<

# The same libraries as Windows DLLs, by mingw (the tests run them under Wine); only the
# library's own functions exported, none of the static runtime's.
examples/cpp/cpp_lib32.dll: examples/cpp/cpp_lib.cpp
	i686-w64-mingw32-g++ -shared -O2 -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL -o $@ $<

examples/fortran/fortran_lib32.dll: examples/fortran/fortran_lib.f90
	i686-w64-mingw32-gfortran -shared -O2 -static-libgfortran -static-libgcc \
		-Wl,--exclude-libs,ALL -o $@ $<

# dotnet: the .NET example assembly, for x86, by Mono's C# compiler (mono-mcs).
examples/dotnet/dotnet_lib32.dll: examples/dotnet/dotnet_lib.cs
	mcs -target:library -platform:x86 -out:$@ $<

# bench: side-by-side benchmark (never part of `make test`); see benchmarks/.
# (the bench target is defined below this line)
BENCH_APT_PACKAGES := libc6:i386 zlib1g:i386 libstdc++6:i386

# msl-loadlib's frozen 32-bit server needs the i386 C and C++ runtimes and zlib.
bench: setup
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing$$missing (for msl-loadlib's frozen 32-bit server)"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
		|| { $(SUDO) apt-get update -qq; $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
		|| echo "==> could not install$$missing: msl-loadlib will show as failed"; \
	fi
	@$(BIN)/python -c "import importlib.metadata as m, numpy, matplotlib; assert m.version('msl-loadlib') == '1.1.0'" 2>/dev/null \
		|| $(BIN)/pip install -q --disable-pip-version-check -e '.[bench]' \
		|| echo "==> could not install the bench extra: msl-loadlib will show as failed"
	$(BIN)/python benchmarks/bench.py

# test-matrix: the core tests with every client Python 3.10-3.13 found on this machine
# (PATH, pyenv), each in a venv of its own, against the provisioned 32-bit server; not part
# of `make test`. nox comes from the matrix extra; the venvs install from PyPI.
test-matrix: setup
	@$(BIN)/python -c "import nox" 2>/dev/null || $(BIN)/pip install -q --disable-pip-version-check -e '.[matrix]'
	$(BIN)/nox -f noxfile.py

clean:
	rm -rf $(VENV) $(EXAMPLE_LIBS) build dist .nox .pytest_cache .mypy_cache .ruff_cache

# freeze: a standalone 32-bit server, dist/server32/bitbridge-server32, frozen with
# PyInstaller by the provisioned interpreter: `bitbridge server32 build`, which pip users
# have too (docs/pages/frozen-server.md); quick when nothing changed. Extra packages:
# make freeze FREEZE_IMPORTS="msgpack" FREEZE_PACKAGES="msgpack"; FREEZE_ONEFILE=1 for one
# file; FREEZE_INSTALL=1 copies it where bridges look for one.
FREEZE_IMPORTS ?=
FREEZE_PACKAGES ?=
freeze: setup
	$(BIN)/bitbridge server32 build $(if $(FREEZE_IMPORTS),--imports $(FREEZE_IMPORTS)) \
		$(if $(FREEZE_PACKAGES),--packages $(FREEZE_PACKAGES)) \
		$(if $(FREEZE_ONEFILE),--onefile) $(if $(FREEZE_INSTALL),--install)
.PHONY: freeze

# fresh-check: `make demo` and `make test` on a throwaway Debian 12 root made with
# debootstrap, from a clean clone of HEAD (as root; not part of `make test`).
fresh-check:
	.ci/fresh-check
