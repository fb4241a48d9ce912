"""R 4.2: MultiPL-E and native problems, run with ``Rscript --vanilla``.

MultiPL-E's tests are a function ``test_humaneval`` of ``stopifnot(isTRUE(all.equal(...)))`` calls,
called at the end; exit 0 is a pass. Here the program is our prelude, which reads the token into a
closure before any candidate code runs, then prompt + completion + the tests (their functions
called as ``base::stopifnot``, ``base::isTRUE``, ``base::all.equal``, so a candidate that defines
its own ``stopifnot`` does not replace them), then our trailer, which runs the tests and prints the
token only after they returned.

The token stops a completion that quits early (``quit(status = 0)``) or prints "passed"; it does
**not** stop a deliberate attacker: R lets code in the process read any closure's environment and
replace bindings in the base namespace (docs/languages.md).
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import sub_exact, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_PRELUDE = """\
.hel_gate <- base::local({
  token <- base::readLines(base::file("stdin"), n = 1L, warn = FALSE)
  function(tests) {
    ok <- base::tryCatch({ tests(); TRUE }, error = function(e) {
      base::message("hel: ", base::conditionMessage(e))
      FALSE
    })
    if (!base::isTRUE(ok) || base::length(token) != 1L || !base::nzchar(token)) base::quit(save = "no", status = 1L)
    base::cat("\\n", token, "\\n", sep = "")
    base::quit(save = "no", status = 0L)
  }
})
"""


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "r")
    tests = sub_exact(r"^test_humaneval\(\)\s*\Z", ".hel_gate(test_humaneval)\n", problem.tests.rstrip(),
                      "the test_humaneval() call")  # fmt: skip
    for name in ("stopifnot", "isTRUE", "all.equal"):
        tests = tests.replace(f"{name}(", f"base::{name}(").replace(f"base::base::{name}(", f"base::{name}(")
    return Program(
        language="r",
        files={"main.R": _PRELUDE + source + "\n" + tests},
        run=("Rscript", "--vanilla", "main.R"),
        failure_markers=("is not TRUE", "are not all TRUE"),
    )


SPEC = LanguageSpec(
    name="r",
    build=build,
    stop_sequences=("\n#", "\n```"),
    image_tools=("Rscript",),
)
