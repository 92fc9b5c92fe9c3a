# One Makefile for the workspace. Every target bootstraps uv and the locked environment itself,
# so `make demo` and `make test` work on a fresh machine with only Python 3.11 installed.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --no-sync
MODEL ?=
# llama-cpp-python (atoll_local) compiles llama.cpp from source: a lean CPU build, without BLAS,
# the multimodal (llava/mtmd) library, OpenSSL, or llama.cpp's tests, tools, examples and server
# binaries (about 6.5 min on 2 idle cores). uv caches the wheel per download of the sdist; where
# the package index sends no cache validators, each new environment (a fresh .venv, each
# `make isolation`) downloads and builds it again.
export CMAKE_ARGS ?= -DGGML_BLAS=OFF -DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: help install install-demo chromium demo test lint typecheck layers isolation pytest bench docs fmt clean redis-server

help:
	@echo "make demo | test | lint | typecheck | layers | isolation | pytest | bench | docs | fmt"

# `make test` ends with pytest, so its summary is the last thing CI prints.
# uv itself: installed with pip when missing (the only tool this repository assumes is python3).
.uv-bootstrap:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@touch $@

# The bench group is small (aiohttp, httpx-sse, psutil) and installed with the rest, so a plain
# `make` never uninstalls what a benchmark run needs.
install: .uv-bootstrap
	$(UV) sync --all-packages --all-extras --locked --group bench --group docs

# The demo needs no local inference, no Ray and no redis-server: it never builds
# llama-cpp-python nor installs Ray (--inexact keeps them when a `make install` already put them
# in the venv).
install-demo: .uv-bootstrap
	$(UV) sync --all-packages --all-extras --locked --group bench --inexact --no-install-package llama-cpp-python --no-install-package ray

demo: install-demo
	$(RUN) python -m atoll demo $(if $(MODEL),--model $(MODEL),)

test: install lint typecheck layers isolation docs pytest

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) pyright

layers: install
	$(RUN) lint-imports

isolation: install
	$(RUN) python scripts/isolation.py

# The shared-limiter and Ray tests start their own redis-server (Debian's package): installed
# here when missing (apt-get update once, then the package; CI runs as root).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	@redis-server --version

# The site test (tests/docs/test_site.py) opens every page in Debian's headless Chromium.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

pytest: install redis-server chromium
	$(RUN) pytest

# litellm (the `peers` group) is measured but heavy, so only `make bench` installs it.
bench: install
	$(UV) sync --all-packages --all-extras --locked --group bench --group docs --group peers
	cd benchmarks && $(UV) run --no-sync python run.py

docs: install
	NO_MKDOCS_2_WARNING=1 $(UV) run --locked --all-packages --all-extras --group bench --group docs mkdocs build --strict

fmt: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

clean:
	rm -rf dist site .uv-bootstrap .isolation .artifacts
