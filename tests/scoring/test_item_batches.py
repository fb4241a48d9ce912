"""``score()`` through an ItemExecutor (the ``--ray`` path) writes exactly what a plain run writes.

The node's side is the real actor class (``distributed.node.NodeSandbox``, in-process, no Ray): the
run's catalog crosses as ``pack``ed bytes, items are leased in chunks, verdicts come back from
``poll`` and reach ``score()`` in batches, out of order. Expectations are the plain run's files.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.distributed.node import NodeSandbox, expand_with_line, pack, unpack
from humaneval_lab.distributed.sandboxes import NodeInfo
from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Executor, Outcome
from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.problems import load_problems
from humaneval_lab.records import read_samples
from humaneval_lab.scoring import ScoreSettings, score
from humaneval_lab.scoring.jobs import Item, JobCatalog

from ..conftest import write_jsonl
from .test_driver_output import judge, mixed_rows

INFO = NodeInfo("node-1", "n1", 2, {})


class InProcessNode:
    """An ItemExecutor whose one node is ``NodeSandbox`` in this process: chunks of items go in,
    each poll's verdicts come out as one batch, shuffled (a node answers in any order)."""

    name = "in-process-node"

    def __init__(self, seed: int, forge: bool = False) -> None:
        self.node = NodeSandbox(lambda _info: FakeExecutor(judge), INFO)
        self.node.executor = FakeExecutor(judge)  # what ``admit`` makes (its canaries are not the point here)
        self.rng = random.Random(seed)
        self.forge = forge
        self.batches: list[int] = []

    def run_items(
        self, catalog: JobCatalog, items: Iterable[Item]
    ) -> Iterator[list[tuple[str, Outcome, str]]]:
        self.node.load(pack(catalog))
        source = iter(items)
        while chunk := [item for _, item in zip(range(self.rng.randint(1, 40)), source, strict=False)]:
            self.node.submit_items(pack(chunk))
            left = {item[0] for item in chunk}
            while left:
                batch = [expand_with_line(c) for c in unpack(self.node.poll(5.0))]
                self.rng.shuffle(batch)
                left -= {job_id for job_id, _, _ in batch}
                self.batches.append(len(batch))
                if self.forge:
                    batch.append(("not-a-job", batch[0][1], batch[0][2]))
                yield batch

    def run(self, jobs: Any) -> Any:
        raise AssertionError("an ItemExecutor gets items")

    def describe(self) -> dict[str, Any]:
        return {"executor": "fake"}

    def close(self) -> None:
        self.node.close()


def _summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    data.pop("duration_s", None)
    data.pop("name")  # the output folder's
    return data


def test_items_judged_on_a_node_in_batches_write_the_plain_runs_bytes(tmp_path: Path) -> None:
    rows = mixed_rows(6, 40)  # every verdict kind, timeouts (worded on the node), duplicates, odd fields
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    ps = load_problems().select(limit=6)
    settings = ScoreSettings(ks=(1,), timeout_s=3.0, hash_seeds="per-sample")
    plain: Executor = FakeExecutor(judge)
    score(read_samples(path, ps), ps, plain, tmp_path / "plain", settings, samples_path=path)
    node = InProcessNode(seed=14)
    score(read_samples(path, ps), ps, node, tmp_path / "node", settings, samples_path=path)  # type: ignore[arg-type]
    assert max(node.batches) > 1  # verdicts did arrive in batches
    want = (tmp_path / "plain" / "results.jsonl").read_bytes()
    assert (tmp_path / "node" / "results.jsonl").read_bytes() == want
    assert _summary(tmp_path / "node" / "summary.json") == _summary(tmp_path / "plain" / "summary.json")


def test_a_verdict_for_a_job_never_leased_stops_the_run(tmp_path: Path) -> None:
    rows = mixed_rows(2, 5)
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    ps = load_problems().select(limit=2)
    node = InProcessNode(seed=1, forge=True)
    with pytest.raises(InfrastructureError, match="unknown job"):
        score(read_samples(path, ps), ps, node, tmp_path / "out", ScoreSettings(ks=(1,)), samples_path=path)  # type: ignore[arg-type]
