"""PHP: MultiPL-E and native problems (tests throw or ``exit(1)`` on a wrong answer).

``run.php`` reads the token into a closure local (not a global, so ``$GLOBALS`` does not reach it),
requires ``main.php`` from a nested closure and prints the token if that returned.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

RUNNER = """<?php
(function () {
    $token = trim((string) fgets(STDIN));
    (function () {
        require __DIR__ . '/main.php';
    })();
    fwrite(STDOUT, "\\n" . $token . "\\n");
})();
"""


def build(problem: Problem, source: str) -> Program:
    code = script_program(problem, source, "php")
    return Program(
        language="php",
        files={"main.php": code, "run.php": RUNNER},
        # Errors to stderr, where the verdict looks for them (php-cli prints them on stdout).
        run=(
            "php",
            "-d",
            "display_errors=stderr",
            "-d",
            "error_reporting=-1",
            "-d",
            "log_errors=0",
            "run.php",
        ),
        failure_markers=("Test failed", "check failed"),
    )


SPEC = LanguageSpec(
    name="php",
    build=build,
    stop_sequences=("\nfunction", "\n?>", "\n//", "\n#", "\n```"),
    image_tools=("php",),
)
