"""The lease loop: every job judged exactly once, on whichever node has room, whatever nodes are lost.

Leases. Work is pulled from the caller's iterable only when a node has room, so the driver holds
at most what is in flight. A node is kept ``2 x its CPUs + a chunk`` deep (more than its executor
holds in flight, so its queue does not run dry while work remains); the chunk adapts to the node's
measured rate (about one second of its work, 8 to 4,096: each call to a node costs the driver about
a millisecond), so fast nodes take more (``pool.Node``).

Exactly once. Every job in flight is owned by one node. When a node's actor dies (the node was
lost, the actor was killed, its sandbox broke) or answers nothing for ``stall_s`` while it holds
work, it is dropped and its unfinished jobs go back to the front of the queue, to run elsewhere. A
verdict is accepted only from the node that owns the job at that moment, so one that arrives twice
(or from a node already given up on) is dropped and counted in ``duplicates_dropped``. With no node
left the run waits (bounded) for a node still being admitted, e.g. one building its image; with
none, or none admitted in time, it fails (InfrastructureError, exit 3) and re-running resumes, as
without Ray. Nodes that join mid-run take leases from the next round on (``pool.join``).
"""

from __future__ import annotations

import collections
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from humaneval_lab.distributed.node import Compact, pack, unpack
from humaneval_lab.distributed.pool import POLL_S, Node, NodePool, one_line
from humaneval_lab.errors import InfrastructureError


def lease(
    pool: NodePool, units: Iterable[Any], ident: Callable[[Any], str], submit: str, catalog: Any = None
) -> Iterator[list[Compact]]:
    """Lease ``units`` (jobs or items; ``ident`` gives each one's job id) to ``pool``'s nodes by
    their actors' method ``submit``, and yield each job's verdict once (see the module docstring),
    the verdicts of one answer of a node together. ``catalog``: the run's ``JobCatalog`` in Ray's
    store, for an items run (a node that joins gets it before its first lease)."""
    ray = pool.ray
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

    def lose(node: Node, why: str) -> None:
        said = f"lost ({why}); {len(node.inflight)} jobs leased again"
        requeued.extendleft(reversed(list(node.inflight.values())))
        node.inflight.clear()
        pool.remove(node, pool.lost, said, why)

    now = time.monotonic()
    for node in pool.nodes:
        node.last_answer = now
    while True:
        pool.join(catalog)
        leased = True
        while leased:  # lease: one chunk per node per round, so a small run spreads over all
            leased = False
            for node in pool.nodes:
                if len(node.inflight) < node.depth():
                    chunk = take(node.chunk())
                    if chunk:
                        leased = True
                        node.inflight.update(zip(map(ident, chunk), chunk, strict=True))
                        # a failure shows on its poll
                        getattr(node.actor, submit).remote(pack(chunk))
        for node in pool.nodes:
            if node.inflight and node.poll is None:
                node.poll = node.actor.poll.remote(POLL_S)
        if exhausted and not requeued and not any(n.inflight for n in pool.nodes):
            return
        if not pool.nodes and pool.await_admission(catalog):
            continue
        if not pool.nodes:
            left = len(requeued)
            raise InfrastructureError(
                f"every Ray node was lost ({pool.lost[-1][1] if pool.lost else 'none admitted'}); "
                f"{left}+ jobs unjudged; re-run the same command to resume"
            )
        polls = {n.poll: n for n in pool.nodes if n.poll is not None}
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
                lose(node, one_line(exc))
                continue
            if answers:
                dt = max(now - node.last_answer, 1e-3)
                node.rate = 0.7 * node.rate + 0.3 * (len(answers) / dt) if node.rate else len(answers) / dt
                node.last_answer = now
            inflight = node.inflight
            # Only the jobs this node owns now: one not its own (any more) was judged elsewhere.
            mine = [answer for answer in answers if inflight.pop(answer[0], None) is not None]
            pool.duplicates_dropped += len(answers) - len(mine)
            node.judged += len(mine)
            if mine:
                yield mine
        for node in list(pool.nodes):  # a node that holds work and says nothing is lost
            if node.inflight and now - node.last_answer > pool.stall_s:
                lose(node, f"no verdict for {pool.stall_s:.0f} s")
