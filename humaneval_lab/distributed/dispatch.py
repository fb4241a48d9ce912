"""``RayExecutor``: the driver's side. It leases chunks of work to one sandbox actor per node and
yields the verdicts, each job id exactly once, to ``score()`` (which writes results in order).

What is leased. ``score()`` calls ``run_items`` (scoring.jobs.ItemExecutor): each node first gets the
run's ``JobCatalog`` (problems, limits, settings) once, then leases of small items (a sample's key,
task, completion, seed, and what its result line needs); the node builds each job and its result
line with the same code the driver would use, so the driver builds no program and encodes no line
(it carries every sample of the run; the nodes share the work). ``run`` leases jobs built by the
caller (calibration, other callers); ``run_on_every_node`` runs jobs on every node (calibration).

The parts: ``pool.NodePool`` holds the nodes (admission, joins, losses, exclusions, the wait for a
node still being admitted); ``leases.lease`` is the loop that judges each job exactly once under
node loss; ``every_node.on_every_node`` runs every job on every node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from humaneval_lab.distributed.cluster import connect
from humaneval_lab.distributed.every_node import on_every_node
from humaneval_lab.distributed.leases import lease
from humaneval_lab.distributed.membership import sandbox_identity
from humaneval_lab.distributed.node import expand, expand_with_line, pack
from humaneval_lab.distributed.pool import Node, NodePool
from humaneval_lab.distributed.sandboxes import DockerOnNode, NodeFactory
from humaneval_lab.execution.base import Job, Outcome
from humaneval_lab.scoring.jobs import Item, JobCatalog


def _job_id(job: Job) -> str:
    return job.id


def _item_id(item: Item) -> str:
    return item[0]


class RayExecutor:
    """The Executor protocol over a Ray cluster (see the module docstring).

    ``address``: ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT`` (ignored when this process is
    already connected). ``factory`` makes each node's executor (default: the Docker sandbox);
    ``languages``: the run's, each node's canaries. ``stall_s``: a node holding work that answers
    nothing this long is lost. ``build_images``: a node without the sandbox image builds it (else
    it is refused); nodes that join the cluster mid-run are admitted (after their checks) and take
    work (pool.py, membership.py). ``nodes``, ``lost``, ``excluded`` and ``duplicates_dropped``
    say how the run went.
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
        self.languages = tuple(sorted(set(languages)))
        self.pool = NodePool(self.ray, factory or DockerOnNode(), self.languages,
                             on_event=on_event or (lambda _msg: None), stall_s=stall_s, build=build_images,
                             admit_timeout_s=admit_timeout_s, build_timeout_s=build_timeout_s)  # fmt: skip

    @property
    def nodes(self) -> list[Node]:
        """The nodes judging now."""
        return self.pool.nodes

    @property
    def lost(self) -> list[tuple[str, str]]:
        """(node, why) of each node lost on the way."""
        return self.pool.lost

    @property
    def excluded(self) -> list[tuple[str, str]]:
        """(node, why) of each node refused: at admission, or when it took the run's catalog."""
        return self.pool.excluded

    @property
    def duplicates_dropped(self) -> int:
        """Verdicts dropped because their job was no longer the answering node's."""
        return self.pool.duplicates_dropped

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        """Jobs built by the caller, leased as they are (calibration, canaries, any caller)."""
        return (expand(answer) for answers in lease(self.pool, jobs, _job_id, "submit") for answer in answers)

    def run_items(
        self, catalog: JobCatalog, items: Iterable[Item]
    ) -> Iterator[list[tuple[str, Outcome, str]]]:
        """``score()``'s path (scoring.jobs.ItemExecutor): every node gets ``catalog`` once, then
        leases of items; it builds their jobs and makes their result lines itself, so the driver
        builds no program and encodes no line. Yields the verdicts of each node's answer as one
        batch (the driver then writes what is ready once per batch, not once per verdict)."""
        blob = self.ray.put(pack(catalog))
        self.pool.load_catalog(list(self.pool.nodes), blob)
        return (
            [*map(expand_with_line, answers)]
            for answers in lease(self.pool, items, _item_id, "submit_items", blob)
        )

    def run_on_every_node(self, jobs: Sequence[Job]) -> Iterator[tuple[str, Outcome]]:
        """Every job on every node (calibration, scoring.calibrate.EveryNode; every_node.py)."""
        return on_every_node(self.pool, jobs)

    def describe(self) -> dict[str, Any]:
        """The nodes' common sandbox (what a verdict depends on) and the nodes that judge."""
        nodes = self.pool.nodes
        common = sandbox_identity(nodes[0].sandbox) if nodes else {}
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
                for n in nodes
            ],  # fmt: skip
            "excluded": [{"node": name, "why": why} for name, why in self.pool.excluded],
        }

    def status(self) -> str:
        """One progress line: nodes alive (and joining: checking or building), jobs in flight."""
        joining = len(self.pool.members.candidates)
        nodes = f"{len(self.pool.nodes)} nodes" + (f" (+{joining} joining)" if joining else "")
        return f"{nodes}, {sum(len(n.inflight) for n in self.pool.nodes)} in flight"

    def close(self) -> None:
        self.pool.close()
