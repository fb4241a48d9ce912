"""Executors by name. Heavy or optional dependencies are imported only when one is made."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Executor, Job, Limits, Outcome, Program, Status
from humaneval_lab.problems import Problem

__all__ = [
    "EXECUTORS",
    "Executor",
    "Job",
    "Limits",
    "Outcome",
    "Program",
    "Status",
    "make_executor",
    "preload_for",
]


EVALPLUS_MEMORY = 2 << 30  # bytes a worker when EvalPlus problems are judged


def preload_for(problems: Iterable[Problem]) -> tuple[str, ...]:
    """Modules the sandbox's warm Python should import once for these problems. Each costs every
    fork (page tables, copy-on-write), so only what the tests need: HumanEval-X Python imports numpy."""
    needs_numpy = any(p.language == "python" and p.source_format == "humaneval-x" for p in problems)
    return ("numpy",) if needs_numpy else ()


def _local(jobs: int, **_: Any) -> Executor:
    from humaneval_lab.execution.local import LocalExecutor

    return LocalExecutor(jobs)


def _docker(
    jobs: int, *, image: str | None = None, pin_cpus: bool = True, problems: Iterable[Problem] = (), **_: Any
) -> Executor:
    from humaneval_lab.execution.docker import DockerConfig, DockerExecutor

    problems = list(problems)
    config = DockerConfig(jobs=jobs, image=image, preload=preload_for(problems), pin_cpus=pin_cpus)
    if any("evalplus" in p.extras for p in problems):
        # The EvalPlus judge keeps a problem's expected outputs and parses the candidate's answers in
        # the worker: HumanEval+ 100 and 130 answer lists of a million ints (at 512 MiB a worker the
        # runner was killed on them; 2 GiB judged them).
        config = replace(config, memory_per_worker=max(config.memory_per_worker, EVALPLUS_MEMORY))
    return DockerExecutor(config=config)


EXECUTORS: dict[str, Callable[..., Executor]] = {"docker": _docker, "local": _local}


def make_executor(
    name: str, jobs: int, *, image: str | None = None, pin_cpus: bool = True, problems: Iterable[Problem] = ()
) -> Executor:
    """The executor ``name`` for ``jobs`` parallel jobs. docker: ``image`` (default: the recipe's
    tag), CPU pinning, and the warm imports ``problems`` need; options a kind has no use for are
    ignored."""
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise UserInputError(f"unknown sandbox {name!r} (choose from: {', '.join(EXECUTORS)})") from None
    return factory(jobs, image=image, pin_cpus=pin_cpus, problems=problems)
