"""Every job on every node: calibration's broadcast (scoring.calibrate.EveryNode).

Calibrated limits must be fair on the slowest machine that may judge a problem, so each admitted
node runs every canonical solution and the caller keeps the largest time of each. Nothing is
leased again here: a node lost meanwhile is dropped (as in a run) and its answers so far stand.
When every node is lost while another is still being admitted (checking its canaries, or building
its image), calibration waits for it, bounded, exactly as a run does (``NodePool.await_admission``:
one line on stderr), and each node admitted then runs every job; with none, or none in time, it
fails (InfrastructureError, exit 3) and re-running resumes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from humaneval_lab.distributed.node import Compact, expand, pack, unpack
from humaneval_lab.distributed.pool import POLL_S, Node, NodePool, one_line
from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Job, Outcome


def on_every_node(pool: NodePool, jobs: Sequence[Job]) -> Iterator[tuple[str, Outcome]]:
    """Every job on each of ``pool``'s nodes (see the module docstring): yields (job id, outcome)
    once per job per node, as the nodes finish them."""
    ray = pool.ray
    blob = pack(list(jobs))
    pending: dict[str, set[str]] = {}
    by_id: dict[str, Node] = {}

    def start(nodes: list[Node]) -> None:
        for node in nodes:
            node.actor.submit.remote(blob)
            by_id[node.info.node_id] = node
            pending[node.info.node_id] = {job.id for job in jobs}
            node.last_answer = time.monotonic()

    start(pool.nodes)
    polls: dict[Any, Node] = {}
    while True:
        if not pool.nodes and pool.await_admission(None):
            start(pool.nodes)  # every node was lost; these were admitted since
        for node_id, left in pending.items():
            node = by_id[node_id]
            if left and node in pool.nodes and node not in polls.values():
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
                pool.give_up(node, one_line(exc))
                left.clear()
                continue
            if answers:
                node.last_answer = now
            for answer in answers:
                if answer[0] in left:
                    left.discard(answer[0])
                    yield expand(answer)
        for node in list(pool.nodes):
            if pending.get(node.info.node_id) and now - node.last_answer > pool.stall_s:
                pool.give_up(node, f"no verdict for {pool.stall_s:.0f} s")
                pending[node.info.node_id].clear()
                polls = {ref: n for ref, n in polls.items() if n is not node}
    if not pool.nodes:
        raise InfrastructureError(
            "every Ray node was lost while the limits were calibrated; re-run to resume"
        )
