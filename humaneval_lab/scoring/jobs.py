"""Turning a sample into a job, in one place, wherever the job is built.

``score()`` describes each sample still to judge as a small ``Item`` (its dedup key, task id,
completion, prompt flag and hash seed) and the run's fixed part once, as a ``JobCatalog`` (each
problem and its limits). ``JobCatalog.build`` turns an item into the ``Job`` an executor runs, with
the problem's language spec. In-process executors get jobs built by the driver as they pull them;
an executor that builds jobs itself (``ItemExecutor``, e.g. ``--ray``: each node gets the catalog once
per run and the items in its leases) calls the same ``build`` there, so a job is the same job
wherever it is built (the node runs this package, its judging code checked by hash at admission).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from humaneval_lab.execution.base import Job, Limits, Outcome
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# (dedup key = job id, task_id, completion, includes_prompt, hash_seed): what a job adds to its problem.
Item = tuple[str, str, str, bool, int | None]


@dataclass(frozen=True)
class JobCatalog:
    """The part of every job that is fixed for a run: each problem by task id, and its limits.
    Plain data (it crosses to Ray nodes as one pickle); language specs are looked up where it is used."""

    problems: Mapping[str, Problem]
    limits: Mapping[str, Limits]
    _specs: dict[str, LanguageSpec] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, object]:
        return {"problems": dict(self.problems), "limits": dict(self.limits)}  # specs: looked up again

    def __setstate__(self, state: dict[str, object]) -> None:
        object.__setattr__(self, "problems", state["problems"])
        object.__setattr__(self, "limits", state["limits"])
        object.__setattr__(self, "_specs", {})

    def build(self, item: Item) -> Job:
        """The job of ``item``: its problem's program around the completion, the problem's limits."""
        key, task_id, completion, includes_prompt, hash_seed = item
        problem = self.problems[task_id]
        spec = self._specs.get(task_id)
        if spec is None:
            spec = self._specs[task_id] = get_language(problem.language)
        program = spec.build(problem, source_of(problem, completion, includes_prompt))
        return Job(key, program, self.limits[task_id], hash_seed=hash_seed)

    def build_all(self, items: Iterable[Item]) -> Iterator[Job]:
        """Jobs built one at a time, as the consumer pulls them (memory stays bounded)."""
        build = self.build
        for item in items:
            yield build(item)


@runtime_checkable
class ItemExecutor(Protocol):
    """An executor that builds jobs itself from a run's catalog and its items (``--ray``: on the
    nodes). Same contract as ``Executor.run``: yields (job id = the item's key, outcome) as they
    finish, each item exactly once."""

    def run_items(self, catalog: JobCatalog, items: Iterable[Item]) -> Iterator[tuple[str, Outcome]]: ...
