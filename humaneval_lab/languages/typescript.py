"""TypeScript: MultiPL-E and native problems, judged like JavaScript (see javascript.py).

The candidate side compiles prompt + completion alone with ``tsc`` as the sample's uid: a type
error is ``error``, as in MultiPL-E's evaluator (which compiles the tests with it; here the tests
never reach the candidate's dir, and are type-stripped by the judge in its own). MultiPL-E's tests
declare ``require`` for the whole file; the candidate keeps that declaration, so a completion that
uses ``require`` compiles as it did there.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.languages.javascript import node_program
from humaneval_lab.problems import Problem

TSC = ("tsc", "--target", "es2020", "--module", "commonjs", "--skipLibCheck", "--pretty", "false", "--outDir", ".", "main.ts")  # fmt: skip
REQUIRE = "declare var require: any;"


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "typescript")
    code = source + ("\n" + REQUIRE + "\n" if REQUIRE in problem.tests else "")
    return node_program("typescript", problem, "main.ts", code, (TSC,))


SPEC = LanguageSpec(
    name="typescript",
    aliases=("ts",),
    build=build,
    stop_sequences=("\nfunction ", "\n/*", "\n//", "\nclass", "\n```"),
    image_tools=("tsc", "node"),
)
