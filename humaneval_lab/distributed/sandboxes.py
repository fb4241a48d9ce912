"""What runs a node's jobs: the node's description (``NodeInfo``) and its sandbox factories.

``DockerOnNode`` is the real one (the node's Docker engine, ``make_executor("docker", ...)``);
``FakeOnNode`` judges from markers for the tests and the driver benchmark, and can play a broken,
hung, slow or image-less node. A factory may also say which image the node lacks and build it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from humaneval_lab.execution.base import Executor, Job, Outcome, Status
from humaneval_lab.execution.fake import verdict_from_marker
from humaneval_lab.problems import Problem


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


_PASSED = Outcome(Status.PASSED)  # frozen: one for every no-op verdict, as cheap as the reference's


class _FakeNodeExecutor:
    """No sandbox: verdicts from ``hel-verdict:`` markers (execution.fake), canaries answered as a
    working sandbox would; ``broken``: everything passes, as a sandbox that runs no tests would;
    ``no_op``: every other job passes unread (the driver benchmark's sandbox that costs nothing);
    ``calibrate_s``: a canonical solution's run (calibration) passes in that time (a fifth of it CPU);
    ``calibrate_delay_s``: and takes that long (so a test can lose a node while it calibrates)."""

    name = "fake"

    def __init__(
        self,
        delay_s: float,
        broken: bool,
        hang_after: int = -1,
        judge_sha256: str = "",
        no_op: bool = False,
        calibrate_s: float = 0.0,
        calibrate_delay_s: float = 0.0,
    ) -> None:
        self.delay_s, self.broken, self.hang_after = delay_s, broken, hang_after
        self.judge_sha256, self.no_op, self.calibrate_s = judge_sha256, no_op, calibrate_s
        self.calibrate_delay_s = calibrate_delay_s
        self.judged = 0

    def judge(self, job: Job) -> Outcome:
        if self.broken:
            return Outcome(Status.PASSED, "fake: broken")
        if job.id.endswith((":good", ":toolchain")):
            return Outcome(Status.PASSED)
        if job.id.endswith(":bad"):
            return Outcome(Status.FAILED, "fake")
        if self.calibrate_s and job.id.startswith("calibrate:"):
            return Outcome(Status.PASSED, duration_s=self.calibrate_s, cpu_s=self.calibrate_s / 5)
        return _PASSED if self.no_op else verdict_from_marker(job)

    def run(self, jobs: Any) -> Iterator[tuple[str, Outcome]]:
        for job in jobs:
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.calibrate_delay_s and job.id.startswith("calibrate:"):
                time.sleep(self.calibrate_delay_s)
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
    ``MISSING_TAG`` until ``build_image`` (``build_s`` seconds) has run there; ``no_op``: every job
    but the canaries passes unread; ``calibrate_s``: each canonical solution's run passes in that
    time, ten times longer on a node that declares ``slow_resource``; ``calibrate_delay_s``: and
    takes that long in fact."""

    delay_s: float = 0.0
    broken_resource: str = ""
    hang_resource: str = ""
    hang_after: int = -1
    judge_sha256: str = ""
    missing_resource: str = ""
    build_s: float = 0.0
    no_op: bool = False
    calibrate_s: float = 0.0
    slow_resource: str = ""
    calibrate_delay_s: float = 0.0

    MISSING_TAG: ClassVar[str] = "hel-fake-sandbox:missing"

    def __call__(self, info: NodeInfo) -> Executor:
        def has(resource: str) -> bool:
            return bool(resource) and info.resources.get(resource, 0) > 0

        hang = self.hang_after if has(self.hang_resource) else -1
        calibrate_s = self.calibrate_s * (10 if has(self.slow_resource) else 1)
        return _FakeNodeExecutor(self.delay_s, has(self.broken_resource), hang, self.judge_sha256, self.no_op,
                                 calibrate_s, self.calibrate_delay_s)  # fmt: skip

    def missing_image(self, info: NodeInfo) -> str:
        lacks = bool(self.missing_resource) and info.resources.get(self.missing_resource, 0) > 0
        # the actor's process stands for the node: it remembers its own build
        return self.MISSING_TAG if lacks and info.node_id not in _FAKE_BUILT else ""

    def build_image(self, info: NodeInfo, log: Callable[[str], object]) -> None:
        log(f"fake build of {self.MISSING_TAG}")
        time.sleep(self.build_s)
        _FAKE_BUILT.add(info.node_id)


_FAKE_BUILT: set[str] = set()  # node ids whose fake image was "built" (in this actor's process)
