"""DockerExecutor's own failure paths with a fake engine (docker-py's real exception classes).

Starting, retrying and tearing down containers is where a daemon hiccup meets the run: each error
must end as the right library error, and no container may be left behind. (A real engine:
tests/sandbox/.)
"""

from __future__ import annotations

import os
from typing import Any

import docker.errors
import pytest
import requests

from humaneval_lab.errors import DockerUnavailableError, InfrastructureError
from humaneval_lab.execution import docker as docker_pkg
from humaneval_lab.execution.docker import DockerConfig, DockerExecutor
from humaneval_lab.execution.docker.pinning import CpuPinner


def _api_error(status: int, text: str, cls: type[docker.errors.APIError] = docker.errors.APIError) -> Any:
    response = requests.Response()
    response.status_code = status
    return cls(f"{status} error", response=response, explanation=text)


class _Image:
    id = "sha256:feed"
    labels = {"org.humaneval-lab.recipe": "abc123"}


class _Api:
    def __init__(self, create: list[Exception | None], attach: Exception | None = None) -> None:
        self.create, self.attach = create, attach
        self.created: list[str] = []
        self.removed: list[str] = []

    def create_host_config(self, **kw: Any) -> dict[str, Any]:
        return kw

    def create_container(self, image: str, **kw: Any) -> dict[str, str]:
        error = self.create.pop(0) if self.create else None
        if error:
            raise error
        cid = f"c{len(self.created)}"
        self.created.append(cid)
        return {"Id": cid}

    def attach_socket(self, cid: str, params: dict[str, int]) -> Any:
        if self.attach:
            raise self.attach
        raise AssertionError("these tests never get this far")

    def remove_container(self, cid: str, force: bool = False) -> None:
        self.removed.append(cid)


class _Engine:
    """A docker.DockerClient stand-in."""

    def __init__(self, api: _Api, info: Exception | None = None, listing: Exception | None = None) -> None:
        self.api, self._info, self._listing = api, info, listing
        self.images = self
        self.containers = self
        self.closed = False

    def get(self, tag: str) -> _Image:
        return _Image()

    def list(
        self, all: bool = False, filters: dict[str, Any] | None = None, sparse: bool = False
    ) -> list[Any]:
        if self._listing:
            raise self._listing
        return []

    def info(self) -> dict[str, Any]:
        if self._info:
            raise self._info
        return {"NCPU": 64}

    def close(self) -> None:
        self.closed = True
        raise OSError("the session's socket is gone")


def _executor(monkeypatch: pytest.MonkeyPatch, engine: _Engine, **config: Any) -> DockerExecutor:
    monkeypatch.setattr(docker_pkg, "docker_client", lambda: engine)
    monkeypatch.setattr("humaneval_lab.execution.docker.time.sleep", lambda _s: None)
    return DockerExecutor(config=DockerConfig(image="hel:x", **config))


def test_an_engine_that_will_not_say_its_cpus_falls_back_to_this_machines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ex = _executor(monkeypatch, _Engine(_Api([]), info=_api_error(500, "info unavailable")))
    assert ex.host_cpus == (os.cpu_count() or 1)
    assert _executor(monkeypatch, _Engine(_Api([]))).host_cpus == 64


def test_a_daemon_that_keeps_failing_to_create_is_an_infrastructure_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = _Api([_api_error(500, "cgroup busy")] * 3)
    ex = _executor(monkeypatch, _Engine(api))
    with pytest.raises(InfrastructureError) as info:
        ex.start_many(1, 1)
    assert "cannot start a sandbox container from hel:x" in str(info.value)
    assert "APIError: cgroup busy" in str(info.value)
    assert api.create == []  # tried three times


def test_a_hiccup_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    api = _Api([_api_error(500, "cgroup busy"), None], attach=requests.exceptions.ConnectionError("reset"))
    ex = _executor(monkeypatch, _Engine(api))
    with pytest.raises(InfrastructureError, match="ConnectionError: reset"):
        ex.start_many(1, 1)
    # The second try created a container, failed to attach, and removed what it made (the third
    # try, too): nothing is left behind.
    assert api.created and sorted(api.removed) == sorted(api.created)


