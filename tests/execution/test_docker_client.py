"""The Docker client seam without Docker: docker-py's real exception classes, raised by fakes.

What each failure means to a user (DockerUnavailableError: exit 2, fix it; InfrastructureError:
exit 3, retry) is decided by ``map_docker_errors`` alone; both ways of reaching Docker (the executor
and ``sandbox build``) go through the one factory.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

import docker
import docker.errors
import pytest
import requests

from humaneval_lab import sandbox_image
from humaneval_lab.errors import DockerUnavailableError, ExitCode, InfrastructureError, UserInputError
from humaneval_lab.execution import docker as docker_pkg
from humaneval_lab.execution.docker import client as client_mod
from humaneval_lab.execution.docker.client import (
    HOST_LABEL,
    OWNER_LABEL,
    RUN_LABEL,
    docker_client,
    map_docker_errors,
    remove_stale_containers,
    require_image,
)


def _api_error(
    status: int, explanation: str, cls: type[docker.errors.APIError] = docker.errors.APIError
) -> Any:
    response = requests.Response()
    response.status_code = status
    return cls(f"{status} Server Error", response=response, explanation=explanation)


MID_RUN = [
    (_api_error(500, "container create failed: cgroup busy"), "cgroup busy"),
    (_api_error(409, "removal already in progress", docker.errors.NotFound), "removal already"),
    (requests.exceptions.ReadTimeout("read timed out"), "ReadTimeout"),
    (requests.exceptions.ConnectionError("connection aborted"), "ConnectionError"),
    (BrokenPipeError(32, "Broken pipe"), "BrokenPipeError"),
    (docker.errors.DockerException("Error while fetching server API version"), "server API version"),
]


@pytest.mark.parametrize(
    "exc, says", MID_RUN, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else ""
)
def test_mid_run_failures_are_infrastructure_errors_exit_3(exc: Exception, says: str) -> None:
    with pytest.raises(InfrastructureError) as info, map_docker_errors("start a sandbox container"):
        raise exc
    message = str(info.value)
    assert message.startswith("Docker failed to start a sandbox container: ") and says in message
    assert "\n" not in message
    assert info.value.exit_code is ExitCode.INFRA
    assert info.value.__cause__ is exc  # HUMANEVAL_LAB_DEBUG=1 shows the original


@pytest.mark.parametrize(
    "exc, says", MID_RUN, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else ""
)
def test_before_the_daemon_answers_every_failure_means_docker_is_unusable_exit_2(
    exc: Exception, says: str
) -> None:
    with (
        pytest.raises(DockerUnavailableError) as info,
        map_docker_errors("reach the Docker daemon", unavailable=True),
    ):
        raise exc
    message = str(info.value)
    assert message.startswith("cannot reach the Docker daemon (") and says in message
    assert "systemctl start docker" in message and "--sandbox local" in message
    assert info.value.exit_code is ExitCode.USAGE


@pytest.mark.parametrize("unavailable", [False, True])
def test_a_missing_image_is_the_users_to_fix_even_mid_run(unavailable: bool) -> None:
    exc = _api_error(404, "No such image: hel:x", docker.errors.ImageNotFound)
    with pytest.raises(
        DockerUnavailableError, match="the image is missing .*No such image: hel:x.*sandbox build"
    ):
        with map_docker_errors("start a sandbox container", unavailable=unavailable):
            raise exc


@pytest.mark.parametrize("exc", [KeyError("a bug"), KeyboardInterrupt(), UserInputError("already ours")])
def test_what_is_not_dockers_passes_through_unchanged(exc: BaseException) -> None:
    with pytest.raises(type(exc)) as info, map_docker_errors("do anything"):
        raise exc
    assert info.value is exc


def test_nothing_raised_nothing_mapped() -> None:
    with map_docker_errors("do anything"):
        pass


# ----------------------------------------------------------------------------------- the factory


class _Client:
    """A docker.DockerClient stand-in: ``ping``/``images.get`` raise what they are given."""

    def __init__(self, ping: Exception | None = None, image: Exception | None = None) -> None:
        self._ping, self._image = ping, image
        self.closed = False
        self.images = self

    def ping(self) -> bool:
        if self._ping:
            raise self._ping
        return True

    def get(self, tag: str) -> object:
        if self._image:
            raise self._image
        return object()

    def close(self) -> None:
        self.closed = True


def test_an_engine_that_cannot_be_reached_is_one_line_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def from_env(**_: Any) -> Any:
        raise docker.errors.DockerException("Error while fetching server API version: connection refused")

    monkeypatch.setattr(docker, "from_env", from_env)
    with pytest.raises(
        DockerUnavailableError, match=r"^cannot reach the Docker daemon \(DockerException: Error"
    ):
        docker_client()


def test_a_daemon_that_does_not_answer_ping_closes_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _Client(ping=requests.exceptions.ConnectionError("refused"))
    monkeypatch.setattr(docker, "from_env", lambda **_: made)
    with pytest.raises(DockerUnavailableError, match="cannot reach the Docker daemon"):
        docker_client()
    assert made.closed


def test_a_healthy_daemon_gives_its_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _Client()
    monkeypatch.setattr(docker, "from_env", lambda **_: made)
    assert docker_client() is made and not made.closed


def test_the_executor_and_sandbox_build_reach_docker_through_the_one_factory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One patched ``docker.from_env``: both callers fail with the same error, the factory's."""
    calls: list[int] = []

    def from_env(**_: Any) -> Any:
        calls.append(1)
        raise requests.exceptions.ConnectionError("no socket")

    monkeypatch.setattr(docker, "from_env", from_env)
    errors = []
    for make in (
        lambda: docker_pkg.DockerExecutor(jobs=1, image="hel:x"),
        lambda: sandbox_image.build_image("hel:x"),
    ):
        with pytest.raises(DockerUnavailableError) as info:
            make()
        errors.append(str(info.value))
    assert calls == [1, 1]
    assert errors[0] == errors[1] and errors[0].startswith("cannot reach the Docker daemon (ConnectionError")


