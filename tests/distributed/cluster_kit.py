"""What the cluster scenarios share (they run inside a network namespace of their own, see
cluster_child.py): a local Ray cluster, a node killed as a machine dies,
an action when a results file reaches a line count, the CLI in a child process, and the removal of
the sandbox containers a killed node left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BROKEN = "hel_test_broken"  # a node that declares it fails its canaries (FakeOnNode.broken_resource)
HANG = "hel_test_hang"  # a node that declares it goes silent when asked (FakeOnNode.hang_resource)


def lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_node(cluster: Any, node: Any) -> None:
    """Remove ``node`` as a machine dies: every process under its raylet (its workers, so its actors)
    is SIGKILLed, then the node is removed. ``remove_node`` alone kills the raylet, and an actor's
    process can outlive it long enough to finish and return the work it holds, so the run would
    never see the loss the test is about."""
    import psutil
    from ray._private import ray_constants

    raylet = node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process
    for child in psutil.Process(raylet.pid).children(recursive=True):
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    cluster.remove_node(node, allow_graceful=False)


def kill_node_noting(cluster: Any, node: Any, out: Path, killed_at: list[int]) -> None:
    """``kill_node``, then note how many lines ``out`` had."""
    kill_node(cluster, node)
    killed_at.append(lines(out))


def when_lines(path: Path, at: int, action: Callable[[], None], timeout_s: float = 300) -> threading.Thread:
    """Call ``action`` once ``path`` has ``at`` complete lines (a watcher thread)."""

    def watch() -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if lines(path) >= at:
                action()
                return
            time.sleep(0.01)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def local_cluster(**head: Any) -> Any:
    """A ``ray.cluster_utils.Cluster`` on loopback, its head started with ``head`` (its files go
    under RAY_TMPDIR, a dir of this scenario's own: see cluster_child)."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"include_dashboard": False, **head})
    assert cluster.address.startswith("127.0.0.1:"), cluster.address  # loopback only
    return cluster


def start_cluster(broken_worker: bool) -> tuple[Any, list[Any]]:
    """Head + 2 workers, 1 CPU each, every one a judging node; worker 1 declares HANG, worker 2
    BROKEN when ``broken_worker`` (FakeOnNode's hang_resource and broken_resource)."""
    res = {"humaneval_lab_sandbox": 1}
    cluster = local_cluster(num_cpus=1, resources=res)
    workers = [
        cluster.add_node(num_cpus=1, resources={**res, HANG: 1}),
        cluster.add_node(num_cpus=1, resources={**res, BROKEN: 1} if broken_worker else res),
    ]
    cluster.wait_for_nodes()
    return cluster, workers


def cli(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "humaneval_lab.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def finish(p: subprocess.Popen[bytes], timeout: float = 400) -> dict[str, Any]:
    out, err = p.communicate(timeout=timeout)
    return {"rc": p.returncode, "stdout": out.decode()[-3000:], "stderr": err.decode()[-3000:]}


def _dead(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False
    return False


def remove_our_orphans(before: set[str]) -> int:
    """Sandbox containers this scenario made whose owner (a node actor's process, killed with its
    node) is dead: the product reaps them at its next start; a test cleans up after itself now."""
    import docker.errors

    from humaneval_lab.execution.docker import OWNER_LABEL, RUN_LABEL, docker_client

    client = docker_client()
    removed = 0
    try:
        # sparse: no inspect per container, which fails if another run removes one meanwhile
        for c in client.containers.list(all=True, sparse=True, filters={"label": RUN_LABEL}):
            if c.id not in before and _dead((c.attrs.get("Labels") or {}).get(OWNER_LABEL, "0")):
                try:
                    c.remove(force=True)
                    removed += 1
                except docker.errors.NotFound:  # reaped meanwhile by a run's start
                    pass
    finally:
        client.close()
    return removed
