"""Ruby: MultiPL-E (test/unit) and native problems (top-level checks that raise).

``run.rb`` reads the token into a method local (candidate code cannot name it, not even through
TOPLEVEL_BINDING), loads ``main.rb`` and prints the token if that returned. For test/unit, which
would run the tests at exit (after our print), autorun is switched off and the runner called
explicitly.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

RUNNER = """\
def __hel_main
  token = $stdin.gets.to_s.strip
  require 'test/unit' if %(test_unit)s
  Test::Unit::AutoRunner.need_auto_run = false if %(test_unit)s
  load File.expand_path('main.rb', __dir__)
  out = STDOUT
  if %(test_unit)s
    # test/unit reports on stdout; the verdict looks for "Failure:" on stderr.
    $stdout.flush
    out = STDOUT.dup
    STDOUT.reopen(STDERR)
    exit(1) unless Test::Unit::AutoRunner.run
  end
  $stdout.flush
  out.write("\\n" + token + "\\n")
  out.flush
end
__hel_main
"""


def build(problem: Problem, source: str) -> Program:
    code = script_program(problem, source, "ruby")
    test_unit = "true" if "test/unit" in problem.tests else "false"
    return Program(
        language="ruby",
        files={"main.rb": code, "run.rb": RUNNER % {"test_unit": test_unit}},
        run=("ruby", "run.rb"),
        failure_markers=("Failure:", "failed"),
    )


SPEC = LanguageSpec(
    name="ruby",
    aliases=("rb",),
    build=build,
    stop_sequences=("\nclass", "\ndef", "\n#", "\n\n\n", "\n```"),
    image_tools=("ruby",),
)
