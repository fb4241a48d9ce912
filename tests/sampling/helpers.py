from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def by_key(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["task_id"], r["sample_index"]): r for r in rows(path)}
