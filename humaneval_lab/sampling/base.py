"""The seam between the harness and a generation engine.

A backend receives ``WorkItem``s (one prompt, the sample indices still to generate for it, and one
seed per index) and yields one ``Generation`` per (task, index) in any order, as they finish. It
knows nothing about output files, resume or stop-sequence truncation: ``run.sample`` does those.
Work items are independent, so a data-parallel driver can split them across engine replicas.

Seeds are derived per (run seed, task_id, sample index), never shared by the samples of a prompt:
an engine given the same seed for every request gives every prompt the same random stream, and a
resumed run must regenerate exactly the samples a killed run did not write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from humaneval_lab.errors import UserInputError
from humaneval_lab.problems import Problem


class SamplingConfigError(UserInputError):
    """A sampling or engine setting is out of range."""


@dataclass(frozen=True)
class SamplingConfig:
    """What to generate: every field changes the samples and is recorded in the manifest."""

    n: int = 1
    temperature: float = 0.8
    top_p: float = 0.95
    top_k: int = 0  # 0: off
    max_new_tokens: int = 512
    seed: int = 0
    prompt_mode: str = "raw"  # "raw": continue the prompt; "chat": ask an instruct model, extract code
    extra_stops: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        def bad(msg: str) -> SamplingConfigError:
            return SamplingConfigError(msg)

        if not isinstance(self.n, int) or self.n < 1:
            raise bad(f"n must be a positive integer, got {self.n!r}")
        if not 0.0 <= self.temperature <= 2.0:
            raise bad(f"temperature must be in [0, 2], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise bad(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise bad(f"top_k must be 0 (off) or positive, got {self.top_k}")
        if self.max_new_tokens < 1:
            raise bad(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if not 0 <= self.seed < 2**63:
            raise bad(f"seed must be in [0, 2**63), got {self.seed}")
        if self.prompt_mode not in ("raw", "chat"):
            raise bad(f"prompt mode must be 'raw' or 'chat', got {self.prompt_mode!r}")
        if any(not s for s in self.extra_stops):
            raise bad("stop sequences must not be empty")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["extra_stops"] = list(self.extra_stops)
        return d


def derive_seed(run_seed: int, task_id: str, index: int) -> int:
    """A 63-bit seed for one sample, stable across runs, machines and Python versions."""
    h = hashlib.sha256(f"humaneval-lab\0{run_seed}\0{task_id}\0{index}".encode()).digest()
    return int.from_bytes(h[:8], "big") >> 1


@dataclass(frozen=True)
class WorkItem:
    """One prompt and the samples still wanted for it.

    ``prompt`` is the text to continue (raw mode: the problem's prompt exactly, no stripping);
    ``messages`` is set in chat mode and backends turn it into the model's own chat format.
    ``stops`` are passed to the engine where it supports them; the harness applies them again.
    """

    problem: Problem
    prompt: str
    indices: tuple[int, ...]
    seeds: tuple[int, ...]
    stops: tuple[str, ...] = ()
    messages: tuple[Mapping[str, str], ...] | None = None

    def __post_init__(self) -> None:
        assert len(self.indices) == len(self.seeds), "one seed per sample index"

    @property
    def task_id(self) -> str:
        return self.problem.task_id


@dataclass(frozen=True)
class Generation:
    """One finished sample as the engine returned it (before the harness truncates it)."""

    task_id: str
    index: int
    text: str
    finish_reason: str  # "stop" (EOS or a stop sequence), "length", or the engine's own word
    tokens: int = 0  # generated tokens, when the engine says
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A generation engine. Implementations import their heavy dependencies inside methods."""

    name: str

    def describe(self) -> dict[str, Any]:
        """What identifies this engine's output: model (path and hash), engine options, versions.

        Recorded in the manifest; a resume is refused when it differs.
        """
        ...

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        """Yield one Generation per (item, index) as each finishes, in any order."""
        ...

    def close(self) -> None:
        """Release the engine (GPU memory, threads, connections)."""
        ...
