"""``distributed.cluster.connect``: a Ray Client connection whose per-driver server died as it
started (ray-project/ray#63202) is tried again; any other failure is one line at once."""

from __future__ import annotations

import os
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


def test_rays_core_log_is_kept_off_stderr_as_a_driver_joins(capfd: pytest.CaptureFixture[str]) -> None:
    """Ray's C++ core writes INFO and WARNING lines to fd 2 before it reads its log level (seen on
    every ``--ray`` run: "Set ray log level ...", and "Failed to determine local IP" without a route
    out): dropped; any other line it writes there is passed on."""
    from humaneval_lab.distributed.cluster import _core_log_kept_off_stderr

    with _core_log_kept_off_stderr():
        os.write(
            2, b"[2026-12-07 03:10:12,064 W 25078 25078] network_util.cc:330: Failed to determine local IP\n"
        )
        os.write(2, b"[2026-12-07 03:10:12,119 I 25078 25078] logging.cc:303: Set ray log level\n")
        os.write(2, b"[2026-12-07 03:10:12,120 E 25078 25078] core_worker.cc:1: something failed\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == (
        "[2026-12-07 03:10:12,120 E 25078 25078] core_worker.cc:1: something failed\nafter\n"
    )
