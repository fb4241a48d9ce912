"""``distributed.cluster.connect``: a Ray Client connection whose per-driver server died as it
started (ray-project/ray#63202) is tried again; any other failure is one line at once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from humaneval_lab.distributed import cluster
from humaneval_lab.errors import EnvironmentProblem

SERVER_DIED = "Initialization failure from server:\nTraceback ... psutil.ZombieProcess"


def fake_ray(failures: list[str]) -> SimpleNamespace:
    """A ``ray`` whose ``init`` raises ConnectionError with each of ``failures`` in turn, then joins."""
    calls: list[str] = []

    def init(address: str, **_: Any) -> None:
        calls.append(address)
        if len(calls) <= len(failures):
            raise ConnectionError(failures[len(calls) - 1])

    return SimpleNamespace(init=init, is_initialized=lambda: False, calls=calls)


@pytest.fixture
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CLIENT_RETRY_S", 0.0)


def test_a_client_server_that_died_starting_is_tried_again(
    monkeypatch: pytest.MonkeyPatch, no_wait: None
) -> None:
    ray = fake_ray([SERVER_DIED, SERVER_DIED])
    monkeypatch.setattr(cluster, "import_ray", lambda: ray)
    got: object = cluster.connect("ray://127.0.0.1:10001")
    assert got is ray
    assert ray.calls == ["ray://127.0.0.1:10001"] * 3


def test_the_tries_are_bounded_and_end_in_one_line(monkeypatch: pytest.MonkeyPatch, no_wait: None) -> None:
    ray = fake_ray([SERVER_DIED] * cluster.CLIENT_TRIES)
    monkeypatch.setattr(cluster, "import_ray", lambda: ray)
    with pytest.raises(
        EnvironmentProblem, match="cannot connect to the Ray cluster at ray://127.0.0.1:10001"
    ):
        cluster.connect("ray://127.0.0.1:10001")
    assert len(ray.calls) == cluster.CLIENT_TRIES


@pytest.mark.parametrize(
    ("address", "message"),
    [("ray://127.0.0.1:10001", "connection refused"), ("auto", SERVER_DIED)],
)
def test_other_failures_are_not_retried(
    monkeypatch: pytest.MonkeyPatch, no_wait: None, address: str, message: str
) -> None:
    ray = fake_ray([message] * 5)
    monkeypatch.setattr(cluster, "import_ray", lambda: ray)
    with pytest.raises(EnvironmentProblem):
        cluster.connect(address)
    assert len(ray.calls) == 1
