"""Connecting to a Ray cluster and choosing the nodes that judge.

A node judges when it declares the custom resource ``RESOURCE`` (``ray start
--resources='{"humaneval_lab_sandbox": 1}'``: it has a Docker engine and the sandbox image). A
cluster where no node declares it is taken to be uniform: every alive node with CPUs judges. Either
way one actor per node, pinned there by node affinity, so never two sandboxes on one node.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from humaneval_lab.distributed.sandboxes import NodeInfo
from humaneval_lab.errors import BackendUnavailableError, EnvironmentProblem

RESOURCE = "humaneval_lab_sandbox"
INSTALL_HINT = "pip install 'humaneval-lab[ray]'"
# Ray Client's proxier starts one server per driver, and that server intermittently dies as it
# starts (a fork race in gRPC, ray-project/ray#63202): the driver then sees "Initialization failure
# from server". A fresh try gets a fresh server, so a ray:// connection is tried this many times.
CLIENT_TRIES = 3
CLIENT_RETRY_S = 1.0


def import_ray() -> ModuleType:
    """``ray``, or the one line that says how to get it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise BackendUnavailableError(f"--ray needs Ray: {INSTALL_HINT}") from None


def connect(address: str) -> ModuleType:
    """Join the cluster at ``address`` (``auto``: the one this machine belongs to) as a driver; a
    driver already connected (a test, a notebook) is reused. Returns the ``ray`` module."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    _probe(address)
    # Ray's core logs warnings to this process's stderr (e.g. no route to the internet to guess
    # its own address); the user's terminal is for one-line errors and progress.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
    tries = CLIENT_TRIES if address.startswith("ray://") else 1
    for attempt in range(1, tries + 1):
        try:
            # log_to_driver off: workers' logs stay on their nodes; our console is for the run's progress.
            with _core_log_kept_off_stderr():
                ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
            return ray
        except ConnectionError as exc:
            if attempt == tries or "Initialization failure from server" not in str(exc):
                raise EnvironmentProblem(f"cannot connect to the Ray cluster at {address}: {exc}") from None
            time.sleep(CLIENT_RETRY_S)
    raise AssertionError("unreachable")  # the loop returns or raises


# A line of Ray's C++ core log, at level INFO or WARNING: "[2026-12-07 03:10:12,064 W 25078 25078] ...".
_CORE_NOISE = re.compile(rb"^\[[0-9-]+ [0-9:,]+ [IW] \d+ \d+\] ")


@contextlib.contextmanager
def _core_log_kept_off_stderr() -> Iterator[None]:
    """While a driver joins, Ray's C++ core writes to file descriptor 2 itself, before it reads
    RAY_BACKEND_LOG_LEVEL (that it read it is one such line; a machine without a route to the
    internet adds "Failed to determine local IP"): the user's stderr is for one-line errors and
    progress. What it writes meanwhile goes to a file; its INFO and WARNING lines are dropped, any
    other line is passed on."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().splitlines(keepends=True) if not _CORE_NOISE.match(line)]
            if kept:
                sys.stderr.write(b"".join(kept).decode(errors="replace"))
                sys.stderr.flush()


def _probe(address: str) -> None:
    """A HOST:PORT where nothing answers fails in seconds (``ray.init`` would retry for minutes)."""
    if address == "auto" or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise EnvironmentProblem(f"cannot connect to the Ray cluster at {address}: {why}") from None


def _info(node: dict[str, Any]) -> NodeInfo:
    res = node.get("Resources", {})
    return NodeInfo(
        node_id=node["NodeID"],
        address=node.get("NodeManagerAddress", "?"),
        cpus=max(1, int(res.get("CPU", 1))),
        resources={k: float(v) for k, v in res.items() if not k.startswith("node:")},
    )


def judging_nodes(ray: ModuleType) -> list[NodeInfo]:
    """The alive nodes that judge (see the module docstring), in node-id order (stable in logs)."""
    alive = [n for n in ray.nodes() if n.get("Alive")]
    marked = [n for n in alive if n.get("Resources", {}).get(RESOURCE, 0) > 0]
    chosen = marked or [n for n in alive if n.get("Resources", {}).get("CPU", 0) > 0]
    return sorted((_info(n) for n in chosen), key=lambda i: i.node_id)
