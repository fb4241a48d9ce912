"""PHP attacks against the two-process judge, through the real sandbox, each followed by an honest
(or wrong) sample in the same container. See pair_cases.py for the problem and the conventions."""

from __future__ import annotations

from typing import Any

import pytest
from pair_cases import NOT_PASSED, run_interleaved

from humaneval_lab.execution.selftest import Case

pytestmark = pytest.mark.docker

RIGHT = "array_sum(array_map('intval', str_split((string)$n)))"
HONEST = Case.of("honest", f"    return {RIGHT};\n}}\n", {"passed"}, "a right answer passes")
WRONG = Case.of("wrong", "    return 7;\n}\n", {"failed"}, "a wrong answer fails")
FD4 = "$o = fopen('php://fd/4', 'wb');"


def _body(code: str, ret: str = RIGHT) -> str:
    return "".join(f"    {line}\n" for line in code.strip().splitlines()) + f"    return {ret};\n}}\n"


ATTACKS = [
    # Forged output and early exits: nothing the candidate prints or how it exits makes a pass.
    Case.of(
        "print-passed",
        _body(
            'echo "passed\\nAll tests passed\\n", str_repeat(\'0\', 32), "\\n";\n'
            'fwrite(STDERR, "passed\\n");',
            "7",
        ),
        {"failed"},
        "",
    ),  # fmt: skip
    Case.of("exit0-in-function", _body("exit(0);"), NOT_PASSED, ""),
    Case.of("exit0-at-load", f"    return {RIGHT};\n}}\nexit(0);\n", NOT_PASSED, ""),
    Case.of("die-with-test-text", _body("die('ok');"), NOT_PASSED, ""),
    Case.of("throw-check-failed-text", _body("throw new Exception('passed');"), {"error"}, ""),
    Case.of(
        "shutdown-exit0",
        _body("register_shutdown_function(function () { exit(0); });\nthrow new Exception('x');"),
        {"error"},
        "",
    ),
    # Helpers named like the judge's and the tests' own: they live in another process.
    Case.of(
        "define-judge-helpers",
        "    return 7;\n}\nfinal class HelJudge { public static function call($n, $a) { return 6; } }\n"
        "function __hel_check($g, $e, $l) { return true; }\nfunction candidate(...$a) { return 6; }\n"
        "function test(): void {}\n",
        {"failed"},
        "",
    ),
    # Values that lie or cannot cross.
    Case.of(
        "tostring-object",
        _body("", "new class { public function __toString(): string { return '6'; } }"),
        {"error"},
        "an object does not cross: its __toString never runs in the judge",
    ),
    Case.of("array-object", _body("", "new ArrayObject([6])"), {"error"}, ""),
    Case.of("closure", _body("", "fn() => 6"), {"error"}, ""),
    Case.of("resource", _body("", "fopen('php://memory', 'r')"), {"error"}, ""),
    Case.of("self-referencing-array", _body("$a = [1];\n$a[] = &$a;", "$a"), {"error"}, ""),
    Case.of("float-for-int", _body("", f"(float) {RIGHT}"), {"failed"}, "6.0 !== 6 as in one process"),
    Case.of("string-for-int", _body("", f"(string) {RIGHT}"), {"failed"}, "'6' !== 6"),
    Case.of("nan", _body("", "NAN"), {"failed"}, ""),
    # Forged protocol lines.
    Case.of(
        "value-before-ready",
        f'    return {RIGHT};\n}}\n{FD4}\nfwrite($o, \'{{"value":6}}\' . "\\n");\n',
        {"error"},
        "",
    ),
    Case.of(
        "values-out-of-turn",
        _body(FD4 + '\nfor ($i = 0; $i < 5; $i++) fwrite($o, \'{"value":6}\' . "\\n");'),
        NOT_PASSED,
        "",
    ),
    Case.of("ready-twice", _body(FD4 + '\nfwrite($o, \'{"ready":true}\' . "\\n");'), {"error"}, ""),
    Case.of("garbage-line", _body(FD4 + '\nfwrite($o, "garbage\\n");'), {"error"}, ""),
    Case.of("huge-line", _body(FD4 + "\nfwrite($o, str_repeat('[', 6 << 20));"), {"error"}, ""),
    Case.of(
        "deep-json",
        _body(FD4 + '\nfwrite($o, \'{"value":\' . str_repeat(\'{"l":[\', 5000) . "\\n");'),
        {"error"},
        "",
    ),
    Case.of(
        "outcome-on-pid1-stdout",
        _body(
            '@file_put_contents(\'/proc/1/fd/1\', \'{"id":"x","outcome":{"status":"passed"}}\' . "\\n");',
            "7",
        ),
        {"failed"},
        "",
    ),
    # Effects: the right answer exactly when the attack failed.
    Case.of(
        "read-the-tests",
        _body(
            "$seen = false;\n"
            "foreach (array_merge(glob('/work/*/*') ?: [], glob('/work/*') ?: [], glob('/tmp/*/*') ?: []) as $f) {\n"
            "    if (str_starts_with($f, getcwd())) continue;  // our own files hold these words too\n"
            "    $t = @file_get_contents($f);\n"
            "    if (is_string($t) && (str_contains($t, 'digit_sum #') || str_contains($t, 'HelJudge'))) $seen = true;\n"
            "}",
            "$seen ? 7 : " + RIGHT,
        ),
        {"passed"},
        "the tests and the judge are in a dir the candidate cannot read",
    ),
    Case.of(
        "read-other-processes",
        _body(
            "$seen = false;\n$me = posix_getuid();\n"
            "foreach (glob('/proc/[0-9]*') as $p) {\n"
            "    if (@fileowner($p) === $me) continue;\n"
            "    foreach (['environ', 'mem', 'fd/3', 'cwd/tests.php', 'root/work'] as $what) {\n"
            "        $h = @fopen(\"$p/$what\", 'r');\n"
            "        if ($h !== false && @fread($h, 1) !== false && !feof($h)) $seen = true;\n"
            "    }\n"
            '    if (@scandir("$p/fd") !== false) $seen = true;\n'
            "}",
            "$seen ? 7 : " + RIGHT,
        ),
        {"passed"},
        "the judge and every trusted process are another uid",
    ),
    Case.of(
        "signal-everyone-else",
        _body(
            "$me = posix_getuid();\n$hit = false;\n"
            "foreach (glob('/proc/[0-9]*') as $p) {\n"
            "    $pid = (int) basename($p);\n"
            "    if (@fileowner($p) === $me) continue;\n"
            "    foreach ([19, 9] as $sig) if (posix_kill($pid, $sig)) $hit = true;\n"
            "}\nif (posix_kill(posix_getppid(), 9)) $hit = true;",
            "$hit ? 7 : " + RIGHT,
        ),
        {"passed"},
        "no process of another uid (the judge, the runner) can be signalled",
    ),
    Case.of(
        "kill-minus-one",
        _body("posix_kill(-1, 9);"),
        {"passed"},
        "kill(-1) reaches every process of the sample's uid but itself, never the judge",
    ),
    Case.of("never-answers", _body("while (true) {}"), {"timeout"}, ""),
]


def test_php_attacks_interleaved_with_honest_samples(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert run_interleaved(ex, "php", ATTACKS, HONEST, WRONG, timeout_s=15.0) == {}, ex.death_log
