"""``sample --ray --replicas N``: engine replicas as Ray actors, work items dealt dynamically.

Each replica is an actor holding one engine (``make_backend`` of the chosen backend, ``num_gpus`` =
the tensor-parallel size for vllm, a CPU for hf). The driver deals work items (one prompt with its
missing sample indices and their seeds) one call at a time, at most two calls in flight per replica,
so a fast replica takes more. A sample's seed is its own (derived from run seed, task and index),
so its text does not depend on which replica drew it. A replica that dies (its node lost, the actor
killed) loses nothing: the items of its unanswered calls are dealt again to the others, and a
generation that arrives twice is dropped by (task_id, sample_index). ``sample()`` stays the only
writer, exactly as without Ray.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from humaneval_lab.distributed.cluster import connect
from humaneval_lab.errors import InfrastructureError, UserInputError
from humaneval_lab.sampling.base import EngineConfig, Generation, SamplingConfig, WorkItem

RAY_BACKENDS = ("hf", "vllm", "fake")  # openai: a server scales itself


class Replica:
    """The actor's class: one engine (``ray.remote`` is applied by the driver)."""

    def __init__(self, backend: str, engine: EngineConfig) -> None:
        from humaneval_lab.sampling import make_backend

        self.backend = make_backend(backend, engine)

    def describe(self) -> dict[str, Any]:
        return self.backend.describe()

    def generate(self, items: list[WorkItem], config: SamplingConfig) -> list[Generation]:
        return list(self.backend.generate(items, config))

    def close(self) -> None:
        self.backend.close()


@dataclass
class _Replica:
    actor: Any
    calls: dict[Any, list[WorkItem]] = field(default_factory=dict)  # ObjectRef -> its items


class RayBackend:
    """The Backend protocol over ``replicas`` engine actors (see the module docstring).

    ``describe()`` is the engine's own, so a ``--ray`` run and a plain one resume each other.
    """

    def __init__(
        self,
        backend: str,
        engine: EngineConfig,
        replicas: int,
        address: str = "auto",
        *,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        check_backend(backend)
        if replicas < 1:
            raise UserInputError(f"--replicas must be at least 1, got {replicas}")
        self.name = backend
        self.ray = connect(address)
        self.on_event = on_event or (lambda _msg: None)
        gpus = engine.tensor_parallel_size if backend == "vllm" else 0
        remote = self.ray.remote(Replica).options(
            num_cpus=0 if gpus else 1, num_gpus=gpus, max_restarts=0, scheduling_strategy="SPREAD"
        )
        self.replicas = [_Replica(remote.remote(backend, engine)) for _ in range(replicas)]
        self.lost: list[str] = []
        self.duplicates_dropped = 0
        self._describe: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        if self._describe is None:
            self._describe = self.ray.get(self.replicas[0].actor.describe.remote())
        return self._describe

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        ray = self.ray
        todo: collections.deque[WorkItem] = collections.deque(items)
        seen: set[tuple[str, int]] = set()
        live = list(self.replicas)
        while True:
            for r in live:  # deal: one item a call, two calls in flight per replica
                while todo and len(r.calls) < 2:
                    item = todo.popleft()
                    r.calls[r.actor.generate.remote([item], config)] = [item]
            owners = {ref: r for r in live for ref in r.calls}
            if not owners:
                if todo:
                    raise InfrastructureError(
                        f"every engine replica was lost ({self.lost[-1] if self.lost else '?'}); "
                        "re-run the same command to resume"
                    )
                return
            ready, _ = ray.wait(list(owners), num_returns=1)
            for ref in ready:
                r = owners[ref]
                dealt = r.calls.pop(ref)
                try:
                    gens: list[Generation] = ray.get(ref)
                except Exception as exc:  # the replica (or its node) died: deal its items again
                    live.remove(r)
                    again = [it for items_ in r.calls.values() for it in items_] + dealt
                    r.calls.clear()
                    try:
                        ray.kill(r.actor, no_restart=True)  # a replica only unreachable must not go on
                    except Exception:
                        pass
                    todo.extendleft(reversed(again))
                    why = " ".join(str(exc).split())[:200]
                    self.lost.append(why)
                    self.on_event(
                        f"ray: an engine replica was lost ({type(exc).__name__}); {len(again)} items dealt again"
                    )
                    continue
                for gen in gens:
                    key = (gen.task_id, gen.index)
                    if key in seen:
                        self.duplicates_dropped += 1
                        continue
                    seen.add(key)
                    yield gen

    def close(self) -> None:
        for r in self.replicas:
            try:
                self.ray.get(r.actor.close.remote(), timeout=60)
            except Exception:
                pass
            try:
                self.ray.kill(r.actor, no_restart=True)
            except Exception:
                pass


def check_backend(backend: str) -> None:
    """--ray with a backend that a server scales (openai): one line."""
    if backend not in RAY_BACKENDS:
        raise UserInputError(
            f"--ray does not apply to the {backend} backend: a server scales itself; drop --ray"
        )