def test_an_image_removed_mid_run_is_the_users_to_fix_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    api = _Api([_api_error(404, "No such image: hel:x", docker.errors.ImageNotFound)] * 3)
    ex = _executor(monkeypatch, _Engine(api))
    with pytest.raises(DockerUnavailableError, match="the image is missing"):
        ex.start_many(1, 1)
    assert len(api.create) == 2  # one try: no retry brings an image back


def test_close_never_raises_when_the_daemon_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _Engine(_Api([]))
    ex = _executor(monkeypatch, engine)
    engine._listing = requests.exceptions.ConnectionError("daemon gone")
    ex.close()
    assert engine.closed


def test_describe_names_the_image_the_judge_and_every_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = _executor(monkeypatch, _Engine(_Api([])), memory_per_worker=256 << 20, preload=("numpy",))
    d = ex.describe()
    assert (d["executor"], d["image"], d["image_id"], d["recipe"]) == (
        "docker",
        "hel:x",
        "sha256:feed",
        "abc123",
    )
    assert d["limits"]["memory_per_worker"] == 256 << 20 and d["limits"]["preload"] == ["numpy"]
    assert len(d["judge_sha256"]) == 64


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("jobs", 0, "jobs must be at least 1, got 0"),
        ("workers_per_container", 0, "workers_per_container must be at least 1"),
        ("memory_per_worker", 1 << 20, "memory_per_worker must be at least 6 MiB"),
        ("cpus_per_worker", 0.0, "cpus_per_worker must be positive"),
        ("max_retries", -1, "max_retries must be 0 or more"),
    ],
)
def test_docker_config_validates_itself(field: str, value: Any, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        DockerConfig(**{field: value})


# ----------------------------------------------------------------------------------------- pinning


class _Box:
    def __init__(self, cid: str, workers: int = 1) -> None:
        self.id, self.workers, self.dead = cid, workers, False
        self.cpus: list[int] = []


def test_each_box_gets_the_least_used_cpus_it_may_run_on() -> None:
    applied: list[tuple[str, str]] = []
    pinner = CpuPinner(lambda cid, cpus: applied.append((cid, cpus)), refused=(RuntimeError,))
    a, b, c, d = _Box("a"), _Box("b"), _Box("c", workers=2), _Box("d")
    pinner.pin(a, [0, 1, 2, 3])
    pinner.pin(b, [0, 1, 2, 3])
    pinner.pin(c, [0, 1, 2, 3])
    assert (a.cpus, b.cpus, c.cpus) == ([0], [1], [2, 3])
    pinner.unpin(a)
    pinner.unpin(a)  # idempotent
    pinner.pin(d, [3, 0])  # 0 is free again; 3 is taken
    assert d.cpus == [0]
    assert applied[-1] == ("d", "0")
    assert pinner.load() == {0: 1, 1: 1, 2: 1, 3: 1}


def test_an_engine_that_refuses_cpusets_runs_unpinned_from_then_on() -> None:
    calls: list[str] = []

    def refuse(cid: str, cpus: str) -> None:
        calls.append(cid)
        raise RuntimeError("cpuset not delegated")

    pinner = CpuPinner(refuse, refused=(RuntimeError,))
    a, b = _Box("a"), _Box("b")
    pinner.pin(a, [0, 1])
    pinner.pin(b, [0, 1])
    assert calls == ["a"] and a.cpus == b.cpus == [] and not pinner.enabled


def test_pinning_off_or_a_dead_box_asks_nothing_of_the_engine() -> None:
    calls: list[str] = []
    off = CpuPinner(lambda cid, cpus: calls.append(cid), refused=(RuntimeError,), enabled=False)
    off.pin(_Box("a"), [0])
    on = CpuPinner(lambda cid, cpus: calls.append(cid), refused=(RuntimeError,))
    dead = _Box("b")
    dead.dead = True
    on.pin(dead, [0])
    on.pin(_Box("c"), [])
    assert calls == []
