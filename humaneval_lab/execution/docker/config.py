"""Every limit of a sandbox container, explicit, in one frozen object; and which image to run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from humaneval_lab.errors import ConfigError

IMAGE_ENV = "HUMANEVAL_LAB_SANDBOX_IMAGE"
OVERRUN_GRACE_S = 15.0  # past a job's time limit, what the runner may take to kill it and answer


@dataclass(frozen=True)
class DockerConfig:
    """Every limit of a sandbox container, explicit. Per-container values scale with its workers.

    Raises ConfigError (a ValueError too) for a value out of range.
    """

    jobs: int = 1
    image: str | None = None  # default: $HUMANEVAL_LAB_SANDBOX_IMAGE, else the recipe-hash tag
    # One sample at a time per container by default: no other sample can signal its processes
    # (they share a user), and it measured a little faster than two workers sharing one zygote.
    workers_per_container: int = 1
    memory_per_worker: int = 1 << 30  # bytes; the container's cap (swap equal) is this x workers
    pids_per_worker: int = 128
    # CPU cap per worker: the sample's core plus headroom for the harness processes working beside it
    # (runner, zygote forking the next spare, tester); at exactly 1.0 the container was throttled.
    # Pinned (below), a container cannot use more CPUs than it is pinned to: one per worker.
    cpus_per_worker: float = 1.5
    # Pin each container to its own CPUs, the least used of those its runner may run on (see
    # pinning.py). The host feeds whichever container is free, so a CPU busy with something else
    # only slows the container pinned there. If the engine refuses a cpuset (e.g. not delegated to
    # it), containers run unpinned.
    pin_cpus: bool = True
    work_tmpfs: str = "512m"  # the per-job work dirs live here; exec-able for compiled languages
    tmp_tmpfs: str = "256m"  # /tmp: also exec-able; holds the per-container caches below
    # Imported once by the warm zygote. Each costs every fork (page tables, copy-on-write: numpy
    # ~10% of a HumanEval sample), so only what the problems need: HumanEval-X Python imports numpy.
    preload: tuple[str, ...] = ()
    # Java compiles in a warm, trusted javac per worker (sandbox/runner/javac.py); False: plain
    # ``javac`` per job, as before (the benchmark's reference, or a fallback if ever needed).
    java_compile_server: bool = True
    # TypeScript likewise: a warm, trusted Node compiler per worker (sandbox/runner/tsc.py) that
    # keeps TypeScript's lib files parsed; False: plain ``tsc`` per job.
    typescript_compile_server: bool = True
    # JavaScript and TypeScript: a warm, trusted Node judge per worker runs the tests
    # (sandbox/runner/nodejudge.py); False: a Node judge process per job, as before.
    javascript_judge_server: bool = True
    # Their Node processes start from a startup snapshot the runner builds once per container
    # (sandbox/runner/nodestart.py); False: plain Node starts.
    node_snapshot: bool = True
    max_retries: int = 3
    start_timeout_s: float = 60.0
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("jobs", "workers_per_container", "pids_per_worker"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.memory_per_worker < 6 << 20:  # the engine refuses a memory cap under 6 MiB
            raise ConfigError(f"memory_per_worker must be at least 6 MiB, got {self.memory_per_worker} bytes")
        if not self.cpus_per_worker > 0:
            raise ConfigError(f"cpus_per_worker must be positive, got {self.cpus_per_worker}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, got {self.max_retries}")
        if not self.start_timeout_s > 0:
            raise ConfigError(f"start_timeout_s must be positive, got {self.start_timeout_s}")

    def limits(self) -> dict[str, object]:
        """The container limits a verdict depends on (recorded by DockerExecutor.describe)."""
        return {
            "workers_per_container": self.workers_per_container,
            "memory_per_worker": self.memory_per_worker,
            "pids_per_worker": self.pids_per_worker,
            "cpus_per_worker": self.cpus_per_worker,
            "work_tmpfs": self.work_tmpfs,
            "tmp_tmpfs": self.tmp_tmpfs,
            "preload": list(self.preload),
            "java_compile_server": self.java_compile_server,
            "typescript_compile_server": self.typescript_compile_server,
            "javascript_judge_server": self.javascript_judge_server,
            "node_snapshot": self.node_snapshot,
        }


def default_image() -> str:
    """$HUMANEVAL_LAB_SANDBOX_IMAGE, else the tag `humaneval-lab sandbox build` gives this recipe."""
    env = os.environ.get(IMAGE_ENV)
    if env:
        return env
    from humaneval_lab.sandbox_image import default_image_tag, sandbox_dir

    return default_image_tag(sandbox_dir())
