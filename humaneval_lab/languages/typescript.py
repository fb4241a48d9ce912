"""TypeScript: MultiPL-E and native problems, compiled by ``tsc`` to ``main.js`` and run like
JavaScript (see javascript.py for the token wrapper). A type error fails the compile step, as in
MultiPL-E's evaluator."""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import multipl_e_program, native_program, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.languages.javascript import node_program
from humaneval_lab.problems import Problem

TSC = ("tsc", "--target", "es2020", "--module", "commonjs", "--skipLibCheck", "--pretty", "false", "--outDir", ".", "main.ts")  # fmt: skip


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "multipl-e":
        code = multipl_e_program(problem, source)
    elif problem.source_format == "native":
        code = native_program(problem, source)
    else:
        raise unsupported(problem, "typescript")
    return node_program("typescript", "main.ts", code, (TSC,))


SPEC = LanguageSpec(
    name="typescript",
    aliases=("ts",),
    build=build,
    stop_sequences=("\nfunction ", "\n/*", "\n//", "\nclass", "\n```"),
    image_tools=("tsc", "node"),
)