def test_require_image_names_the_tag_to_build() -> None:
    missing = _Client(image=_api_error(404, "No such image", docker.errors.ImageNotFound))
    with pytest.raises(DockerUnavailableError) as info:
        require_image(missing, "hel:abc")
    assert (
        str(info.value)
        == "sandbox image hel:abc is missing: build it with `humaneval-lab sandbox build --tag hel:abc`"
    )


def test_require_image_when_the_engine_fails_to_answer() -> None:
    broken = _Client(image=_api_error(500, "storage driver error"))
    with pytest.raises(
        DockerUnavailableError, match=r"^cannot inspect sandbox image hel:abc \(APIError: storage driver"
    ):
        require_image(broken, "hel:abc")
    require_image(_Client(), "hel:abc")  # present: no error


# ---------------------------------------------------------------------------------- stale sweep


class _Container:
    """A container as ``containers.list(sparse=True)`` returns it: the list call's attrs only."""

    def __init__(self, name: str, labels: dict[str, str], error: Exception | None = None) -> None:
        self.name, self.error, self.removed = name, error, False
        self.attrs = {"Id": name, "Labels": labels}

    @property
    def labels(self) -> dict[str, str]:
        # docker-py's sparse objects have no Config: .labels would need a reload (an inspect that
        # fails with NotFound when another run removed the container meanwhile).
        raise docker.errors.DockerException("Label data is not available for sparse objects.")

    def remove(self, force: bool = False) -> None:
        if self.error:
            raise self.error
        self.removed = True


class _Sweepable:
    def __init__(self, items: list[_Container] | Exception) -> None:
        self.items = items
        self.containers = self

    def list(
        self, all: bool = False, filters: dict[str, Any] | None = None, sparse: bool = False
    ) -> list[_Container]:
        assert all and filters == {"label": RUN_LABEL}
        assert sparse, (
            "without sparse, docker-py inspects every container: a concurrent removal fails the sweep"
        )
        if isinstance(self.items, Exception):
            raise self.items
        return self.items


def test_the_sweep_skips_a_container_another_run_is_removing() -> None:
    host = socket.gethostname()
    labels = {RUN_LABEL: "r", OWNER_LABEL: "0", HOST_LABEL: host}
    busy = _Container("busy", labels, _api_error(409, "removal of container busy is already in progress"))
    gone = _Container("gone", labels, _api_error(404, "No such container", docker.errors.NotFound))
    free = _Container("free", labels)
    assert remove_stale_containers(_Sweepable([busy, gone, free])) == 1
    assert free.removed and not busy.removed


def test_a_sweep_that_cannot_list_says_docker_is_unusable() -> None:
    with pytest.raises(DockerUnavailableError, match="cannot list sandbox containers"):
        remove_stale_containers(_Sweepable(requests.exceptions.ConnectionError("gone")))


def test_a_sweep_never_swallows_a_bug() -> None:
    host = socket.gethostname()
    broken = _Container("x", {RUN_LABEL: "r", OWNER_LABEL: "0", HOST_LABEL: host}, TypeError("a bug"))
    with pytest.raises(TypeError):
        remove_stale_containers(_Sweepable([broken]))


def test_docker_errors_covers_what_docker_py_raises() -> None:
    caught = client_mod.docker_errors()
    for exc in (
        docker.errors.DockerException(),
        _api_error(500, "x"),
        requests.exceptions.Timeout(),
        OSError(),
    ):
        assert isinstance(exc, caught)
    assert not isinstance(TypeError(), caught)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid  # reaped: no process has this pid now (pids are not reused this fast)


def test_only_dead_runs_of_this_host_are_removed() -> None:
    host, dead = socket.gethostname(), _dead_pid()
    items = [
        _Container("dead-here", {RUN_LABEL: "a", OWNER_LABEL: str(dead), HOST_LABEL: host}),
        _Container("alive-here", {RUN_LABEL: "b", OWNER_LABEL: str(os.getpid()), HOST_LABEL: host}),
        _Container("dead-elsewhere", {RUN_LABEL: "c", OWNER_LABEL: str(dead), HOST_LABEL: host + "-other"}),
        _Container("no-owner-here", {RUN_LABEL: "d", HOST_LABEL: host}),
        _Container("garbled-owner", {RUN_LABEL: "e", OWNER_LABEL: "x", HOST_LABEL: host}),
    ]
    assert remove_stale_containers(_Sweepable(items)) == 3
    assert {c.name for c in items if c.removed} == {"dead-here", "no-owner-here", "garbled-owner"}
