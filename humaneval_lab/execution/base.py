"""What an executor runs, what it returns, and the Executor protocol.

A ``Job`` is language-neutral: files to write, commands to run, limits. Language specs turn a
(problem, completion) into a ``Program``; executors (local, docker, fake, later a Ray-sharded one) only
run programs. Every executor judges with the same function, ``execute_job`` (sandbox/runner/judge.py,
its verdicts decided in sandbox/runner/verdict.py), so verdicts mean the same thing everywhere.

Pass rule: the last command exits 0 **and** prints, on a line of its own, a secret token that the
runner makes per job and hands to trusted code only (on the run command's stdin). Exit code 0 alone is
never a pass: a completion that calls ``sys.exit(0)`` before the tests run never prints the token.
(Python judged warm in the sandbox, see ``Program.harness``, gets its verdict from the trusted
test process over a private socket instead, and two-process languages, see ``Program.judge``, from
their trusted judge's exit code.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from importlib import resources
from typing import Any, Protocol, runtime_checkable

from humaneval_lab.errors import ConfigError


class Status(str, Enum):
    """A verdict. Only PASSED counts as correct; INFRA is never the model's fault."""

    PASSED = "passed"
    FAILED = "failed"  # a test assertion failed / wrong answer
    ERROR = "error"  # exception, syntax or compile error
    TIMEOUT = "timeout"
    OOM = "oom"
    OUTPUT_LIMIT = "output_limit"
    CRASHED = "crashed"  # killed by a signal, not by us
    INFRA = "infra_error"  # the sandbox failed; retried, then reported separately


_new = object.__new__


@dataclass(frozen=True)
class Limits:
    """Per-job limits; every one explicit."""

    timeout_s: float = 10.0  # wall clock for compile + run, enforced from outside the sample
    cpu_s: int = 30  # RLIMIT_CPU per process
    output_bytes: int = 1 << 20  # stdout and stderr each
    file_size_bytes: int = 64 << 20  # RLIMIT_FSIZE
    open_files: int = 256  # RLIMIT_NOFILE
    address_space_bytes: int = 0  # RLIMIT_AS; 0 = unset (the container's cgroup caps memory)
    # CPU seconds of the job's whole process tree (compile and run, every process), polled by the
    # runner every few ms and killed past it: a ``cpu`` timeout, whatever the load. None: off (only
    # ``timeout_s``, then the wall clock, and RLIMIT_CPU per process stop a runaway).
    cpu_time_s: float | None = None

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout_s}")
        if self.cpu_time_s is not None and not self.cpu_time_s > 0:
            raise ConfigError(f"CPU timeout must be positive, got {self.cpu_time_s}")


