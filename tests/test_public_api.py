"""The public API: what ``import humaneval_lab`` offers, and that it stays light."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import humaneval_lab


def test_all_is_sorted_and_every_name_exists() -> None:
    assert humaneval_lab.__all__ == sorted(humaneval_lab.__all__)
    missing = [name for name in humaneval_lab.__all__ if not hasattr(humaneval_lab, name)]
    assert missing == []
    for name in ("sample", "score", "compare", "gate", "load_run", "Executor", "Backend"):
        assert name in humaneval_lab.__all__


def test_version_comes_from_the_package_metadata() -> None:
    assert humaneval_lab.__version__ == version("humaneval-lab")


def test_the_package_ships_its_types() -> None:
    assert (Path(humaneval_lab.__file__).parent / "py.typed").is_file()


def test_importing_the_api_imports_no_generation_or_sandbox_dependency() -> None:
    code = (
        "import sys, humaneval_lab\n"
        "heavy = sorted(m for m in ('torch', 'vllm', 'transformers', 'docker', 'ray') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
