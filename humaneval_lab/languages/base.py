"""The declarative shape every language spec fills in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from humaneval_lab.execution.base import Program
from humaneval_lab.problems import Problem


@dataclass(frozen=True)
class LanguageSpec:
    """How one language is sampled and judged.

    ``build(problem, source)`` gets ``source`` = prompt + completion (or the sample's whole program
    when it already includes the prompt) and returns the Program that judges it. The program must
    read the runner's token from stdin before any untrusted code runs, and print it on a line of its
    own only after every test returned.
    """

    name: str
    build: Callable[[Problem, str], Program]
    aliases: tuple[str, ...] = ()
    stop_sequences: tuple[str, ...] = ()  # for sampling, when the problem names none
    image_tools: tuple[str, ...] = ()  # commands that must exist in the sandbox image

    def stops_for(self, problem: Problem) -> tuple[str, ...]:
        return problem.stop_sequences or self.stop_sequences


def source_of(problem: Problem, completion: str, includes_prompt: bool = False) -> str:
    """The code under test: the prompt exactly as given (no stripping) followed by the completion."""
    return completion if includes_prompt else problem.prompt + completion
