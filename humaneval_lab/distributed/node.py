"""The per-node actor: owns one node's sandbox and judges the jobs the driver leases to it.

The actor keeps one executor (a ``DockerExecutor`` with jobs = the node's CPUs; its containers
outlive leases) and feeds it from a local queue that the driver's ``submit`` calls fill. The
executor's scheduler pulls jobs one by one and would block on an empty queue with finished verdicts
still unreported, so the feed *ends* when the queue stays empty for a moment: the run drains and
the next ``submit`` starts another one on the same containers. The driver keeps more jobs leased
than the executor holds in flight, so this happens only when the run as a whole runs dry.

Work comes as jobs (``submit``) or as items of the run's ``JobCatalog`` (``load`` once, then
``submit_items``): an item is built into its job as the executor pulls it, and its verdict returns
with its result line (``JobCatalog.result_line``). Verdicts wait in a list, as plain tuples
(``compact``), until the driver's next ``poll``. Nothing here decides a verdict: the executor does,
exactly as it does without Ray.

Before that, ``admit`` makes the sandbox (building the node's image first when the driver allows
it and the image is missing: the same ``build_image`` as ``sandbox build``), says what it is and
runs the canaries; the driver's ``membership`` decides from the answer whether the node may judge.
"""

from __future__ import annotations

import collections
import pickle
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from humaneval_lab.distributed.sandboxes import NodeFactory, NodeInfo, image_missing_line, missing_image
from humaneval_lab.errors import EnvironmentProblem, InfrastructureError
from humaneval_lab.execution.base import Executor, Job, Outcome, Status
from humaneval_lab.scoring.jobs import Item, JobCatalog, scoring_sha256


