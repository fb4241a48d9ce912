"""Fixtures for tests against a real Docker engine and the sandbox image.

Nothing here skips: CI has Docker and the image, so a missing engine or image FAILS with a line
that says how to fix it. ``HUMANEVAL_LAB_SANDBOX_IMAGE`` overrides the image (the default is the
recipe-hash tag that ``humaneval-lab sandbox build`` makes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.errors import DockerUnavailableError
from humaneval_lab.execution.base import Job, Outcome
from humaneval_lab.execution.docker import (
    RUN_LABEL,
    DockerConfig,
    DockerExecutor,
    default_image,
    docker_client,
)

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    image = default_image()
    try:
        client = docker_client()
    except DockerUnavailableError as exc:
        pytest.fail(f"Docker tests need a running Docker engine: {exc}", pytrace=False)
    try:
        client.images.get(image)
    except Exception:
        pytest.fail(
            f"sandbox image {image} is missing: run `humaneval-lab sandbox build` first", pytrace=False
        )
    finally:
        client.close()
    return image


def judged_once(ex: Any, jobs: Iterable[Job]) -> dict[str, Outcome]:
    """Run ``jobs`` on ``ex``: every job gets exactly one outcome (none lost, none judged twice)."""
    jobs = list(jobs)
    out: dict[str, Outcome] = {}
    for job_id, outcome in ex.run(jobs):
        assert job_id not in out, f"{job_id} judged twice"
        out[job_id] = outcome
    assert sorted(out) == sorted(j.id for j in jobs), "a job was lost"
    return out


def processes_in(container_ids: list[str]) -> list[int]:
    """Host pids whose cgroup belongs to one of these containers."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cgroup = Path(f"/proc/{name}/cgroup").read_text()
        except OSError:
            continue
        if any(cid in cgroup for cid in container_ids):
            found.append(int(name))
    return found


def assert_clean(ex: DockerExecutor) -> None:
    """No container with the run's label and no process from any of its containers is left."""
    client = docker_client()
    try:
        left = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={ex.run_id}"})
    finally:
        client.close()
    assert left == [], f"containers left behind: {[c.short_id for c in left]}"
    assert ex.container_ids, "the executor started no container"
    assert processes_in(ex.container_ids) == []


@pytest.fixture
def make_executor(sandbox_image: str) -> Iterator[Any]:
    """``make_executor(jobs=2, **config)``; each one is closed and checked clean after the test."""
    made: list[DockerExecutor] = []

    def make(jobs: int = 2, **kw: Any) -> DockerExecutor:
        kw.setdefault("memory_per_worker", 512 << 20)
        ex = DockerExecutor(config=DockerConfig(jobs=jobs, image=sandbox_image, **kw))
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.close()
        assert_clean(ex)
