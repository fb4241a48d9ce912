"""Elixir 1.14: MultiPL-E and native problems, judged by two ``elixir`` processes.

MultiPL-E's tests start ExUnit and define a test module that calls ``HumanEval.candidate(...)``
(the prompt's module). Here the trusted judge (``harness/hel_judge.exs``, the judge uid, its own
dir) runs those tests (ExUnit started without its autorun) against a module of the same name whose
functions are stubs: each sends its arguments to the candidate's process and returns the value that
process answers. The candidate's process (``harness/hel_candidate.exs``, the sample uid) loads
prompt + completion only (``main.exs``) and answers calls. Values cross as plain data (the Erlang
external term format, base64, one line a message), and the judge refuses anything but plain data
(funs, pids, ports, references, structs). The verdict is the judge's exit code
(``Program.judge``): nothing the candidate prints, halts with, or replaces in its own VM reaches it.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import sub_exact, unsupported
from humaneval_lab.languages._twoproc import harness, stub_names
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# Names written into the judge's config (and made atoms there): plain identifiers only.
_IDENT = r"[a-z_][A-Za-z0-9_]*[?!]?"
_MODULE = re.compile(r"^defmodule\s+([A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*)\s+do\s*$", re.MULTILINE)
_DEF = re.compile(r"^\s*def\s+(" + _IDENT + r")\s*\(", re.MULTILINE)


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "elixir")
    modules = _MODULE.findall(problem.prompt)
    if not modules:
        raise UserInputError(f"elixir: no module to complete in {problem.task_id}'s prompt")
    module = modules[-1]
    names = stub_names(problem, set(_DEF.findall(problem.prompt)), _IDENT)
    tests = sub_exact(r"^ExUnit\.start\(\)", "ExUnit.start(autorun: false)", problem.tests, "ExUnit.start()")
    return Program(
        language="elixir",
        files={
            "main.exs": source + "\n",
            "hel_candidate.exs": harness("hel_candidate.exs"),
            "hel_candidate.cfg": module + "\n",
        },
        run=("elixir", "hel_candidate.exs"),
        judge=("elixir", "hel_judge.exs"),
        judge_files={
            "hel_judge.exs": harness("hel_judge.exs"),
            "hel_judge.cfg": "\n".join([module, *names]) + "\n",
            "tests.exs": tests,
        },
    )


SPEC = LanguageSpec(
    name="elixir",
    aliases=("ex", "exs"),
    build=build,
    stop_sequences=("\ndefmodule", "\ndefp", "\ndef ", "\n#", "\n\n"),
    image_tools=("elixir",),
)
