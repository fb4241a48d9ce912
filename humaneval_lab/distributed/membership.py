"""Which nodes judge: admission at the start, and nodes that join (or finish building) mid-run.

Each judging node (``cluster.judging_nodes``) gets one sandbox actor, pinned there, that must prove
itself before it takes work (``NodeSandbox.admit``): the same judging code and image recipe as the
driver expects, every canary of the run's languages judged right, the same sandbox as the nodes
already admitted. A node that fails is excluded, loudly, with its name and why.

A node without the sandbox image is refused (named, with the missing tag) unless the run allows
building it (``--ray-build-sandbox``): then the node builds it (``sandbox build``: minutes, once)
and is admitted after, while the others already judge. The start of a run waits for every node
that is not building (bounded), and for a first admitted node. When every admitted node is lost
while a node is still being admitted (checking, or building), the run waits for it (bounded,
``await_admission``) instead of ending.

``tick`` is the dispatch loop's hook: every ``interval_s`` it looks for nodes that joined the
cluster, and it hands over the nodes whose admission has finished since the last call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from humaneval_lab.distributed.cluster import judging_nodes
from humaneval_lab.distributed.node import Admission, NodeSandbox
from humaneval_lab.distributed.sandboxes import NodeFactory, NodeInfo, image_missing_line
from humaneval_lab.errors import EnvironmentProblem
from humaneval_lab.execution.base import judge_sha256

JOIN_INTERVAL_S = 3.0  # how often a running dispatch loop asks the cluster for new nodes
PROBE_TIMEOUT_S = 120.0  # an actor that cannot even say whether its image exists is excluded


@dataclass
class Admitted:
    info: NodeInfo
    actor: Any
    sandbox: dict[str, Any]
    built: str = ""  # the image it built before judging ("" if none)


@dataclass
class _Candidate:
    info: NodeInfo
    actor: Any
    since: float
    probe: Any = None  # ObjectRef of missing_image(), until answered
    check: Any = None  # ObjectRef of admit(), once asked
    building: str = ""  # the image tag it builds first


def sandbox_identity(d: dict[str, Any]) -> dict[str, Any]:
    """What must be equal on every node: all of describe() but the local image id (an image built
    from the same recipe on two machines has two ids)."""
    return {k: v for k, v in d.items() if k != "image_id"}


def _identity_key(d: dict[str, Any]) -> str:
    """``sandbox_identity(d)`` as one comparable string."""
    return repr(sorted(sandbox_identity(d).items()))


def expected_recipe() -> str | None:
    try:
        from humaneval_lab.sandbox_image import recipe_hash, sandbox_dir

        return recipe_hash(sandbox_dir())
    except Exception:  # no recipe beside this install: nothing to compare against
        return None


def wrong_identity(d: dict[str, Any], judge: str, recipe: str | None) -> str:
    if "judge_sha256" in d and d["judge_sha256"] != judge:
        return f"its judging code differs (judge {str(d['judge_sha256'])[:12]}, driver {judge[:12]})"
    if recipe and "recipe" in d and d["recipe"] != recipe:
        return (f"its sandbox image {d.get('image')} is from another recipe ({str(d['recipe'])[:12]}, "
                f"expected {recipe[:12]}); run `humaneval-lab sandbox build` on it")  # fmt: skip
    return ""


class Membership:
    """The run's judging nodes over time (see the module docstring). ``kill`` ends an actor
    (shared with the dispatch loop, which drops lost nodes)."""

    def __init__(
        self,
        ray: Any,
        factory: NodeFactory,
        languages: Sequence[str],
        *,
        build: bool = False,
        on_event: Callable[[str], None],
        kill: Callable[[Any], None],
        interval_s: float = JOIN_INTERVAL_S,
        one_line: Callable[[BaseException], str] = lambda e: f"{type(e).__name__}: {e}",
    ) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.ray, self.factory, self.languages, self.build = ray, factory, list(languages), build
        self.on_event, self.kill, self.interval_s, self.one_line = on_event, kill, interval_s, one_line
        self._affinity = NodeAffinitySchedulingStrategy
        self._remote = ray.remote(NodeSandbox)
        self.known: set[str] = set()  # node ids given an actor (once per run, whatever came of it)
        self.candidates: list[_Candidate] = []
        self.excluded: list[tuple[str, str]] = []
        self.identity: str | None = None  # the admitted nodes' common sandbox (repr), once known
        self.expected = (judge_sha256(), expected_recipe())
        self._last_look = 0.0
        self.admit_timeout_s, self.build_timeout_s = 900.0, 7200.0  # set by start()

    # ------------------------------------------------------------------------------ start

    def start(self, timeout_s: float, build_timeout_s: float = 7200.0) -> list[Admitted]:
        """The nodes admitted at the start of a run: waits for every node not building its image
        (at most ``timeout_s``) and for at least one admitted node (building ones: at most
        ``build_timeout_s``). EnvironmentProblem when none is."""
        self.admit_timeout_s, self.build_timeout_s = timeout_s, build_timeout_s
        if not self.look():
            raise EnvironmentProblem("the Ray cluster has no alive node with CPUs to judge on")
        admitted: list[Admitted] = []
        started = time.monotonic()
        while True:
            waiting = [c for c in self.candidates if not c.building]
            if not waiting and (admitted or not self.candidates):
                break
            limit = timeout_s if waiting else build_timeout_s
            if time.monotonic() - started > limit:
                for c in waiting if waiting else list(self.candidates):
                    self._exclude(c, f"no answer to its admission in {limit:.0f} s")
                continue
            admitted += self.settle(wait_s=1.0)
        if not admitted:
            first = self.excluded[0][1] if self.excluded else "none"
            raise EnvironmentProblem(f"no Ray node passed its sandbox checks (first: {first})")
        identities = {_identity_key(a.sandbox) for a in admitted}
        if len(identities) > 1:
            raise EnvironmentProblem("the Ray nodes' sandboxes differ (image or limits); rebuild them alike")
        self.identity = identities.pop()  # a node admitted later must have the same
        building = len(self.candidates)
        self.on_event(f"ray: {len(admitted)} node(s) admitted, {sum(a.info.cpus for a in admitted)} CPUs"
                      + (f"; {building} building their sandbox image" if building else ""))  # fmt: skip
        return admitted

    # ------------------------------------------------------------------------------ mid-run

    def tick(self, wait_s: float = 0.0) -> list[Admitted]:
        """The dispatch loop's hook: look for new nodes every ``interval_s``; the nodes admitted
        since the last call (cheap when nothing changed: no wait unless ``wait_s``, one cluster
        query per interval)."""
        now = time.monotonic()
        if now - self._last_look >= self.interval_s:
            for info in self.look():
                self.on_event(f"ray: node {info.name} joined; checking its sandbox")
        if not self.candidates:
            return []
        out = self.settle(wait_s=wait_s)
        for a in out:
            how = f" after building {a.built}" if a.built else ""
            self.on_event(f"ray: node {a.info.name} admitted{how}, {a.info.cpus} CPUs")
        return out

    def await_admission(self) -> list[Admitted]:
        """Every admitted node was lost while others are still being admitted: wait for one of
        them rather than end the run, and say so (one line). The wait is bounded by ``start``'s
        timeouts, counted from now: the build timeout while a node builds its image, else the
        admission timeout; nodes that join the cluster meanwhile count too. The nodes admitted
        (``[]`` when none is left to wait for, or the time ran out: those still in admission
        are then excluded, named)."""
        if not self.candidates:
            return []
        names = ", ".join(
            c.info.name + (f" (building {c.building})" if c.building else "") for c in self.candidates
        )
        self.on_event(f"ray: every admitted node was lost; waiting for {len(self.candidates)} node(s) "
                      f"still being admitted: {names}")  # fmt: skip
        started = time.monotonic()
        while self.candidates:
            limit = self.build_timeout_s if any(c.building for c in self.candidates) else self.admit_timeout_s
            if time.monotonic() - started > limit:
                for c in list(self.candidates):
                    self._exclude(c, f"not admitted {limit:.0f} s after every other node was lost")
                break
            admitted = self.tick(wait_s=1.0)
            if admitted:
                return admitted
        return []

    def look(self) -> list[NodeInfo]:
        """Give every judging node not seen before an actor, and ask whether it has its image."""
        self._last_look = time.monotonic()
        new = [info for info in judging_nodes(self.ray) if info.node_id not in self.known]
        for info in new:
            self.known.add(info.node_id)
            # num_cpus=0: the actor only feeds its sandbox; the node's CPUs are the containers'.
            actor = self._remote.options(
                num_cpus=0,
                max_concurrency=4,
                max_restarts=0,
                scheduling_strategy=self._affinity(info.node_id, soft=False),
            ).remote(self.factory, info)
            self.candidates.append(
                _Candidate(info, actor, time.monotonic(), probe=actor.missing_image.remote())
            )
        return new

    def settle(self, wait_s: float) -> list[Admitted]:
        """Take in the candidates' answers (waiting up to ``wait_s`` for a first one); the nodes
        admitted by them."""
        refs = {(c.check if c.probe is None else c.probe): c for c in self.candidates}
        ready, _ = self.ray.wait(list(refs), num_returns=1, timeout=wait_s)
        if ready:
            ready, _ = self.ray.wait(list(refs), num_returns=len(refs), timeout=0)
        admitted = []
        now = time.monotonic()
        for ref in ready:
            c = refs[ref]
            if c.probe is not None:
                self._probed(c)
            else:
                a = self._checked(c)
                if a is not None:
                    admitted.append(a)
        for c in [c for c in self.candidates if c.probe is not None and now - c.since > PROBE_TIMEOUT_S]:
            self._exclude(c, f"its actor did not answer in {PROBE_TIMEOUT_S:.0f} s")
        return admitted

    def _probed(self, c: _Candidate) -> None:
        ref, c.probe = c.probe, None
        try:
            tag = str(self.ray.get(ref))
        except Exception as exc:  # the actor could not start, or the node has no Docker engine
            self._exclude(c, f"its sandbox did not start: {self.one_line(exc)}")
            return
        if tag and not self.build:
            self._exclude(c, image_missing_line(tag))
            return
        if tag:
            c.building = tag
            self.on_event(f"ray: node {c.info.name} builds sandbox image {tag}; it judges once that is done")
        c.check = c.actor.admit.remote(self.languages, self.build)

    def _checked(self, c: _Candidate) -> Admitted | None:
        try:
            answer: Admission = self.ray.get(c.check)
        except Exception as exc:  # the actor could not start its sandbox (or build its image)
            self._exclude(c, f"its sandbox did not start: {self.one_line(exc)}")
            return None
        why = wrong_identity(answer.sandbox, *self.expected)
        wrong = [f"{lang} known-{case} got {got}" for lang, case, ok, got in answer.verdicts if not ok]
        identity = _identity_key(answer.sandbox)
        if not why and not wrong and self.identity is not None and identity != self.identity:
            why = "its sandbox differs from the other nodes' (image or limits)"
        if why or wrong:
            self._exclude(c, why or "canaries judged wrong: " + "; ".join(wrong))
            return None
        self.candidates.remove(c)
        if answer.built:
            self.on_event(
                f"ray: node {c.info.name} built sandbox image {answer.built} in {answer.build_s:.0f} s"
            )
        return Admitted(c.info, c.actor, answer.sandbox, answer.built)

    def _exclude(self, c: _Candidate, why: str) -> None:
        self.candidates.remove(c)
        self.excluded.append((c.info.name, why))
        self.on_event(f"ray: node {c.info.name} EXCLUDED: {why}")
        self.kill(c.actor)

    def close(self) -> None:
        """End the actors of nodes still being checked or building."""
        for c in self.candidates:
            self.kill(c.actor)
        self.candidates = []
