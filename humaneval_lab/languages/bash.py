"""Bash: MultiPL-E (``set -e`` and ``[[ ... ]]``) and native problems (checks that ``exit 1``).

Unlike the other scripting languages, a wrapper process cannot tell "the tests finished" from "the
candidate called ``exit 0``", so the program itself reads the token first and prints it last, in
one shell. The token sits in a shell variable that candidate code could name; see docs/languages.md.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_PROLOGUE = "IFS= read -r __hel_token\nexec 0</dev/null\n"
_EPILOGUE = "\nprintf '\\n%s\\n' \"$__hel_token\"\n"


def build(problem: Problem, source: str) -> Program:
    code = script_program(problem, source, "bash")
    return Program(
        language="bash",
        files={"main.sh": _PROLOGUE + code + _EPILOGUE},
        run=("bash", "main.sh"),
        failure_markers=("failed",),
    )


SPEC = LanguageSpec(
    name="bash",
    aliases=("sh",),
    build=build,
    stop_sequences=("\n#", "\nfunction ", "\n\n\n", "\n```"),
    image_tools=("bash",),
)