# Chunks cross between the driver and a node as one pickle each, made by the standard (C) pickler:
# Ray's own serializer (cloudpickle) runs a Python hook per object, and a chunk of 256 jobs is a
# few thousand objects; this is most of the driver's cost per job. Same trust as Ray's pickles: the
# driver and its own actors only.
def pack(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> Any:
    return pickle.loads(blob)  # noqa: S301 (from our own driver or actor, as Ray's pickles are)


# A verdict crosses back as a plain tuple, not an Outcome (whose pickle rebuilds the dataclass and
# its enum through Python hooks): (job id, status value, reason, stderr tail, duration s, timeout
# kind, cpu s, the result line: JobCatalog.result_line for an item, "" for a job).
Compact = tuple[str, str, str, str, float, str, float, str]
_STATUS = {s.value: s for s in Status}
_new = object.__new__


def compact(job_id: str, o: Outcome, line: str = "") -> Compact:
    return (job_id, o.status.value, o.reason, o.stderr_tail, o.duration_s, o.timeout, o.cpu_s, line)


def expand(c: Compact) -> tuple[str, Outcome]:
    """(job id, Outcome) of ``compact(...)``. The Outcome was validated where it was made (on the
    node, by this package's code), and the driver expands tens of thousands a second: its fields
    are set directly, without the frozen dataclass's ``__init__`` (six guarded setattrs)."""
    o = _new(Outcome)
    o.__dict__.update(
        status=_STATUS[c[1]], reason=c[2], stderr_tail=c[3], duration_s=c[4], timeout=c[5], cpu_s=c[6]
    )
    return c[0], o


def expand_with_line(c: Compact) -> tuple[str, Outcome, str]:
    job_id, o = expand(c)
    return job_id, o, c[7]


STARVED_S = 0.05  # how long an empty queue is waited on before the executor's run is let drain
# A poll that has its first verdict waits up to LINGER_S more, until POLL_BATCH verdicts are there.
POLL_BATCH, LINGER_S = 1024, 0.02


START_ATTEMPTS = 3


def _start(factory: NodeFactory, info: NodeInfo) -> Executor:
    """The node's executor. Starting one can fail for a moment when others start beside it on the
    same engine (e.g. two reaping the same stale containers: one finds it gone), so a failure is
    retried twice before the node gives up (and is excluded, with the last error)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return factory(info)
        except Exception:
            if attempt == START_ATTEMPTS:
                raise
            time.sleep(attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Admission:
    """A node's answer to ``admit``: its sandbox's ``describe()``, the canaries' (language, case,
    verdict right, what it got), and the image it built first ("" if none)."""

    sandbox: dict[str, Any]
    verdicts: list[tuple[str, str, bool, str]]
    built: str = ""
    build_s: float = 0.0


class _NotAdmitted:
    """The executor of a node not admitted yet: a job sent before ``admit`` is a driver bug."""

    name = "not-admitted"

    def run(self, jobs: Any) -> Iterator[tuple[str, Outcome]]:
        raise InfrastructureError("a job reached a node before it was admitted")

    def describe(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


class NodeSandbox:
    """The actor's class (``ray.remote`` is applied by the driver, so importing this needs no Ray).

    Threaded (the driver's ``poll`` waits while ``submit`` adds work); the executor is used by one
    thread at a time: ``admit`` makes it and runs the canaries before the first ``submit``.
    """

    def __init__(self, factory: NodeFactory, info: NodeInfo) -> None:
        self.info, self.factory = info, factory
        self.executor: Executor = _NotAdmitted()
        self._build_log: collections.deque[str] = collections.deque(maxlen=20)
        # Jobs or items not yet pulled by the executor; a whole chunk is added under one lock.
        self._todo: collections.deque[Job | Item] = collections.deque()
        self._work = threading.Condition()
        self._catalog: JobCatalog | None = None
        self._items: dict[str, Item] = {}  # items pulled by the executor, by job id
        self._done: list[Compact] = []
        self._cond = threading.Condition()
        self._error = ""
        self._thread: threading.Thread | None = None

    def missing_image(self) -> str:
        """The image this node lacks ("" if none): answered at once, before ``admit``."""
        return missing_image(self.factory, self.info)

    def admit(self, languages: Sequence[str], build: bool) -> Admission:
        """Build the missing image when ``build`` (else refuse), start the sandbox, describe it and
        run the canaries. Raises (the driver excludes the node with the error's last line)."""
        built, build_s = "", 0.0
        tag = missing_image(self.factory, self.info)
        if tag and not build:
            raise EnvironmentProblem(image_missing_line(tag))
        if tag:
            build_image: Callable[[NodeInfo, Callable[[str], object]], None] | None
            build_image = getattr(self.factory, "build_image", None)
            if build_image is None:
                raise EnvironmentProblem(
                    f"sandbox image {tag} is missing and this node's sandbox cannot build it"
                )
            started = time.monotonic()
            try:
                build_image(self.info, self._build_log.append)
            except Exception as exc:
                tail = " | ".join(list(self._build_log)[-3:])
                raise EnvironmentProblem(f"building sandbox image {tag} failed: {exc} ({tail})") from None
            built, build_s = tag, time.monotonic() - started
            if missing_image(self.factory, self.info):
                raise EnvironmentProblem(f"sandbox image {tag} is still missing after its build")
        self.executor = _start(self.factory, self.info)
        return Admission(self.describe(), self.selftest(languages), built, build_s)

    def describe(self) -> dict[str, Any]:
        return self.executor.describe()

    def selftest(self, languages: Sequence[str]) -> list[tuple[str, str, bool, str]]:
        """Each language's known-good and known-bad program (and toolchain) on this node's sandbox:
        (language, case, verdict right, what it got)."""
        from humaneval_lab.languages.selftest import run_selftest

        return [
            (
                r.language,
                r.case,
                r.ok,
                r.outcome.status.value + (f" ({r.outcome.reason})" if r.outcome.reason else ""),
            )
            for r in run_selftest(self.executor, languages)
        ]

    def load(self, catalog: bytes) -> str:
        """Keep the run's ``pack(JobCatalog)`` (its problems, limits and settings), from which the
        items of the next ``submit_items`` calls are built and their result lines made; called once
        per run, before them. Returns ``scoring_sha256()`` of this node's code, which the driver
        compares with its own."""
        self._catalog = unpack(catalog)
        return scoring_sha256()

    def submit(self, chunk: bytes) -> int:
        """Queue a chunk of jobs: ``pack(list of Job)`` (see ``pack``)."""
        jobs: list[Job] = unpack(chunk)
        return self._queue(jobs)

    def submit_items(self, chunk: bytes) -> int:
        """Queue a chunk of ``pack(list of scoring.jobs.Item)``: each is built into its job here, as
        the executor pulls it, with the catalog ``load`` kept (``JobCatalog.build``: the code
        ``score()`` builds jobs with)."""
        if self._catalog is None:
            raise InfrastructureError(f"node {self.info.name} got work before the run's problems")  # a bug
        items: list[Item] = unpack(chunk)
        return self._queue(items)

    def _queue(self, work: list[Any]) -> int:
        with self._work:
            self._todo.extend(work)
            self._work.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="hel-node-feed", daemon=True)
            self._thread.start()
        return len(work)

    def poll(self, wait_s: float) -> bytes:
        """``pack``ed verdicts finished since the last poll, each ``compact(job id, Outcome)``; waits up
        to ``wait_s`` for the first one. A broken executor raises here, and the driver treats the node
        as lost."""
        with self._cond:
            if self._cond.wait_for(lambda: bool(self._done or self._error), timeout=wait_s):
                # A few more for this answer: each answer costs the driver, Ray and this actor a
                # call, and nothing waits on a verdict's few milliseconds (the driver keeps every
                # node's queue deeper than this).
                self._cond.wait_for(
                    lambda: len(self._done) >= POLL_BATCH or bool(self._error), timeout=LINGER_S
                )
            if self._error:
                raise InfrastructureError(f"the sandbox on node {self.info.name} failed: {self._error}")
            out, self._done = self._done, []
        return pack(out)

    def _serve(self) -> None:
        try:
            while True:
                with self._work:
                    self._work.wait_for(lambda: bool(self._todo))
                for job_id, outcome in self.executor.run(self._feed()):
                    item = self._items.pop(job_id, None)
                    line = self._catalog.result_line(item, outcome) if item and self._catalog else ""
                    answer = compact(job_id, outcome, line)
                    with self._cond:
                        self._done.append(answer)
                        if len(self._done) in (1, POLL_BATCH):  # a poll may wait for the first, or a batch
                            self._cond.notify_all()
        except BaseException as exc:  # reported on the next poll; the driver re-leases the jobs
            with self._cond:
                self._error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
                self._cond.notify_all()

    def _feed(self) -> Iterator[Job]:
        todo = self._todo
        while True:
            try:
                unit = todo.popleft()
            except IndexError:
                with self._work:
                    if not self._work.wait_for(lambda: bool(todo), timeout=STARVED_S):
                        return  # starved: let this run drain (see the module docstring)
                continue
            if isinstance(unit, Job):
                yield unit
            elif self._catalog is not None:  # an item is built into its job only now, as it is pulled
                # (the catalog is read per item: this feed may have started on a run's calibration
                # jobs, before the catalog came)
                self._items[unit[0]] = unit  # its result line is made with its verdict
                yield self._catalog.build(unit)
            else:  # submit_items refuses items before load; a bug
                raise InfrastructureError(f"node {self.info.name}: an item without the run's problems")

    def close(self) -> None:
        self.executor.close()
