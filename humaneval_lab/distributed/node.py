"""The per-node actor: owns one node's sandbox and judges the jobs the driver leases to it.

The actor keeps one executor (a ``DockerExecutor`` with jobs = the node's CPUs; its containers
outlive leases) and feeds it from a local queue that the driver's ``submit`` calls fill. The
executor's scheduler pulls jobs one by one and would block on an empty queue with finished verdicts
still unreported, so the feed *ends* when the queue stays empty for a moment: the run drains and
the next ``submit`` starts another one on the same containers. The driver keeps more jobs leased
than the executor holds in flight, so this happens only when the run as a whole runs dry.

Verdicts wait in a list until the driver's next ``poll``. Nothing here decides a verdict: the
executor does, exactly as it does without Ray.

Before that, ``admit`` makes the sandbox (building the node's image first when the driver allows
it and the image is missing: the same ``build_image`` as ``sandbox build``), says what it is and
runs the canaries; the driver's ``membership`` decides from the answer whether the node may judge.
"""

from __future__ import annotations

import collections
import pickle
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from humaneval_lab.errors import EnvironmentProblem, InfrastructureError
from humaneval_lab.execution.base import Executor, Job, Outcome, Status
from humaneval_lab.execution.fake import verdict_from_marker
from humaneval_lab.problems import Problem


# Chunks cross between the driver and a node as one pickle each, made by the standard (C) pickler:
# Ray's own serializer (cloudpickle) runs a Python hook per object, and a chunk of 256 jobs is a
# few thousand objects; this is most of the driver's cost per job. Same trust as Ray's pickles: the
# driver and its own actors only.
def pack(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> Any:
    return pickle.loads(blob)  # noqa: S301 (from our own driver or actor, as Ray's pickles are)


STARVED_S = 0.05  # how long an empty queue is waited on before the executor's run is let drain


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    address: str
    cpus: int
    resources: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.address} ({self.node_id[:8]})"


NodeFactory = Callable[[NodeInfo], Executor]


def missing_image(factory: NodeFactory, info: NodeInfo) -> str:
    """The sandbox image the factory needs on this node and the node lacks ("" when present, or
    when the factory needs no image)."""
    probe = getattr(factory, "missing_image", None)
    return str(probe(info)) if probe is not None else ""


def image_missing_line(tag: str) -> str:
    """Why a node without its image is refused, and the two ways out."""
    return (f"sandbox image {tag} is missing on it: build it there with "
            f"`humaneval-lab sandbox build --tag {tag}`, or pass --ray-build-sandbox")  # fmt: skip


@dataclass(frozen=True)
class DockerOnNode:
    """The default node sandbox: ``make_executor("docker", ...)`` with jobs = the node's CPUs."""

    image: str | None = None
    pin_cpus: bool = True
    problems: tuple[Problem, ...] = ()  # for the warm imports they need (execution.preload_for)

    def __call__(self, info: NodeInfo) -> Executor:
        from humaneval_lab.execution import make_executor

        return make_executor(
            "docker", info.cpus, image=self.image, pin_cpus=self.pin_cpus, problems=self.problems
        )

    def tag(self) -> str:
        from humaneval_lab.execution.docker import default_image

        return self.image or default_image()

    def missing_image(self, info: NodeInfo) -> str:
        from humaneval_lab.execution.docker import docker_client
        from humaneval_lab.sandbox_image import image_exists

        client = docker_client()  # DockerUnavailableError (no engine): the node is excluded with it
        try:
            return "" if image_exists(client, self.tag()) else self.tag()
        finally:
            client.close()

    def build_image(self, info: NodeInfo, log: Callable[[str], object]) -> None:
        """``sandbox build --tag TAG`` on this node (root, debootstrap, a Debian mirror; minutes)."""
        from humaneval_lab.sandbox_image import build_image

        build_image(self.tag(), log=log)


