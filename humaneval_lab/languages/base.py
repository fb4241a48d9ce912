"""The declarative shape every language spec fills in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from humaneval_lab.execution.base import Program
from humaneval_lab.problems import Problem


@dataclass(frozen=True)
class ProgramTemplate:
    """The program of every sample of one problem, made once: ``program`` as the spec builds it for
    an empty source, in which only the file ``open_file`` depends on the code under test, as
    ``head + source + tail``. Everything else (the other files, commands, env, judge) is the same
    for every sample of the problem, so a sample's program only fills in that file."""

    program: Program
    open_file: str
    head: str = ""
    tail: str = ""

    def __post_init__(self) -> None:
        if self.program.files.get(self.open_file) != self.head + self.tail:
            raise ValueError(f"the template's {self.open_file!r} is not its head and tail")

    def fill(self, source: str) -> Program:
        """The program that judges ``source`` (what ``LanguageSpec.build`` gets)."""
        files = dict(self.program.files)  # the open file keeps its place among the files
        files[self.open_file] = self.head + source + self.tail
        return self.program.with_files(files)


@dataclass(frozen=True)
class LanguageSpec:
    """How one language is sampled and judged.

    ``build(problem, source)`` gets ``source`` = prompt + completion (or the sample's whole program
    when it already includes the prompt) and returns the Program that judges it. The program must
    read the runner's token from stdin before any untrusted code runs, and print it on a line of its
    own only after every test returned.

    ``template(problem)``, where a spec offers it, is that problem's ``ProgramTemplate``: for a
    language whose program depends on the source only through one file's text (no command, file
    name or setting chosen by what the source says). Such a spec's ``build`` must be
    ``template(problem).fill(source)``, so the two cannot differ; ``program_maker`` uses it to make
    a problem's programs without building the rest of each one again.
    """

    name: str
    build: Callable[[Problem, str], Program]
    aliases: tuple[str, ...] = ()
    stop_sequences: tuple[str, ...] = ()  # for sampling, when the problem names none
    image_tools: tuple[str, ...] = ()  # commands that must exist in the sandbox image
    template: Callable[[Problem], ProgramTemplate] | None = None

    def stops_for(self, problem: Problem) -> tuple[str, ...]:
        return problem.stop_sequences or self.stop_sequences

    def program_maker(self, problem: Problem) -> Callable[[str], Program]:
        """``build(problem, ·)`` for many sources of one problem: its template's ``fill`` when the
        spec has one (made here, once), else ``build`` itself. Raises what ``build`` would for the
        problem (e.g. a format the language cannot run)."""
        if self.template is not None:
            return self.template(problem).fill
        return partial(self.build, problem)


def source_of(problem: Problem, completion: str, includes_prompt: bool = False) -> str:
    """The code under test: the prompt exactly as given (no stripping) followed by the completion."""
    return completion if includes_prompt else problem.prompt + completion
