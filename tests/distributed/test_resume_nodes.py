"""A ``--ray`` run's manifest records which nodes judged, but a resume matches only their common
sandbox: a run killed on one set of nodes resumes on another, never on another sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.errors import ResumeMismatchError
from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.problems import load_problems
from humaneval_lab.records import read_samples
from humaneval_lab.scoring import MANIFEST, RESULTS, ScoreSettings, score
from tests.conftest import write_jsonl


class _RayLike(FakeExecutor):
    def __init__(self, nodes: list[str], image: str = "img@1") -> None:
        super().__init__()
        self.nodes, self.image = nodes, image

    def describe(self) -> dict[str, Any]:
        return {"executor": "ray", "node_sandbox": {"image": self.image},
                "nodes": [{"node": n} for n in self.nodes], "excluded": []}  # fmt: skip


def test_resume_on_other_nodes_but_not_another_sandbox(tmp_path: Path) -> None:
    whole = load_problems(suite="humaneval")
    ps = whole.select(limit=4)
    write_jsonl(tmp_path / "s.jsonl", [{"task_id": p.task_id, "completion": f"    # hel-verdict:passed {i}\n"}
                                       for p in ps for i in range(2)])  # fmt: skip
    samples = read_samples(tmp_path / "s.jsonl", whole)
    out, settings = tmp_path / "out", ScoreSettings(ks=(1,))
    score(samples, ps, _RayLike(["a", "b"]), out, settings)
    lines = (out / RESULTS).read_text().splitlines(keepends=True)
    (out / RESULTS).write_text("".join(lines[:3]))  # killed after 3 results

    again = _RayLike(["c"])
    summary = score(samples, ps, again, out, settings)
    assert summary.executions["kept_from_earlier_run"] == 3 and len(again.executed) == 5
    assert '"node": "c"' in (out / MANIFEST).read_text()  # the manifest says who judged last

    with pytest.raises(ResumeMismatchError, match="node_sandbox.image was"):
        score(samples, ps, _RayLike(["c"], image="img@2"), out, settings)
