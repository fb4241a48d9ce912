from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from humaneval_lab.cli import main


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def one_error_line(code: int, err: str) -> str:
    assert code == 2, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def by_key(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["task_id"], r["sample_index"]): r for r in rows(path)}
