"""Feeding jobs to sandbox boxes and recovering from their failures: one state machine, no I/O.

A *box* is one sandbox (a container running the runner, or a fake): it takes jobs with ``send`` and
reports, through its pool's event queue, ``("done", box, job id, (outcome, solo))`` when a job ends
and ``("dead", box, None, None)`` when it dies. The scheduler keeps every box ``queue_depth`` jobs
deep per worker and decides what a failure means:

- a box that dies (OOM, killed, a protocol violation) has its jobs in flight re-run one at a time in
  a *solo* box; a job that kills its solo box twice is the sample's doing: CRASHED (TIMEOUT when the
  host stopped it for running past its limit). A protocol violation never counts as the sample's;
- an INFRA outcome is retried after a backoff, ``max_retries`` times, then reported as INFRA;
- a job that kept killing boxes for other reasons ends as INFRA;
- an outcome marked ``solo`` (another sample may have caused it) is judged again alone;
- three boxes that die before they are ready: the sandbox cannot start, InfrastructureError;
- watchdogs: a job running past its time limit plus ``overrun_grace_s``, or a box silent for far
  longer than any job may take, gets its box killed.

Whatever happens, every job id is yielded exactly once: none lost, none judged twice.
"""

from __future__ import annotations

import collections
import math
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Job, Outcome, Status

Event = tuple[str, Any, "str | None", Any]


class Box(Protocol):
    """What the scheduler needs of a sandbox box (see DockerExecutor's ``_Box``, fake.FakeBox)."""

    workers: int
    solo: bool
    dead: bool
    was_ready: bool
    inflight: dict[str, Job]  # sent and not yet answered
    started: dict[str, float]  # job id -> when the box said it began (monotonic)
    last_progress: float  # when the box last said anything
    violation: str  # how it broke the protocol, if it did
    overrun: str  # the job the scheduler killed it for, if one ran too long

    def send(self, job: Job) -> None: ...

    def kill(self) -> None:
        """Make it dead; its pool then reports ``("dead", box, ...)`` (once)."""
        ...

    def last_words(self) -> str:
        """The end of what it printed (for death logs and errors)."""
        ...


class Pool(Protocol):
    """Starts boxes and carries their events."""

    @property
    def events(self) -> queue.Queue[Event]: ...

    def start(self, workers: int, solo: bool) -> Box:
        """A new box (InfrastructureError when none can be started)."""
        ...

    def start_many(self, n: int, workers: int) -> list[Box]: ...

    def all_boxes(self) -> list[Box]:
        """Every box started and not yet closed, dead ones included."""
        ...

    def cannot_start(self, box: Box) -> InfrastructureError:
        """The error for boxes that keep dying before they are ready."""
        ...


@dataclass(frozen=True)
class Policy:
    max_retries: int = 3
    retry_backoff_s: float = 2.0  # x the attempt number: a neighbour's fork bomb holds pids a while
    overrun_grace_s: float = 15.0  # past a job's limit, what a runner may take to stop it and answer
    silent_grace_s: float = 60.0  # a box silent for 2 x the longest limit plus this is hung
    queue_depth: int = 2  # jobs in flight per worker, so no worker idles
    tick_s: float = 1.0  # how often the watchdogs look when nothing happens


@dataclass
class Deaths:
    """What died under a run (for tests and reports)."""

    count: int = 0
    log: list[tuple[list[str], str]] = field(default_factory=list)  # (jobs in flight, why)


