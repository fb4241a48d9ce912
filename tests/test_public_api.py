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


def test_every_package_of_the_tree_ships() -> None:
    """setup.cfg lists its packages by name: a new package missing there imports from a checkout but
    not from an installed wheel (this happened: scoring, execution.docker and distributed)."""
    import configparser

    root = Path(__file__).resolve().parents[1]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    mapped = {  # package_dir: package -> folder
        name.strip(): folder.strip()
        for name, _, folder in (
            line.partition("=") for line in cfg["options"]["package_dir"].strip().splitlines()
        )
    }
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "humaneval_lab").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    for package, folder in mapped.items():
        found |= {
            ".".join((package, *init.parent.relative_to(root / folder).parts))
            for init in (root / folder).rglob("__init__.py")
        }
    assert found - listed == set(), "packages missing from setup.cfg's [options] packages"
