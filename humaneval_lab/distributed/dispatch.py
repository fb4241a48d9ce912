"""``RayExecutor``: the driver's side. It leases chunks of work to one sandbox actor per node and
yields the verdicts, each job id exactly once, to ``score()`` (which writes results in order).

What is leased. ``score()`` calls ``run_items`` (scoring.jobs.ItemExecutor): each node first gets the
run's ``JobCatalog`` (problems, limits, settings) once, then leases of small items (a sample's key,
task, completion, seed, and what its result line needs); the node builds each job and its result
line with the same code the driver would use, so the driver builds no program and encodes no line
(it carries every sample of the run; the nodes share the work). ``run`` leases jobs built by the
caller (calibration, other callers); ``run_on_every_node`` runs jobs on every node (calibration).

Leases. Work is pulled from the caller's iterable only when a node has room, so the driver holds
at most what is in flight. A node is kept ``2 x its CPUs + a chunk`` deep (more than its executor
holds in flight, so its queue does not run dry while work remains); the chunk adapts to the node's
measured rate (about one second of its work, 8 to 4,096: each call to a node costs the driver about
a millisecond), so fast nodes take more.

Exactly once. Every job in flight is owned by one node. When a node's actor dies (the node was
lost, the actor was killed, its sandbox broke) or answers nothing for ``stall_s`` while it holds
work, it is dropped and its unfinished jobs go back to the front of the queue, to run elsewhere. A
verdict is accepted only from the node that owns the job at that moment, so one that arrives twice
(or from a node already given up on) is dropped and counted in ``duplicates_dropped``. With no node
left the run waits (bounded) for a node still being admitted, e.g. one building its image; with
none, or none admitted in time, it fails (InfrastructureError, exit 3) and re-running resumes, as
without Ray.

Admission (membership.py). Before it takes work each node proves itself: the same judge and image
recipe as the driver expects, every language's known-good and known-bad programs judged right. A
node that fails is excluded, loudly (``on_event`` and ``excluded``); a run with no admitted node is
refused. Nodes that join the cluster mid-run (or finish building their image) are admitted by the
same checks from the lease loop's ``members.tick()`` and take work from then on (in a ``run_items``
run, once they hold the run's catalog). A node given a run's catalog must also run the same job and
result-line code as the driver (``scoring_sha256``), or it is excluded.
"""

from __future__ import annotations

import collections
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from humaneval_lab.distributed.cluster import connect
from humaneval_lab.distributed.membership import Admitted, Membership, sandbox_identity
from humaneval_lab.distributed.node import Compact, expand, expand_with_line, pack, unpack
from humaneval_lab.distributed.sandboxes import DockerOnNode, NodeFactory, NodeInfo
from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Job, Outcome
from humaneval_lab.scoring.jobs import Item, JobCatalog, scoring_sha256

MIN_CHUNK, MAX_CHUNK = 8, 4096
POLL_S = 0.5  # how long one poll may wait in the actor for a first verdict
LOAD_TIMEOUT_S = 300.0  # how long a node may take to receive a run's problems


def _job_id(job: Job) -> str:
    return job.id


def _item_id(item: Item) -> str:
    return item[0]


@dataclass
class _Node:
    info: NodeInfo
    actor: Any
    sandbox: dict[str, Any] = field(default_factory=dict)
    inflight: dict[str, Any] = field(default_factory=dict)  # job id -> its job or item
    poll: Any = None  # the outstanding poll's ObjectRef
    last_answer: float = 0.0
    rate: float = 0.0  # verdicts per second, smoothed
    judged: int = 0
    built: str = ""  # the sandbox image it built before judging

    def chunk(self) -> int:
        guess = self.rate if self.rate > 0 else 2 * self.info.cpus
        return int(min(MAX_CHUNK, max(MIN_CHUNK, guess)))

    def depth(self) -> int:
        return 2 * self.info.cpus + self.chunk()


