"""R 4.2: MultiPL-E and native problems, judged by two ``Rscript --vanilla`` processes.

MultiPL-E's tests are a function ``test_humaneval`` of ``stopifnot(isTRUE(all.equal(...)))`` calls,
called at the end. Here the trusted judge (``harness/hel_judge.R``, the judge uid, its own dir) runs
those tests unchanged; the entry point is, in the judge, a stub that sends its arguments to the
candidate's process and returns the value that process answers. The candidate's process
(``harness/hel_candidate.R``, the sample uid) runs prompt + completion only (``main.R``) and
answers calls. Values cross as plain data in our own strict line format (``harness/hel_codec.R``:
NULL, logical, integer, double, character vectors with NA, lists, names). The verdict is the
judge's exit code (``Program.judge``): nothing the candidate prints, quits with, redefines
(``stopifnot``, ``all.equal``) or reads in its own process reaches it.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import refuse, unsupported
from humaneval_lab.languages._twoproc import harness
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# A syntactic R name (no backquotes): it is written into the judge's config and the wire.
_IDENT = r"[A-Za-z.][A-Za-z0-9._]*"
_CALLED = re.compile(r"^test_humaneval\(\)\s*\Z", re.MULTILINE)


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "r")
    if not _CALLED.search(problem.tests.rstrip()):
        # Tests that nothing would run must not pass unrun.
        raise UserInputError(f"{problem.task_id}: cannot find the test_humaneval() call in the tests")
    entry = problem.entry_point or ""
    # MBPP's `_sum` is no R name: its prompt cannot parse whatever the completion (never a stub).
    bad = () if re.fullmatch(_IDENT, entry) else (refuse(f"the entry point {entry[:40]!r} is not an R name"),)
    codec = harness("hel_codec.R")
    return Program(
        language="r",
        files={"main.R": source + "\n", "hel_candidate.R": harness("hel_candidate.R"), "hel_codec.R": codec},
        compile=bad,
        run=("Rscript", "--vanilla", "hel_candidate.R"),
        judge=("Rscript", "--vanilla", "hel_judge.R"),
        judge_files={
            "hel_judge.R": harness("hel_judge.R"),
            "hel_codec.R": codec,
            "hel_judge.cfg": (entry if not bad else "") + "\n",
            "tests.R": problem.tests,
        },
    )


SPEC = LanguageSpec(
    name="r",
    build=build,
    stop_sequences=("\n#", "\n```"),
    image_tools=("Rscript",),
)
