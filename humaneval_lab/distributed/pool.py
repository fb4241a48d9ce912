"""The driver's judging nodes: which hold work, and what becomes of one that is lost, excluded or joins.

``NodePool`` holds the admitted nodes (``Node``: its actor, its sandbox, the work it holds, its
measured rate), the lost and the excluded ones with why, and the admission of the others
(membership.py). The lease loop (leases.py) and calibration (every_node.py) both drive one pool: a
node is dropped, recorded and its actor killed only here, so both see the same record, and
``describe`` (dispatch.py) reports it.

Admission. Before it takes work each node proves itself: the same judge and image recipe as the
driver expects, every language's known-good and known-bad programs judged right. A node that fails
is excluded, loudly (``on_event`` and ``excluded``); a run with no admitted node is refused. Nodes
that join the cluster mid-run (or finish building their image) are admitted by the same checks
(``join``) and take work from then on (in a ``run_items`` run, once they hold the run's catalog). A
node given a run's catalog must also run the same job and result-line code as the driver
(``scoring_sha256``), or it is excluded. With no node left, ``await_admission`` waits (bounded) for
a node still being admitted, e.g. one building its image.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from humaneval_lab.distributed.membership import Admitted, Membership
from humaneval_lab.distributed.sandboxes import NodeFactory, NodeInfo
from humaneval_lab.scoring.jobs import scoring_sha256

MIN_CHUNK, MAX_CHUNK = 8, 4096
POLL_S = 0.5  # how long one poll may wait in the actor for a first verdict
LOAD_TIMEOUT_S = 300.0  # how long a node may take to receive a run's problems


@dataclass
class Node:
    """An admitted node as the driver sees it."""

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
        """How many jobs one lease carries: about one second of this node's measured work."""
        guess = self.rate if self.rate > 0 else 2 * self.info.cpus
        return int(min(MAX_CHUNK, max(MIN_CHUNK, guess)))

    def depth(self) -> int:
        """How many jobs it may hold: more than its executor has in flight, so it never runs dry."""
        return 2 * self.info.cpus + self.chunk()


class NodePool:
    """The run's nodes (see the module docstring). Admits the nodes that judge from the start
    (``Membership.start``: EnvironmentProblem when none passes); ``stall_s``: a node that holds work
    and answers nothing this long is lost."""

    def __init__(
        self,
        ray: Any,
        factory: NodeFactory,
        languages: Sequence[str],
        *,
        on_event: Callable[[str], None],
        stall_s: float,
        build: bool,
        admit_timeout_s: float,
        build_timeout_s: float,
    ) -> None:
        self.ray, self.on_event, self.stall_s = ray, on_event, stall_s
        self.lost: list[tuple[str, str]] = []  # (node, why)
        self.duplicates_dropped = 0  # verdicts that came from a node that no longer owned their job
        self.members = Membership(ray, factory, languages, build=build, on_event=on_event, kill=self.kill_actor,
                                  one_line=one_line)  # fmt: skip
        self.excluded = self.members.excluded
        self.nodes = [
            Node(a.info, a.actor, a.sandbox, built=a.built)
            for a in self.members.start(admit_timeout_s, build_timeout_s)
        ]

    def kill_actor(self, actor: Any) -> None:
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # already gone with its node
            pass

    def remove(self, node: Node, record: list[tuple[str, str]], said: str, why: str) -> None:
        """Drop ``node``: recorded in ``record`` with ``why``, ``said`` on stderr, its actor killed
        (a node only unreachable must not go on judging)."""
        if node in self.nodes:
            self.nodes.remove(node)
        record.append((node.info.name, why))
        self.on_event(f"ray: node {node.info.name} {said}")
        self.kill_actor(node.actor)

    def give_up(self, node: Node, why: str) -> None:
        """A node lost outside a run's leases (calibration): dropped, said, its actor killed."""
        self.remove(node, self.lost, f"lost ({why})", why)

    def drop(self, node: Node, why: str) -> None:
        """Exclude an admitted node before it takes any of the run's work."""
        self.remove(node, self.excluded, f"EXCLUDED: {why}", why)

    def load_catalog(self, nodes: list[Node], blob: Any) -> None:
        """Hand each node the run's catalog (one object in Ray's store, fetched once per node) and
        wait for it, so no lease can overtake it; a node that failed, or that runs other scoring
        code (which could word a result line otherwise), is excluded with why."""
        refs = [(node, node.actor.load.remote(blob)) for node in nodes]
        failed, ours = [], scoring_sha256()
        for node, ref in refs:
            try:
                theirs = self.ray.get(ref, timeout=LOAD_TIMEOUT_S)
            except Exception as exc:  # RayActorError (node lost meanwhile), timeout
                failed.append((node, f"it could not take the run's problems: {one_line(exc)}"))
                continue
            if theirs != ours:
                failed.append((node, f"its scoring code differs ({str(theirs)[:12]}, driver {ours[:12]})"))
        for node, why in failed:
            self.drop(node, why)

    def join(self, catalog: Any, admitted: list[Admitted] | None = None) -> None:
        """Nodes that joined or finished building (``members.tick()``, or ``admitted``) take work
        from now on; in an items run (``catalog``: the run's in Ray's store) once they hold its
        catalog."""
        joined = [
            Node(a.info, a.actor, a.sandbox, last_answer=time.monotonic(), built=a.built)
            for a in (self.members.tick() if admitted is None else admitted)
        ]
        self.nodes.extend(joined)
        if catalog is not None and joined:
            self.load_catalog(joined, catalog)

    def await_admission(self, catalog: Any) -> bool:
        """No node left to judge: wait (bounded) for a node still being admitted, e.g. one that
        builds its image (``members.await_admission``), rather than end the run or the
        calibration. Whether a node judges now."""
        while not self.nodes and self.members.candidates:
            self.join(catalog, self.members.await_admission())
        return bool(self.nodes)

    def close(self) -> None:
        """End every actor: those being admitted, and the nodes' (after their sandboxes closed)."""
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
            self.kill_actor(node.actor)
        self.nodes = []


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_line(exc: BaseException) -> str:
    """One line for a log: a remote traceback's last line (the error raised there), else the text."""
    lines = [ln.strip() for ln in _ANSI.sub("", str(exc)).splitlines() if ln.strip()]
    if len(lines) > 1 and any("Traceback" in ln or ln.startswith("File ") for ln in lines):
        return f"{type(exc).__name__}: ... {lines[-1][:300]}"
    return f"{type(exc).__name__}: {' '.join(' '.join(lines).split())[:300]}"