class RayExecutor:
    """The Executor protocol over a Ray cluster (see the module docstring).

    ``address``: ``auto`` or ``HOST:PORT`` (ignored when this process is already connected).
    ``factory`` makes each node's executor (default: the Docker sandbox); ``languages``: the run's,
    each node's canaries. ``stall_s``: a node holding work that answers nothing this long is lost.
    ``build_images``: a node without the sandbox image builds it (else it is refused); nodes that
    join the cluster mid-run are admitted (after their checks) and take work (membership.py).
    """

    name = "ray"

    def __init__(
        self,
        address: str = "auto",
        *,
        factory: NodeFactory | None = None,
        languages: Sequence[str] = ("python",),
        stall_s: float = 600.0,
        admit_timeout_s: float = 900.0,
        on_event: Callable[[str], None] | None = None,
        build_images: bool = False,
        build_timeout_s: float = 7200.0,
    ) -> None:
        self.ray = connect(address)
        self.factory: NodeFactory = factory or DockerOnNode()
        self.languages = tuple(sorted(set(languages)))
        self.stall_s = stall_s
        self.on_event = on_event or (lambda _msg: None)
        self.nodes: list[_Node] = []
        self.lost: list[tuple[str, str]] = []  # (node, why)
        self.excluded: list[tuple[str, str]] = []
        self.duplicates_dropped = 0
        self._admit(admit_timeout_s, build_images, build_timeout_s)

    # ------------------------------------------------------------------------------ admission

    def _admit(self, timeout_s: float, build: bool, build_timeout_s: float) -> None:
        """The nodes that judge from the start (membership.py; nodes joining later: ``run``)."""
        self.members = Membership(self.ray, self.factory, self.languages, build=build,
                                  on_event=self.on_event, kill=self._kill_actor, one_line=_one_line)  # fmt: skip
        self.excluded = self.members.excluded
        self.nodes = [
            _Node(a.info, a.actor, a.sandbox, built=a.built)
            for a in self.members.start(timeout_s, build_timeout_s)
        ]

    def _kill(self, node: _Node) -> None:
        self._kill_actor(node.actor)

    def _kill_actor(self, actor: Any) -> None:
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # already gone with its node
            pass

    # ------------------------------------------------------------------------------ leases

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        """Jobs built by the caller, leased as they are (calibration, canaries, any caller)."""
        return (expand(answer) for answers in self._lease(jobs, _job_id, "submit") for answer in answers)

    def run_items(
        self, catalog: JobCatalog, items: Iterable[Item]
    ) -> Iterator[list[tuple[str, Outcome, str]]]:
        """``score()``'s path (scoring.jobs.ItemExecutor): every node gets ``catalog`` once, then
        leases of items; it builds their jobs and makes their result lines itself, so the driver
        builds no program and encodes no line. Yields the verdicts of each node's answer as one
        batch (the driver then writes what is ready once per batch, not once per verdict)."""
        blob = self.ray.put(pack(catalog))
        for node, error in self._load_catalog(list(self.nodes), blob):
            self._drop(node, error)
        return (
            [*map(expand_with_line, answers)]
            for answers in self._lease(items, _item_id, "submit_items", blob)
        )

    def run_on_every_node(self, jobs: Sequence[Job]) -> Iterator[tuple[str, Outcome]]:
        """Every job on every node (calibration, scoring.calibrate.EveryNode): yields (job id,
        outcome) once per job per node, as the nodes finish them. A node lost meanwhile is dropped
        (as in a run) and its answers so far stand; nothing is leased again. When every node is lost
        while another is still being admitted (e.g. building its image), calibration waits for it,
        bounded, as a run does (``_await_admission``), and the nodes admitted then run every job."""
        ray = self.ray
        blob = pack(list(jobs))
        pending: dict[str, set[str]] = {}
        by_id: dict[str, _Node] = {}

        def start(nodes: list[_Node]) -> None:
            for node in nodes:
                node.actor.submit.remote(blob)
                by_id[node.info.node_id] = node
                pending[node.info.node_id] = {job.id for job in jobs}
                node.last_answer = time.monotonic()

        start(self.nodes)
        polls: dict[Any, _Node] = {}
        while True:
            if not self.nodes and self._await_admission(None):
                start(self.nodes)  # every node was lost; these were admitted since
            for node_id, left in pending.items():
                node = by_id[node_id]
                if left and node in self.nodes and node not in polls.values():
                    polls[node.actor.poll.remote(POLL_S)] = node
            if not polls:  # every node is done, or every node with work left was lost
                break
            ready, _ = ray.wait(list(polls), num_returns=1, timeout=POLL_S * 4)
            now = time.monotonic()
            for ref in ready:
                node = polls.pop(ref)
                left = pending[node.info.node_id]
                try:
                    answers: list[Compact] = unpack(ray.get(ref))
                except Exception as exc:  # RayActorError (node or actor lost), or its sandbox failed
                    self._give_up(node, _one_line(exc))
                    left.clear()
                    continue
                if answers:
                    node.last_answer = now
                for answer in answers:
                    if answer[0] in left:
                        left.discard(answer[0])
                        yield expand(answer)
            for node in list(self.nodes):
                if pending.get(node.info.node_id) and now - node.last_answer > self.stall_s:
                    self._give_up(node, f"no verdict for {self.stall_s:.0f} s")
                    pending[node.info.node_id].clear()
                    polls = {ref: n for ref, n in polls.items() if n is not node}
        if not self.nodes:
            raise InfrastructureError(
                "every Ray node was lost while the limits were calibrated; re-run to resume"
            )

    def _give_up(self, node: _Node, why: str) -> None:
        """A node lost outside a run's leases: dropped, said, its actor killed."""
        self._remove(node, self.lost, f"lost ({why})", why)

    def _remove(self, node: _Node, record: list[tuple[str, str]], said: str, why: str) -> None:
        if node in self.nodes:
            self.nodes.remove(node)
        record.append((node.info.name, why))
        self.on_event(f"ray: node {node.info.name} {said}")
        self._kill(node)

    def _load_catalog(self, nodes: list[_Node], blob: Any) -> list[tuple[_Node, str]]:
        """Hand each node the run's catalog (one object in Ray's store, fetched once per node) and
        wait for it, so no lease can overtake it; the nodes that failed or run other scoring code
        (which could word a result line otherwise), with why."""
        refs = [(node, node.actor.load.remote(blob)) for node in nodes]
        failed, ours = [], scoring_sha256()
        for node, ref in refs:
            try:
                theirs = self.ray.get(ref, timeout=LOAD_TIMEOUT_S)
            except Exception as exc:  # RayActorError (node lost meanwhile), timeout
                failed.append((node, f"it could not take the run's problems: {_one_line(exc)}"))
                continue
            if theirs != ours:
                failed.append((node, f"its scoring code differs ({str(theirs)[:12]}, driver {ours[:12]})"))
        return failed

    def _drop(self, node: _Node, why: str) -> None:
        """Exclude an admitted node before it takes any of the run's work."""
        self._remove(node, self.excluded, f"EXCLUDED: {why}", why)

    def _join(self, catalog: Any, admitted: list[Admitted] | None = None) -> None:
        """Nodes that joined or finished building (``members.tick()``, or ``admitted``) take work
        from now on; in an items run (``catalog``: the run's in Ray's store) once they hold its
        catalog."""
        joined = [
            _Node(a.info, a.actor, a.sandbox, last_answer=time.monotonic(), built=a.built)
            for a in (self.members.tick() if admitted is None else admitted)
        ]
        self.nodes.extend(joined)
        if catalog is not None and joined:
            for node, error in self._load_catalog(joined, catalog):
                self._drop(node, error)

    def _await_admission(self, catalog: Any) -> bool:
        """No node left to judge: wait (bounded) for a node still being admitted, e.g. one that
        builds its image (``members.await_admission``), rather than end the run. Whether a node
        judges now."""
        while not self.nodes and self.members.candidates:
            self._join(catalog, self.members.await_admission())
        return bool(self.nodes)

    def _lease(
        self, units: Iterable[Any], ident: Callable[[Any], str], submit: str, catalog: Any = None
    ) -> Iterator[list[Compact]]:
        """Lease ``units`` (jobs or items; ``ident`` gives each one's job id) to the nodes by their
        actors' method ``submit``, and yield each job's verdict once (see the module docstring), the
        verdicts of one answer of a node together."""
        ray = self.ray
        source = iter(units)
        exhausted = False
        requeued: collections.deque[Any] = collections.deque()

        def take(n: int) -> list[Any]:
            nonlocal exhausted
            chunk: list[Any] = []
            while requeued and len(chunk) < n:
                chunk.append(requeued.popleft())
            if not exhausted and len(chunk) < n:
                chunk.extend(itertools.islice(source, n - len(chunk)))
                exhausted = len(chunk) < n
            return chunk

        def lose(node: _Node, why: str) -> None:
            self.nodes.remove(node)
            self.lost.append((node.info.name, why))
            self.on_event(f"ray: node {node.info.name} lost ({why}); {len(node.inflight)} jobs leased again")
            requeued.extendleft(reversed(list(node.inflight.values())))
            node.inflight.clear()
            self._kill(node)

        now = time.monotonic()
        for node in self.nodes:
            node.last_answer = now
        while True:
            self._join(catalog)
            leased = True
            while leased:  # lease: one chunk per node per round, so a small run spreads over all
                leased = False
                for node in self.nodes:
                    if len(node.inflight) < node.depth():
                        chunk = take(node.chunk())
                        if chunk:
                            leased = True
                            node.inflight.update(zip(map(ident, chunk), chunk, strict=True))
                            # a failure shows on its poll
                            getattr(node.actor, submit).remote(pack(chunk))
            for node in self.nodes:
                if node.inflight and node.poll is None:
                    node.poll = node.actor.poll.remote(POLL_S)
            if exhausted and not requeued and not any(n.inflight for n in self.nodes):
                return
            if not self.nodes and self._await_admission(catalog):
                continue
            if not self.nodes:
                left = len(requeued)
                raise InfrastructureError(
                    f"every Ray node was lost ({self.lost[-1][1] if self.lost else 'none admitted'}); "
                    f"{left}+ jobs unjudged; re-run the same command to resume"
                )
            polls = {n.poll: n for n in self.nodes if n.poll is not None}
            ready, _ = ray.wait(list(polls), num_returns=1, timeout=POLL_S * 4)
            if ready:
                ready, _ = ray.wait(list(polls), num_returns=len(polls), timeout=0)
            now = time.monotonic()
            for ref in ready:
                node = polls[ref]
                node.poll = None
                try:
                    answers: list[Compact] = unpack(ray.get(ref))
                except Exception as exc:  # RayActorError (node or actor lost), or its sandbox failed
                    lose(node, _one_line(exc))
                    continue
                if answers:
                    dt = max(now - node.last_answer, 1e-3)
                    node.rate = (
                        0.7 * node.rate + 0.3 * (len(answers) / dt) if node.rate else len(answers) / dt
                    )
                    node.last_answer = now
                inflight = node.inflight
                # Only the jobs this node owns now: one not its own (any more) was judged elsewhere.
                mine = [answer for answer in answers if inflight.pop(answer[0], None) is not None]
                self.duplicates_dropped += len(answers) - len(mine)
                node.judged += len(mine)
                if mine:
                    yield mine
            for node in list(self.nodes):  # a node that holds work and says nothing is lost
                if node.inflight and now - node.last_answer > self.stall_s:
                    lose(node, f"no verdict for {self.stall_s:.0f} s")

    # ------------------------------------------------------------------------------ protocol

    def describe(self) -> dict[str, Any]:
        """The nodes' common sandbox (what a verdict depends on) and the nodes that judge."""
        common = sandbox_identity(self.nodes[0].sandbox) if self.nodes else {}
        return {
            "executor": self.name,
            "node_sandbox": common,
            "nodes": [
                {
                    "node": n.info.name,
                    "cpus": n.info.cpus,
                    "image_id": n.sandbox.get("image_id"),
                    **({"built_image": n.built} if n.built else {}),
                }
                for n in self.nodes
            ],  # fmt: skip
            "excluded": [{"node": name, "why": why} for name, why in self.excluded],
        }

    def status(self) -> str:
        """One progress line: nodes alive (and joining: checking or building), jobs in flight."""
        joining = len(self.members.candidates)
        nodes = f"{len(self.nodes)} nodes" + (f" (+{joining} joining)" if joining else "")
        return f"{nodes}, {sum(len(n.inflight) for n in self.nodes)} in flight"

    def close(self) -> None:
        self.members.close()
        refs = []
        for node in self.nodes:
            try:
                refs.append(node.actor.close.remote())
            except Exception:
                pass
        try:
            self.ray.wait(refs, num_returns=len(refs), timeout=60)
        except Exception:
            pass
        for node in self.nodes:
            self._kill(node)
        self.nodes = []


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(exc: BaseException) -> str:
    """One line for a log: a remote traceback's last line (the error raised there), else the text."""
    lines = [ln.strip() for ln in _ANSI.sub("", str(exc)).splitlines() if ln.strip()]
    if len(lines) > 1 and any("Traceback" in ln or ln.startswith("File ") for ln in lines):
        return f"{type(exc).__name__}: ... {lines[-1][:300]}"
    return f"{type(exc).__name__}: {' '.join(' '.join(lines).split())[:300]}"
