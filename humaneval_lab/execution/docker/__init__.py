"""The Docker executor: a few long-lived, hardened containers per run, each serving several jobs.

Why this shape (measured on a 2-core machine): ``docker run`` per sample costs ~0.3 s and ``docker
exec`` ~70 ms, but a runner that starts each sample in a fresh process inside one long-lived
container costs a few ms. So each container runs the in-container runner (``bundle``) and the host
talks to it over the container's attached stdio (``box``).

::

    docker/
      __init__.py   DockerExecutor: the scheduler's Pool over boxes; describe(); close()
      config.py     DockerConfig (every container limit), default_image()
      client.py     docker_client() (the one factory), map_docker_errors(), labels, stale sweep
      box.py        one container: its hardening, its sealed stdio channel, ProtocolError
      bundle.py     how the runner is shipped into a container (source, bootstrap)
      pinning.py    CpuPinner: each container on CPUs of its own

Recovery (what a dead container, an infra error or a protocol violation means, and the watchdogs)
is the scheduler's (``humaneval_lab.execution.scheduler``); this package is the container I/O under
it. With several samples in one container (``workers_per_container`` > 1) each has a uid of its own,
but they share its memory and pids: a job that died of a signal or the OOM killer beside others
comes back marked ``solo`` and is judged again alone. Time is enforced here too: a job past its
limit plus ``OVERRUN_GRACE_S`` kills its box.

Containers carry the labels ``org.humaneval-lab.run`` and ``org.humaneval-lab.owner-pid``; they are
removed in ``close`` (also on errors and Ctrl-C), and a later run removes those whose owner died.
"""

from __future__ import annotations

import os
import queue
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from humaneval_lab.errors import DockerUnavailableError, InfrastructureError
from humaneval_lab.execution.base import Job, Outcome, judge_sha256
from humaneval_lab.execution.docker.box import MAX_LINE, RUNNER_CAPS, ProtocolError, _Box
from humaneval_lab.execution.docker.bundle import runner_source
from humaneval_lab.execution.docker.client import (
    FIX,
    HOST_LABEL,
    OWNER_LABEL,
    RUN_LABEL,
    docker_client,
    docker_errors,
    map_docker_errors,
    remove_stale_containers,
    require_image,
    run_labels,
)
from humaneval_lab.execution.docker.config import IMAGE_ENV, OVERRUN_GRACE_S, DockerConfig, default_image
from humaneval_lab.execution.docker.pinning import CpuPinner
from humaneval_lab.execution.scheduler import Box, Deaths, Policy, schedule

__all__ = [
    "HOST_LABEL",
    "IMAGE_ENV",
    "MAX_LINE",
    "OVERRUN_GRACE_S",
    "OWNER_LABEL",
    "RUNNER_CAPS",
    "RUN_LABEL",
    "DockerConfig",
    "DockerExecutor",
    "ProtocolError",
    "default_image",
    "docker_client",
    "map_docker_errors",
    "remove_stale_containers",
    "require_image",
    "runner_source",
]

START_ATTEMPTS = 3  # tries per container before the run gives up on the daemon


