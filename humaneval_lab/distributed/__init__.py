"""Scale-out on an existing Ray cluster (``score --ray``): one sandbox actor per node, one driver.

The CLI process stays the driver and the only writer; Ray is imported only when one of these is
used, and ``ray`` is the optional extra ``humaneval-lab[ray]``.

- ``cluster``: connect (``auto`` or ``HOST:PORT``) and find the nodes that may judge;
- ``membership``: admit nodes (image, canaries) at the start and when they join mid-run;
- ``node``: the per-node actor owning that node's sandbox (a ``DockerExecutor``, jobs = its CPUs);
- ``dispatch``: ``RayExecutor``, the Executor that leases chunks of jobs to the nodes' actors, made of
  ``pool`` (the nodes held: losses, exclusions, joins, the wait for a node still in admission),
  ``leases`` (each job exactly once under node loss) and ``every_node`` (calibration's broadcast);
- ``sampling``: ``RayBackend``, engine replicas as actors (``sample --ray``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from humaneval_lab.distributed.cluster import INSTALL_HINT, RESOURCE, connect, import_ray
from humaneval_lab.distributed.dispatch import RayExecutor
from humaneval_lab.distributed.sandboxes import DockerOnNode, FakeOnNode, NodeInfo
from humaneval_lab.problems import Problem

__all__ = [
    "INSTALL_HINT",
    "RESOURCE",
    "DockerOnNode",
    "FakeOnNode",
    "NodeInfo",
    "RayExecutor",
    "connect",
    "import_ray",
    "ray_executor",
]


def ray_executor(
    address: str,
    *,
    image: str | None = None,
    pin_cpus: bool = True,
    problems: Iterable[Problem] = (),
    on_event: Callable[[str], None] | None = None,
    build_images: bool = False,
) -> RayExecutor:
    """``score --ray``: the Docker sandbox on every judging node of the cluster at ``address``, its
    canaries in the languages of ``problems``; ``build_images``: a node without the image builds it
    (``--ray-build-sandbox``), else it is refused. Without Ray installed: BackendUnavailableError
    with the line that installs it."""
    import_ray()
    ps = tuple(problems)
    factory = DockerOnNode(image=image, pin_cpus=pin_cpus, problems=ps)
    languages = sorted({p.language for p in ps}) or ["python"]
    return RayExecutor(
        address, factory=factory, languages=languages, on_event=on_event, build_images=build_images
    )
