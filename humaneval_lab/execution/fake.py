"""Fakes, shipped for tests and dry runs: nothing is executed.

``FakeExecutor``: verdicts come from a function. ``FakePool``/``FakeBox``: scripted sandbox boxes under
the real scheduler (humaneval_lab.execution.scheduler), to drive every recovery branch in milliseconds.
"""

from __future__ import annotations

import queue
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Job, Outcome, Status

_MARK = re.compile(r"hel-verdict:(\w+)")


def _marker(text: str) -> re.Match[str] | None:
    """``_MARK.search(text)``: the plain substring is found first (str.find; the regex alone scans
    a program's long harness files slowly), the regex only matched where it is."""
    at = text.find("hel-verdict:")
    while at >= 0:
        m = _MARK.match(text, at)
        if m:
            return m
        at = text.find("hel-verdict:", at + 1)
    return None


def verdict_from_marker(job: Job) -> Outcome:
    """``hel-verdict:<status>`` anywhere in the program's files decides; else failed."""
    for text in job.program.files.values():
        m = _marker(text)
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

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------------------ boxes

# What a FakeBox does with a job (a script decides, per job and attempt):
DIE = "die"  # the box dies with the job in flight
HANG = "hang"  # the job starts and never answers
VIOLATE = "violate"  # the box breaks the protocol and is declared dead
NEVER_READY = "never-ready"  # (as a pool's ``boot``) boxes die before they are ready
Action = Outcome | str | tuple[str, Outcome]  # an outcome, one of the above, or ("solo", outcome)


class FakeBox:
    """A scripted sandbox box for the scheduler (like httpx's MockTransport for a transport).

    ``send`` asks its pool's script what the job does and reports it on the pool's event queue at
    once, as a real box's reader thread would.
    """

    def __init__(self, pool: FakePool, workers: int, solo: bool) -> None:
        self.pool, self.workers, self.solo = pool, workers, solo
        self.dead = False
        self.was_ready = pool.boot != NEVER_READY
        self.inflight: dict[str, Job] = {}
        self.started: dict[str, float] = {}
        self.last_progress = time.monotonic()
        self.violation = ""
        self.overrun = ""
        if not self.was_ready:
            self.kill()

    def send(self, job: Job) -> None:
        self.inflight[job.id] = job
        if self.dead:
            return
        self.pool.sent.append((job.id, self.solo))
        action = self.pool.script(job, self.pool.attempt(job.id))
        self.started[job.id] = self.last_progress = time.monotonic()
        if action == HANG:
            return
        if action in (DIE, VIOLATE):
            self.violation = "protocol: scripted" if action == VIOLATE else ""
            self.kill()
            return
        solo, outcome = (True, action[1]) if isinstance(action, tuple) else (False, action)
        assert isinstance(outcome, Outcome)
        del self.started[job.id]
        self.pool.events.put(("done", self, job.id, (outcome, solo)))

    def kill(self) -> None:
        if not self.dead:
            self.dead = True
            self.pool.events.put(("dead", self, None, None))

    def last_words(self) -> str:
        return "fake box"


class FakePool:
    """Starts FakeBoxes; ``script(job, attempt)`` -> Action decides what each job does."""

    def __init__(self, script: Callable[[Job, int], Action], boot: str = "") -> None:
        self.script, self.boot = script, boot
        self.events: queue.Queue[Any] = queue.Queue()
        self.boxes: list[FakeBox] = []
        self.sent: list[tuple[str, bool]] = []  # (job id, to a solo box) in order
        self._attempts: dict[str, int] = {}

    def attempt(self, job_id: str) -> int:
        self._attempts[job_id] = n = self._attempts.get(job_id, 0) + 1
        return n

    def start(self, workers: int, solo: bool) -> FakeBox:
        box = FakeBox(self, workers, solo)
        self.boxes.append(box)
        return box

    def start_many(self, n: int, workers: int) -> list[FakeBox]:
        return [self.start(workers, False) for _ in range(n)]

    def all_boxes(self) -> list[FakeBox]:
        return list(self.boxes)

    def cannot_start(self, box: Any) -> InfrastructureError:
        return InfrastructureError("fake boxes exit at start")
