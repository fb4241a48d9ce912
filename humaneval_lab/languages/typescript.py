"""TypeScript: MultiPL-E and native problems, compiled by ``tsc`` to ``main.js`` and run like
JavaScript (see javascript.py for the token wrapper). A type error fails the compile step, as in
MultiPL-E's evaluator."""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.languages.javascript import node_program
from humaneval_lab.problems import Problem

TSC = ("tsc", "--target", "es2020", "--module", "commonjs", "--skipLibCheck", "--pretty", "false", "--outDir", ".", "main.ts")  # fmt: skip


def build(problem: Problem, source: str) -> Program:
    code = script_program(problem, source, "typescript")
    return node_program("typescript", "main.ts", code, (TSC,))


SPEC = LanguageSpec(
    name="typescript",
    aliases=("ts",),
    build=build,
    stop_sequences=("\nfunction ", "\n/*", "\n//", "\nclass", "\n```"),
    image_tools=("tsc", "node"),
)
