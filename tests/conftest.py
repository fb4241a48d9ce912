from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def datasets() -> Path:
    """../shared/datasets beside the repo (CI lays it there). Missing data is a failure, not a skip."""
    d = REPO.parent / "shared" / "datasets"
    assert d.is_dir(), f"test data missing: {d} (CI provides ../shared/datasets)"
    return d


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