@dataclass(frozen=True)
class Program:
    """Files and commands that judge one completion. Paths are relative to a fresh work dir."""

    language: str
    files: Mapping[str, str]
    run: tuple[str, ...]
    compile: tuple[tuple[str, ...], ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # stderr substrings that mark a failed test rather than an error (e.g. "AssertionError").
    failure_markers: tuple[str, ...] = ()
    # Some test styles only print on failure (rackunit, console.assert): then stderr must be empty.
    require_empty_stderr: bool = False
    # A trusted harness the runner may run warm: the name among ``files`` of the driver that ``run``
    # starts as ``python3 -I <harness> <candidate> <tests>`` (Python: hel_pydriver.py). A sandbox
    # runner with a zygote then runs the tests in its long-lived tester (never writing them to disk)
    # and only the candidate in a fresh process; elsewhere ``run`` runs as it is. Both judge the same
    # way (sandbox/runner/hel_pydriver.py, sandbox/runner/warm.py).
    harness: str | None = None
    # Two processes (interpreted languages): ``judge`` is the argv of a trusted judge that runs the
    # tests in its own dir, which holds ``judge_files``; ``run`` then starts the candidate, which
    # only serves calls. Both read on fd 3 and write on fd 4 (the judge's writes are the
    # candidate's reads and back); one JSON message a line. The candidate first writes
    # ``{"ready": true}`` once its code loaded, then answers each ``{"call": name, "args": [...]}``
    # with ``{"value": ...}`` or ``{"error": "..."}``. The judge's exit code is the verdict: 0 passed,
    # 1 failed (a test assertion), 2 error (the candidate raised, sent something unusable), 3 the
    # candidate ended or never became ready (then how it ended decides); its last stderr line is
    # the reason. In the sandbox the judge runs under a uid of its own that the candidate cannot
    # signal or read, and nothing the candidate prints reaches the verdict.
    judge: tuple[str, ...] = ()
    judge_files: Mapping[str, str] = field(default_factory=dict)

    def with_files(self, files: Mapping[str, str]) -> Program:
        """This program with ``files`` instead of its own: ``dataclasses.replace(self, files=files)``
        (fresh ``env`` and ``judge_files`` dicts with the same items), without the frozen
        dataclass's guarded setattr per field. A language spec's per-problem template
        (``languages.base.ProgramTemplate``) fills in one file per sample through this, tens of
        thousands a second; Program checks nothing at construction, so nothing is skipped."""
        p = _new(Program)
        state = p.__dict__
        state.update(self.__dict__)
        state["files"], state["env"], state["judge_files"] = files, dict(self.env), dict(self.judge_files)
        return p


@dataclass(frozen=True)
class Job:
    """One program to judge. ``hash_seed``: the PYTHONHASHSEED every process of the job runs with
    (0 to 2**32-1), decided by the host from the sample's identity (``scoring.hash_seed_of``) so a
    re-run hashes, iterates sets and so judges the same; None: the runner's fixed one (0)."""

    id: str
    program: Program
    limits: Limits = Limits()
    hash_seed: int | None = None

    def __post_init__(self) -> None:
        _check_hash_seed(self.hash_seed)

    @classmethod
    def of(cls, id: str, program: Program, limits: Limits, hash_seed: int | None) -> Job:
        """``Job(id, program, limits, hash_seed)`` with the same check, without the frozen
        dataclass's guarded setattr per field (the hot path builds one job per sample, tens of
        thousands a second; ``program`` and ``limits`` were checked when they were made)."""
        _check_hash_seed(hash_seed)
        job = _new(cls)
        job.__dict__.update(id=id, program=program, limits=limits, hash_seed=hash_seed)
        return job

    def to_wire(self) -> dict[str, Any]:
        d = asdict(self)
        d["program"]["files"] = dict(self.program.files)
        d["program"]["env"] = dict(self.program.env)
        d["program"]["judge_files"] = dict(self.program.judge_files)
        return d


def _check_hash_seed(seed: int | None) -> None:
    if seed is not None and not 0 <= seed < 1 << 32:
        raise ValueError(f"hash_seed must be in [0, 2**32), got {seed}")


TIMEOUT_KINDS = ("cpu", "wall")


@dataclass(frozen=True)
class Outcome:
    """A verdict. ``timeout``: for a TIMEOUT, the limit it hit: "cpu" (the job's CPU time, or one
    process's RLIMIT_CPU; load cannot cause it) or "wall" (the wall clock: code that sleeps or
    blocks, judged alone first when it may have been starved); "" otherwise or unknown (results
    from before 0.x). ``cpu_s``: the job's CPU seconds as the runner saw them (0.0: not measured)."""

    status: Status
    reason: str = ""
    stderr_tail: str = ""
    duration_s: float = 0.0
    timeout: str = ""
    cpu_s: float = 0.0

    def __post_init__(self) -> None:
        if self.timeout not in ("", *TIMEOUT_KINDS):
            raise ValueError(f"timeout kind must be one of {TIMEOUT_KINDS}, got {self.timeout!r}")
        if self.timeout and self.status is not Status.TIMEOUT:
            raise ValueError(f"a {self.status.value} outcome has no timeout kind")

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Outcome:
        cpu_s = d.get("cpu_s", 0.0)
        if isinstance(cpu_s, bool) or not isinstance(cpu_s, (int, float)) or not cpu_s >= 0:
            raise ValueError(f"bad cpu_s {cpu_s!r}")
        return cls(
            Status(d["status"]),
            d.get("reason", ""),
            d.get("stderr_tail", ""),
            d.get("duration_s", 0.0),
            d.get("timeout", ""),
            float(cpu_s),
        )


@runtime_checkable
class Executor(Protocol):
    """Runs jobs and yields (job id, outcome) as they finish, in any order.

    Implementations bound every wait, retry infrastructure failures themselves, and release what
    they hold in ``close`` (also on errors and Ctrl-C). A sharded executor (e.g. on Ray) implements the
    same protocol by splitting ``jobs``.
    """

    name: str

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]: ...

    def describe(self) -> dict[str, Any]:
        """What judges here, as plain data: recorded in a run's manifest and summary, and part of
        what a resume must match (a verdict from another sandbox is not the same verdict)."""
        ...

    def close(self) -> None: ...


def judge_sha256() -> str:
    """sha256 over the source of everything that turns a completion into a verdict: the runner and
    its drivers (``sandbox/runner``) and the language specs with their judges and harness files
    (``languages``, all files, recursively). A harness change that could change a verdict changes
    this hash."""
    h = hashlib.sha256()

    def walk(node: Any, name: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name == "__pycache__" or child.name.endswith(".pyc"):
                continue
            if child.is_dir():
                walk(child, f"{name}/{child.name}")
            else:
                h.update(f"{name}/{child.name}\0".encode())
                h.update(child.read_bytes())

    for package in ("humaneval_lab.sandbox.runner", "humaneval_lab.languages"):
        walk(resources.files(package), package)
    h.update(resources.files("humaneval_lab.execution").joinpath("base.py").read_bytes())
    return h.hexdigest()