class _FakeNodeExecutor:
    """No sandbox: verdicts from ``hel-verdict:`` markers (execution.fake), canaries answered as a
    working sandbox would; ``broken``: everything passes, as a sandbox that runs no tests would."""

    name = "fake"

    def __init__(self, delay_s: float, broken: bool, hang_after: int = -1, judge_sha256: str = "") -> None:
        self.delay_s, self.broken, self.hang_after, self.judge_sha256 = (
            delay_s,
            broken,
            hang_after,
            judge_sha256,
        )
        self.judged = 0

    def judge(self, job: Job) -> Outcome:
        if self.broken:
            return Outcome(Status.PASSED, "fake: broken")
        if job.id.endswith((":good", ":toolchain")):
            return Outcome(Status.PASSED)
        if job.id.endswith(":bad"):
            return Outcome(Status.FAILED, "fake")
        return verdict_from_marker(job)

    def run(self, jobs: Any) -> Iterator[tuple[str, Outcome]]:
        for job in jobs:
            if self.delay_s:
                time.sleep(self.delay_s)
            self.judged += 1
            while self.judged == self.hang_after:  # a hung sandbox: silent until its actor is killed
                time.sleep(1)
            yield job.id, self.judge(job)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, **({"judge_sha256": self.judge_sha256} if self.judge_sha256 else {})}

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class FakeOnNode:
    """A fake node sandbox (for tests and the driver benchmark): ``delay_s`` per job; a node that
    declares the resource ``broken_resource`` passes everything, so its canaries fail; one that
    declares ``hang_resource`` goes silent at its ``hang_after``-th job; ``judge_sha256``: the
    judging code's hash every node claims; one that declares ``missing_resource`` lacks the image
    ``MISSING_TAG`` until ``build_image`` (``build_s`` seconds) has run there."""

    delay_s: float = 0.0
    broken_resource: str = ""
    hang_resource: str = ""
    hang_after: int = -1
    judge_sha256: str = ""
    missing_resource: str = ""
    build_s: float = 0.0

    MISSING_TAG: ClassVar[str] = "hel-fake-sandbox:missing"

    def __call__(self, info: NodeInfo) -> Executor:
        def has(resource: str) -> bool:
            return bool(resource) and info.resources.get(resource, 0) > 0

        hang = self.hang_after if has(self.hang_resource) else -1
        return _FakeNodeExecutor(self.delay_s, has(self.broken_resource), hang, self.judge_sha256)

    def missing_image(self, info: NodeInfo) -> str:
        lacks = bool(self.missing_resource) and info.resources.get(self.missing_resource, 0) > 0
        # the actor's process stands for the node: it remembers its own build
        return self.MISSING_TAG if lacks and info.node_id not in _FAKE_BUILT else ""

    def build_image(self, info: NodeInfo, log: Callable[[str], object]) -> None:
        log(f"fake build of {self.MISSING_TAG}")
        time.sleep(self.build_s)
        _FAKE_BUILT.add(info.node_id)


_FAKE_BUILT: set[str] = set()  # node ids whose fake image was "built" (in this actor's process)


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
        self._todo: queue.Queue[Job] = queue.Queue()
        self._done: list[tuple[str, Outcome]] = []
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

    def submit(self, chunk: bytes) -> int:
        """Queue a chunk of jobs: ``pack(list of Job)`` (see ``pack``)."""
        jobs: list[Job] = unpack(chunk)
        for job in jobs:
            self._todo.put(job)
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="hel-node-feed", daemon=True)
            self._thread.start()
        return len(jobs)

    def poll(self, wait_s: float) -> bytes:
        """``pack``ed (job id, Outcome) pairs finished since the last poll; waits up to ``wait_s`` for
        the first one. A broken executor raises here, and the driver treats the node as lost."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._done or self._error), timeout=wait_s)
            if self._error:
                raise InfrastructureError(f"the sandbox on node {self.info.name} failed: {self._error}")
            out, self._done = self._done, []
        return pack(out)

    def _serve(self) -> None:
        try:
            while True:
                first = self._todo.get()
                for job_id, outcome in self.executor.run(self._feed(first)):
                    with self._cond:
                        self._done.append((job_id, outcome))
                        self._cond.notify_all()
        except BaseException as exc:  # reported on the next poll; the driver re-leases the jobs
            with self._cond:
                self._error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
                self._cond.notify_all()

    def _feed(self, first: Job) -> Iterator[Job]:
        yield first
        while True:
            try:
                yield self._todo.get(timeout=STARVED_S)
            except queue.Empty:
                return  # starved: let this run drain (see the module docstring)

    def close(self) -> None:
        self.executor.close()
