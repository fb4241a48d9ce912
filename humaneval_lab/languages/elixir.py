"""Elixir 1.14: MultiPL-E and native problems, run with ``elixir`` on a ``.exs`` script.

MultiPL-E's tests start ExUnit (which runs the tests when the script ends) and define a test module;
exit 0 is a pass. Here the script first reads the token into a variable of the script (a module
body, the candidate's included, does not see it), then prompt + completion + the tests with ExUnit
started without its autorun, then our trailer: ``ExUnit.run()``, and the token only if every test
ran and none failed.

The token stops a completion that halts early (``System.halt(0)``) or prints "passed"; it does
**not** stop a deliberate attacker: Erlang lets any code replace loaded modules (ExUnit's included)
and read its own process' stack (docs/languages.md).
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import sub_exact, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_PRELUDE = 'hel_token = String.trim(IO.read(:stdio, :line) || "")\n'
_TRAILER = """
hel_result = ExUnit.run()
if hel_token != "" and hel_result.total > 0 and hel_result.failures == 0 do
  IO.write("\\n" <> hel_token <> "\\n")
  System.halt(0)
else
  IO.puts(:stderr, "hel: #{hel_result.failures} of #{hel_result.total} tests failed")
  System.halt(1)
end
"""


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "elixir")
    tests = sub_exact(r"^ExUnit\.start\(\)", "ExUnit.start(autorun: false)", problem.tests, "ExUnit.start()")
    return Program(
        language="elixir",
        files={"main.exs": _PRELUDE + source + "\n" + tests + _TRAILER},
        run=("elixir", "main.exs"),
        failure_markers=("tests failed",),
    )


SPEC = LanguageSpec(
    name="elixir",
    aliases=("ex", "exs"),
    build=build,
    stop_sequences=("\ndefmodule", "\ndefp", "\ndef ", "\n#", "\n\n"),
    image_tools=("elixir",),
)
