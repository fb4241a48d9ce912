"""GPU tests: real CUDA, never faked. They run with ``make test-gpu`` (``pytest -m gpu``) on a machine
with an NVIDIA GPU; ``make test`` and CI deselect them (``-m "not gpu"``).

A ``gpu`` test that finds no CUDA device fails, with one line saying why: someone who asked for the GPU
tests must not read "skipped" as "passed". Only the vLLM tests may skip, when CUDA is there and vLLM
is not installed (an optional extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .models import build_random_llama


def cuda_problem() -> str | None:
    """Why CUDA cannot be used here, or None when it can."""
    try:
        import torch
    except ImportError:
        return "torch is not installed: pip install -e '.[hf]'"
    if torch.version.cuda is None:
        base = torch.__version__.split("+", 1)[0]
        return (
            f"torch {torch.__version__} is a CPU-only build; install a CUDA build, e.g. "
            f"pip install --force-reinstall torch=={base} (PyPI's Linux wheels are CUDA builds)"
        )
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA device"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") is None:
        return
    problem = cuda_problem()
    if problem:
        pytest.fail(f"gpu test without a GPU: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def llama_1b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised Llama-shaped model of ~1.0B parameters in bf16, with SmolLM2's tokenizer."""
    problem = cuda_problem()
    if problem:  # a session fixture runs before the per-test hook has a say in some orders
        pytest.fail(f"gpu test without a GPU: {problem}", pytrace=False)
    return build_random_llama(tmp_path_factory.mktemp("llama-1b"), device="cuda")


def gpu_name() -> str:
    import torch

    props: Any = torch.cuda.get_device_properties(0)
    return f"{props.name} ({props.total_memory / 2**30:.0f} GiB), torch {torch.__version__}"
