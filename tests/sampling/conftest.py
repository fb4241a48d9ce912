from __future__ import annotations

from pathlib import Path

import pytest

from .tiny import build_random_gpt2


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
