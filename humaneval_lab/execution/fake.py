"""A fake executor for tests and dry runs: verdicts come from a function, nothing is executed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from humaneval_lab.execution.base import Job, Outcome, Status

_MARK = re.compile(r"hel-verdict:(\w+)")


def verdict_from_marker(job: Job) -> Outcome:
    """``hel-verdict:<status>`` anywhere in the program's files decides; else failed."""
    for text in job.program.files.values():
        m = _MARK.search(text)
        if m:
            return Outcome(Status(m.group(1)), "fake")
    return Outcome(Status.FAILED, "fake: no marker")


class FakeExecutor:
    name = "fake"

    def __init__(self, judge: Callable[[Job], Outcome] = verdict_from_marker) -> None:
        self.judge = judge
        self.executed: list[str] = []

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        for job in jobs:
            self.executed.append(job.id)
            yield job.id, self.judge(job)

    def close(self) -> None:
        pass
