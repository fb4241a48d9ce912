# humaneval-lab: every target sets up what it needs on a fresh Debian machine (root, apt reachable).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch comes first and pinned: 2.13.0 is the CPU wheel on this machine's disk; letting pip resolve
# another torch would download a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: install install-test docker sandbox-image demo test test-fast test-gpu lint typecheck bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev,hf]' $(TORCH)
	touch $@

install: $(VENV)/.installed

docker:
	bash sandbox/ensure-docker.sh

sandbox-image: install docker
	$(VENV)/bin/humaneval-lab sandbox build

demo: install sandbox-image
	$(VENV)/bin/humaneval-lab score runs/demo/canonical.jsonl -o runs/demo
	@echo "demo results in runs/demo"

test: install sandbox-image
	$(PY) -m pytest -m "not gpu" -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -m "not gpu and not docker and not slow" -p no:cacheprovider

test-gpu: install
	$(PY) -m pytest -m gpu -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check humaneval_lab tests sandbox benchmarks
	$(VENV)/bin/ruff format --check humaneval_lab tests sandbox benchmarks

typecheck: install
	$(VENV)/bin/mypy humaneval_lab

bench: install sandbox-image
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info runs
