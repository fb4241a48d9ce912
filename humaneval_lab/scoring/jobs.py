"""Turning a sample into a job, and a verdict into its result line, in one place, wherever it runs.

``score()`` describes each sample still to judge as a small ``Item`` (its dedup key, task id,
completion, prompt flag, hash seed, and what its result line needs: the sample's fields, index and
line number) and the run's fixed part once, as a ``JobCatalog`` (each problem, its limits, the
settings that word a timeout). ``JobCatalog.build`` turns an item into the ``Job`` an executor runs,
with the problem's language spec; ``JobCatalog.result_line`` turns the item and its verdict into
its line of results.jsonl (``scoring.results.result_line``, byte for byte).

In-process executors get jobs built by the driver as they pull them, and the driver writes the
lines. An executor that builds jobs itself (``ItemExecutor``, e.g. ``--ray``: each node gets the
catalog once per run and the items in its leases) calls the same ``build`` there and returns each
verdict with its line, so the driver, which carries every sample of the run, only writes them. The
node runs this package: its judging code (``judge_sha256``) and this code (``scoring_sha256``) are
checked by hash before it takes work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol, runtime_checkable

from humaneval_lab.execution.base import Job, Limits, Outcome, Program, Status
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem
from humaneval_lab.records import Sample
from humaneval_lab.scoring.results import fast_result_line, result_line
from humaneval_lab.scoring.settings import ScoreSettings, explain_timeout, own_limit_note

# (dedup key = job id, task_id, completion, includes_prompt, hash_seed, the sample's fields, its
# index among its problem's samples, its line number): what a job and its result line add to the run's.
Item = tuple[str, str, str, bool, int, Mapping[str, Any], int, int]


@dataclass(frozen=True)
class JobCatalog:
    """The part of every job that is fixed for a run: each problem by task id, and its limits.
    Plain data (it crosses to Ray nodes as one pickle); language specs are looked up where it is used."""

    problems: Mapping[str, Problem]
    limits: Mapping[str, Limits]
    settings: ScoreSettings
    # Per task id: how its programs are made (its language spec's program_maker), and its limits.
    _makers: dict[str, tuple[Callable[[str], Program], Problem, Limits]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _notes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)  # own_limit_note's

    def __getstate__(self) -> dict[str, object]:
        # Language specs are looked up again where the catalog lands.
        return {"problems": dict(self.problems), "limits": dict(self.limits), "settings": self.settings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in ("problems", "limits", "settings"):
            object.__setattr__(self, name, state[name])
        object.__setattr__(self, "_makers", {})
        object.__setattr__(self, "_notes", {})

    def build(self, item: Item) -> Job:
        """The job of ``item``: its problem's program around the completion, the problem's limits.
        Each problem's program maker (``LanguageSpec.program_maker``: a template where the spec has
        one, so a sample's program only fills in the candidate's file) is made at its first item."""
        key, task_id, completion, includes_prompt, hash_seed = item[:5]
        made = self._makers.get(task_id)
        if made is None:
            problem = self.problems[task_id]
            maker = get_language(problem.language).program_maker(problem)
            made = self._makers[task_id] = (maker, problem, self.limits[task_id])
        make, problem, limits = made
        return Job.of(key, make(source_of(problem, completion, includes_prompt)), limits, hash_seed)

    def result_line(self, item: Item, o: Outcome) -> str:
        """The item's line of results.jsonl for the verdict ``o`` as the executor gave it (the
        timeout's reason is worded here, as ``score()`` words it)."""
        key, task_id, completion, includes_prompt, hash_seed, fields, index, line = item
        problem = self.problems[task_id]
        if o.status is Status.TIMEOUT:  # only a timeout's reason is worded (explain_timeout)
            o = explain_timeout(self.settings, o, self.limits[task_id], self._own_note(problem))
        # A node makes every line of its leases: no Sample is built unless the fields need the record.
        text = fast_result_line(fields, task_id, index, line, problem.language, key, o, hash_seed)
        if text is None:
            sample = Sample(task_id, completion, includes_prompt, fields, line, index)
            return result_line(sample, index, line, problem, key, o, hash_seed)
        return text

    def _own_note(self, problem: Problem) -> str:
        note = self._notes.get(problem.task_id)
        if note is None:
            note = self._notes[problem.task_id] = own_limit_note(problem)
        return note

    def build_all(self, items: Iterable[Item]) -> Iterator[Job]:
        """Jobs built one at a time, as the consumer pulls them (memory stays bounded)."""
        build = self.build
        for item in items:
            yield build(item)


@runtime_checkable
class ItemExecutor(Protocol):
    """An executor that builds jobs itself from a run's catalog and its items (``--ray``: on the
    nodes). Like ``Executor.run`` it gives each item's verdict once, as they finish, in any order,
    but in batches (the verdicts that arrived together; the caller handles a batch at once): lists
    of (job id = the item's key, the outcome as judged, ``catalog.result_line(item, outcome)``)."""

    def run_items(
        self, catalog: JobCatalog, items: Iterable[Item]
    ) -> Iterator[Sequence[tuple[str, Outcome, str]]]: ...


def scoring_sha256() -> str:
    """sha256 of the code that builds jobs and words result lines (this module, results.py,
    settings.py): a Ray node must run the same, or its lines could differ from the driver's."""
    h = hashlib.sha256()
    for name in ("jobs.py", "results.py", "settings.py"):
        h.update(name.encode() + b"\0" + resources.files("humaneval_lab.scoring").joinpath(name).read_bytes())
    return h.hexdigest()
