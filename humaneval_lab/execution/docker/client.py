"""The one way this package reaches Docker, and what its failures mean.

docker-py raises its own tree (``docker.errors.DockerException``: ``APIError`` with ``NotFound`` and
``ImageNotFound`` under it), and under it requests (``RequestException``, an ``OSError``) and bare
sockets (``OSError``) leak through. ``map_docker_errors`` turns all of them into the library's tree
in one place:

- before the daemon has answered (``unavailable=True``: connecting, inspecting the image), any
  failure means Docker is not usable here: ``DockerUnavailableError``, exit 2, with the fix;
- after that, a failure is the infrastructure's (a daemon hiccup, a container gone):
  ``InfrastructureError``, exit 3, retry; except a missing image, which no retry will bring back.

Also here: the labels every sandbox container carries, and the sweep of containers left by runs
whose owner process died.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from humaneval_lab.errors import DockerUnavailableError, HumanEvalLabError, InfrastructureError

RUN_LABEL = "org.humaneval-lab.run"
OWNER_LABEL = "org.humaneval-lab.owner-pid"
HOST_LABEL = "org.humaneval-lab.owner-host"
FIX = "run `humaneval-lab sandbox build`"
START_FIX = "install Docker and start it (e.g. `sudo systemctl start docker`), or use --sandbox local for trusted code"


def docker_errors() -> tuple[type[BaseException], ...]:
    """What a docker-py call may raise: its own errors, requests' and the socket's (OSError).

    For the few best-effort calls (teardown) that catch them without mapping; each says why.
    """
    import docker.errors
    import requests

    return (docker.errors.DockerException, requests.RequestException, OSError)


def _explain(exc: BaseException) -> str:
    """One short line about ``exc``: the daemon's own explanation when it gave one."""
    text = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
    line = str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {line[:200]}"


@contextmanager
def map_docker_errors(doing: str, *, unavailable: bool = False) -> Iterator[None]:
    """Run the block; re-raise what Docker raised in it as the library's error (see the module doc).

    ``doing`` completes "cannot ..." ("start a sandbox container"). Errors of the library's own
    tree and anything that is not Docker's (a bug, Ctrl-C) pass through unchanged. The original
    error is chained (``HUMANEVAL_LAB_DEBUG=1`` shows it).
    """
    import docker.errors

    try:
        yield
    except HumanEvalLabError:
        raise
    except docker.errors.ImageNotFound as exc:
        raise DockerUnavailableError(
            f"cannot {doing}: the image is missing ({_explain(exc)}); {FIX}"
        ) from exc
    except docker_errors() as exc:
        if unavailable:
            raise DockerUnavailableError(f"cannot {doing} ({_explain(exc)}); {START_FIX}") from exc
        raise InfrastructureError(f"Docker failed to {doing}: {_explain(exc)}") from exc


def docker_client(timeout: int = 60) -> Any:
    """A connected Docker client, or DockerUnavailableError saying how to fix it. The only factory:
    the executor and ``sandbox build`` both get their client here."""
    try:
        import docker
    except ImportError:
        raise DockerUnavailableError("the 'docker' Python package is missing: pip install docker") from None
    with map_docker_errors("reach the Docker daemon", unavailable=True):
        client = docker.from_env(timeout=timeout)
        try:
            client.ping()
        except BaseException:
            client.close()
            raise
    return client


def require_image(client: Any, image: str) -> None:
    """DockerUnavailableError unless the engine has ``image``. Never pulls: a missing sandbox is
    built from its recipe, not fetched from wherever the tag happens to point."""
    import docker.errors

    try:
        with map_docker_errors(f"inspect sandbox image {image}", unavailable=True):
            client.images.get(image)
    except DockerUnavailableError as exc:
        if not isinstance(exc.__cause__, docker.errors.ImageNotFound):
            raise
        # Name the tag: the default one changes with the recipe's hash, and --image or the environment
        # may ask for another, so a bare `sandbox build` would not always make the image asked for.
        raise DockerUnavailableError(
            f"sandbox image {image} is missing: build it with `humaneval-lab sandbox build --tag {image}`"
        ) from exc.__cause__


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def run_labels(run_id: str) -> dict[str, str]:
    """The labels of this process's containers: which run, which owner (pid and host)."""
    return {RUN_LABEL: run_id, OWNER_LABEL: str(os.getpid()), HOST_LABEL: socket.gethostname()}


def remove_stale_containers(client: Any) -> int:
    """Remove containers left by runs on this host whose owner process is dead (e.g. SIGKILLed).

    Containers of another host (a shared engine) are never touched: their owner's pid means
    nothing here. Returns how many were removed.
    """
    import docker.errors

    removed = 0
    host = socket.gethostname()
    with map_docker_errors("list sandbox containers", unavailable=True):
        # sparse: the list call's own data, no inspect per container. Without it docker-py inspects
        # each one, and a container another run removes meanwhile fails the whole sweep (NotFound).
        found = client.containers.list(all=True, filters={"label": RUN_LABEL}, sparse=True)
    for c in found:
        labels = c.attrs.get("Labels") or {}
        try:
            owner = int(labels.get(OWNER_LABEL, "0"))
        except ValueError:
            owner = 0
        if labels.get(HOST_LABEL, host) != host or (owner and _pid_alive(owner)):
            continue
        try:
            c.remove(force=True)
            removed += 1
        except docker.errors.APIError:
            pass  # gone already, or being removed by another run's sweep (409): either way, not ours to do
    return removed