def schedule(
    jobs: Iterable[Job],
    pool: Pool,
    policy: Policy,
    jobs_at_once: int,
    workers_per_box: int,
    deaths: Deaths,
    reuse: Callable[[], list[Box]] = lambda: [],
) -> Iterator[tuple[str, Outcome]]:
    """Run ``jobs`` on boxes of ``pool``; yields (job id, outcome) as they are final, each id once.

    ``reuse``: boxes left from an earlier run on the same pool (e.g. calibration, then scoring).
    """
    source = iter(jobs)
    k = min(workers_per_box, jobs_at_once)
    target = math.ceil(jobs_at_once / k)
    boxes = [b for b in reuse() if not b.dead and not b.solo]
    if len(boxes) < target:
        boxes += pool.start_many(target - len(boxes), k)
    early_deaths = 0
    suspects: collections.deque[Job] = collections.deque()  # re-run alone after a box died
    retry: collections.deque[tuple[float, Job]] = collections.deque()  # (not before, job)
    attempts: collections.Counter[str] = collections.Counter()
    solo_deaths: collections.Counter[str] = collections.Counter()
    solo: Box | None = None
    exhausted = False
    max_timeout = 0.0
    while True:
        boxes = [b for b in boxes if not b.dead]
        if len(boxes) < target and (retry or not exhausted):
            boxes += pool.start_many(target - len(boxes), k)
        for box in boxes:  # feed
            while len(box.inflight) < policy.queue_depth * box.workers:
                if retry and retry[0][0] <= time.monotonic():
                    job = retry.popleft()[1]
                elif exhausted:
                    break
                else:
                    fresh = next(source, None)
                    if fresh is None:
                        exhausted = True
                        break
                    job = fresh
                max_timeout = max(max_timeout, job.limits.timeout_s)
                box.send(job)
        if suspects and (solo is None or solo.dead):
            solo = pool.start(1, solo=True)
        if solo is not None and not solo.dead and not solo.inflight and suspects:
            job = suspects.popleft()
            max_timeout = max(max_timeout, job.limits.timeout_s)
            solo.send(job)
        live = [b for b in (*boxes, solo) if b is not None and not b.dead]
        # Every box counts, dead ones too: their jobs are re-queued only when their death is handled.
        if exhausted and not retry and not suspects and not any(b.inflight for b in pool.all_boxes()):
            if solo is not None:
                solo.kill()
            return
        try:
            kind, who, job_id, payload = pool.events.get(timeout=policy.tick_s)
        except queue.Empty:
            kind, who, job_id, payload = "tick", None, None, None
        if kind == "done" and job_id is not None and job_id in who.inflight:
            job = who.inflight.pop(job_id)
            outcome, solo_wanted = payload
            if solo_wanted and not who.solo:
                suspects.append(job)  # another sample may have caused this verdict: again, alone
            elif outcome.status is Status.INFRA and attempts[job_id] < policy.max_retries:
                attempts[job_id] += 1
                retry.append((time.monotonic() + policy.retry_backoff_s * attempts[job_id], job))
            else:
                yield job_id, outcome
        elif kind == "dead" and who is not None:
            deaths.count += 1
            deaths.log.append((sorted(who.inflight), who.violation or who.overrun or who.last_words()[-500:]))
            who.kill()
            lost = list(who.inflight.values())
            who.inflight.clear()
            if not who.was_ready:
                early_deaths += 1
                if early_deaths >= 3:
                    raise pool.cannot_start(who)
            for job in lost:
                verdict = _after_death(who, job, attempts, solo_deaths, policy)
                if verdict is None:
                    suspects.append(job)
                else:
                    yield job.id, verdict
        now = time.monotonic()
        for b in live:  # watchdogs: time is the host's to enforce
            late = next(
                (
                    jid
                    for jid, began in list(b.started.items())
                    if jid in b.inflight
                    and now - began > b.inflight[jid].limits.timeout_s + policy.overrun_grace_s
                ),
                None,
            )
            if late is not None:
                b.overrun = late
                b.kill()
            elif b.inflight and now - b.last_progress > 2 * max_timeout + policy.silent_grace_s:
                b.kill()


def _after_death(
    box: Box,
    job: Job,
    attempts: collections.Counter[str],
    solo_deaths: collections.Counter[str],
    policy: Policy,
) -> Outcome | None:
    """The verdict of a job whose box died with it in flight, or None: run it again, alone."""
    if box.solo and box.overrun == job.id:
        # Alone, it ran past its limit and the runner did not stop it: the host did.
        return Outcome(Status.TIMEOUT, "ran past its time limit; stopped by the host", timeout="wall")
    if box.solo and box.was_ready and not box.violation:
        # (A protocol violation is never the sample's doing: it cannot reach the stream.)
        solo_deaths[job.id] += 1
        if solo_deaths[job.id] >= 2:
            return Outcome(
                Status.CRASHED,
                "the sample killed its sandbox's runner (twice, running alone)",
                box.last_words()[-2000:],
            )
    attempts[job.id] += 1
    if attempts[job.id] > policy.max_retries + 2:
        return Outcome(Status.INFRA, "the sandbox container kept dying")
    return None
