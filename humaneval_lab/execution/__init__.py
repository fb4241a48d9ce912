"""Executors by name. Heavy or optional dependencies are imported only when one is made."""

from __future__ import annotations

from collections.abc import Callable

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Executor, Job, Limits, Outcome, Program, Status

__all__ = ["EXECUTORS", "Executor", "Job", "Limits", "Outcome", "Program", "Status", "make_executor"]


def _local(jobs: int) -> Executor:
    from humaneval_lab.execution.local import LocalExecutor

    return LocalExecutor(jobs)


def _docker(jobs: int) -> Executor:
    from humaneval_lab.execution.docker import DockerExecutor

    return DockerExecutor(jobs=jobs)


EXECUTORS: dict[str, Callable[[int], Executor]] = {"docker": _docker, "local": _local}


def make_executor(name: str, jobs: int) -> Executor:
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise UserInputError(f"unknown sandbox {name!r} (choose from: {', '.join(EXECUTORS)})") from None
    return factory(jobs)