class DockerExecutor:
    """Runs jobs in hardened containers; see the package docstring.

    Connects, checks the image (never pulls) and sweeps stale containers when made: a missing
    engine or image is a DockerUnavailableError before any job runs. ``run`` may be called more than
    once (calibration, then scoring); containers live until ``close``.
    """

    name = "docker"

    def __init__(self, jobs: int = 1, image: str | None = None, config: DockerConfig | None = None) -> None:
        self.config = config or DockerConfig(jobs=jobs, image=image)
        self.client = docker_client()
        self.image = self.config.image or image or default_image()
        require_image(self.client, self.image)
        remove_stale_containers(self.client)
        unanswered: tuple[type[BaseException], ...] = (*docker_errors(), TypeError, ValueError)
        try:
            ncpu = self.client.info().get("NCPU")
            self.host_cpus = max(1, int(ncpu or os.cpu_count() or 1))
        except unanswered:
            # Only a cap on what a container may ask for: this machine's count is as good a guess.
            self.host_cpus = os.cpu_count() or 1
        self.run_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.labels = {**run_labels(self.run_id), **self.config.labels}
        self._boxes: list[_Box] = []
        self._events: queue.Queue[tuple[str, _Box, str | None, Any]] = queue.Queue()
        self._deaths = Deaths()
        self.policy = Policy(max_retries=self.config.max_retries, overrun_grace_s=OVERRUN_GRACE_S)
        self.container_ids: list[str] = []  # every container this executor started
        self.solo_ids: list[str] = []  # those started to judge one job alone (see scheduler)
        self.pinner = CpuPinner(
            lambda cid, cpus: self.client.api.update_container(cid, cpuset_cpus=cpus),
            # The engine refuses (cpuset not delegated to it: an APIError) or cannot be asked:
            # either way, run unpinned rather than not at all.
            refused=docker_errors(),
            enabled=self.config.pin_cpus,
        )

    def describe(self) -> dict[str, Any]:
        """The image (tag, id, recipe), the judging code's hash and every container limit: what a
        verdict from this executor depends on besides the sample (see Executor.describe)."""
        from humaneval_lab.sandbox_image import RECIPE_LABEL

        with map_docker_errors(f"inspect sandbox image {self.image}"):
            image = self.client.images.get(self.image)
        return {
            "executor": self.name,
            "image": self.image,
            "image_id": image.id,
            "recipe": (image.labels or {}).get(RECIPE_LABEL),
            "judge_sha256": judge_sha256(),
            "limits": self.config.limits(),
        }

    # the box's hooks (called from its reader thread)

    def _pin(self, box: _Box, allowed: list[int]) -> None:
        self.pinner.pin(box, allowed)

    def _unpin(self, box: _Box) -> None:
        self.pinner.unpin(box)

    # ------------------------------------------------------------------------------------ containers

    def _start_box(self, workers: int, solo: bool = False) -> _Box:
        last: InfrastructureError | None = None
        for _ in range(START_ATTEMPTS):
            try:
                box = _Box(self, workers, solo)
            except InfrastructureError as exc:  # the daemon hiccupped: try again, then say so
                last = exc
                time.sleep(0.5)
                continue
            self._boxes.append(box)
            self.container_ids.append(box.id)
            if solo:
                self.solo_ids.append(box.id)
            return box
        raise InfrastructureError(f"cannot start a sandbox container from {self.image}: {last}")

    def _start_boxes(self, n: int, workers: int) -> list[_Box]:
        out: list[_Box | BaseException] = []
        lock = threading.Lock()

        def one() -> None:
            try:
                b: _Box | BaseException = self._start_box(workers)
            except BaseException as exc:  # noqa: BLE001 - a thread cannot raise to us: re-raised below
                b = exc
            with lock:
                out.append(b)

        threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.config.start_timeout_s)
        boxes = [b for b in out if isinstance(b, _Box)]
        if not boxes:
            err = next((b for b in out if isinstance(b, BaseException)), None)
            if isinstance(err, DockerUnavailableError):
                raise err  # e.g. the image was removed mid-run: the user's to fix, not a retry
            raise InfrastructureError(f"no sandbox container started: {err}")
        return boxes

    # ------------------------------------------------------------------------------------------- run

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        """Yield (job id, outcome) for every job, each once, as they are final. ``jobs`` is pulled
        lazily: a few jobs per worker ahead, so a generator of any length keeps memory bounded."""
        cfg = self.config
        finished = False
        try:
            # Containers outlive one run() call (calibration, then scoring) and are removed in close().
            yield from schedule(
                jobs,
                self,
                self.policy,
                cfg.jobs,
                cfg.workers_per_container,
                self._deaths,
                lambda: list(self._boxes),
            )
            finished = True
        finally:
            if not finished:  # an error, Ctrl-C or an abandoned generator: tear everything down now
                self._close_boxes()

    # the scheduler's Pool

    @property
    def events(self) -> queue.Queue[tuple[str, Any, str | None, Any]]:
        return self._events

    def start(self, workers: int, solo: bool) -> _Box:
        return self._start_box(workers, solo)

    def start_many(self, n: int, workers: int) -> list[Box]:
        return list(self._start_boxes(n, workers))

    def all_boxes(self) -> list[Box]:
        return list(self._boxes)

    def cannot_start(self, box: Any) -> InfrastructureError:
        tail = box.last_words().strip().splitlines()[-1:] or ["no output"]
        return InfrastructureError(
            f"sandbox containers from {self.image} exit at start ({tail[0][:300]}); {FIX}"
        )

    @property
    def deaths(self) -> int:
        """Containers that died under us (for tests and reports)."""
        return self._deaths.count

    @property
    def death_log(self) -> list[tuple[list[str], str]]:
        """(jobs in flight, why) per death."""
        return self._deaths.log

    # ----------------------------------------------------------------------------------------- close

    def _close_boxes(self) -> None:
        boxes, self._boxes = self._boxes, []
        threads = [threading.Thread(target=b.kill, daemon=True) for b in boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    def close(self) -> None:
        """Remove every container of this run; never raises (it runs in ``finally`` blocks, where an
        error would hide the one that matters)."""
        self._close_boxes()
        try:
            for c in self.client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={self.run_id}"}):
                c.remove(force=True)
        except docker_errors():
            # The daemon is down or the container is being removed already; what is left carries
            # this run's labels, and the next run's sweep removes it once this process is gone.
            pass
        try:
            self.client.close()
        except OSError:
            pass  # closing the HTTP session of a daemon that is gone: nothing left to release
