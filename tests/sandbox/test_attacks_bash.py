"""Bash attacks against the two-process judge, through the real sandbox, each followed by an honest
(or wrong) sample in the same container. See pair_cases.py for the problem and the conventions."""

from __future__ import annotations

from typing import Any

import pytest
from pair_cases import NOT_PASSED, run_interleaved

from humaneval_lab.execution.selftest import Case

pytestmark = pytest.mark.docker

# The digit sum of $1, on stdout: what the tests compare.
RIGHT = 'local n="$1" t=0 i; for (( i = 0; i < ${#n}; i++ )); do t=$(( t + ${n:i:1} )); done'
HONEST = Case.of("honest", f'  {RIGHT}\n  echo "$t"\n}}\n', {"passed"}, "a right answer passes")
WRONG = Case.of("wrong", "  echo 7\n}\n", {"failed"}, "a wrong answer fails")


def _body(code: str, answer: str = '"$t"') -> str:
    lines = "".join(f"  {line}\n" for line in code.strip().splitlines())
    return f"  {RIGHT}\n{lines}  echo {answer}\n}}\n"


ATTACKS = [
    # Forged output and early exits.
    Case.of(
        "print-passed",
        _body("echo passed >&2; printf '%032d\\n' 0 >&2; echo 'All tests passed' >&2", "7"),
        {"failed"},
        "",
    ),
    Case.of("exit0-in-function", f"  {RIGHT}\n  exit 0\n}}\n", {"failed"}, "as in $(...): no output"),
    Case.of("exit0-at-load", f'  {RIGHT}\n  echo "$t"\n}}\nexit 0\n', NOT_PASSED, ""),
    Case.of("kill-own-shell", _body("kill -9 $$"), {"crashed"}, ""),
    # Helpers named like the judge's and the tests' own, and builtins: another process.
    Case.of(
        "redefine-helpers",
        "  echo 7\n}\n__hel_call() { echo 6; }\n__hel_stop() { exit 0; }\ncandidate() { echo 6; }\n"
        "run_test() { :; }\nexit() { builtin exit 0; }\ntrap() { :; }\nset() { :; }\n__hel_serve() { :; }\n",
        {"failed"},
        "",
    ),
    Case.of(
        "break-own-serving",
        f'  {RIGHT}\n  echo "$t"\n}}\nprintf() {{ :; }}\nbase64() {{ echo 6; }}\n',
        {"timeout"},
        "a candidate that silences its own channel never becomes ready",
    ),
    Case.of(
        "output-fidelity",
        _body("printf '\\0'", "\"$t\"; printf '\\n\\n'"),
        {"passed"},
        "NUL bytes and trailing newlines fare as in one process' $(...)",
    ),
    # Forged protocol lines.
    Case.of(
        "value-before-ready",
        f'  {RIGHT}\n  echo "$t"\n}}\nprintf \'{{"value":{{"out":"Ngo=","status":0}}}}\\n\' >&4\n',
        {"error"},
        "",
    ),
    Case.of(
        "values-out-of-turn",
        _body('for i in 1 2 3 4 5; do printf \'{"value":{"out":"Ngo=","status":0}}\\n\' >&4; done'),
        NOT_PASSED,
        "",
    ),
    Case.of("ready-twice", _body("printf '{\"ready\":true}\\n' >&4"), {"error"}, ""),
    Case.of("garbage-line", _body("echo garbage >&4"), {"error"}, ""),
    Case.of(
        "status-out-of-range",
        _body('printf \'{"value":{"out":"Ngo=","status":999}}\\n\' >&4'),
        {"error"},
        "",
    ),
    Case.of("huge-line", _body("head -c $((2 << 20)) /dev/zero | tr '\\0' A >&4"), {"error"}, ""),
    Case.of(
        "steal-the-next-request",
        _body("read -r -u 3 stolen"),
        {"timeout"},
        "reading the judge's next call starves only the candidate",
    ),
    Case.of(
        "outcome-on-pid1-stdout",
        _body('echo \'{"id":"x","outcome":{"status":"passed"}}\' > /proc/1/fd/1 2>/dev/null', "7"),
        {"failed"},
        "",
    ),
    # Effects: the right answer exactly when the attack failed.
    Case.of(
        "read-the-tests",
        _body(
            "for f in /work/* /work/*/* /tmp/*/*; do\n"
            '  [[ "$f" == "$PWD"* ]] && continue  # our own files hold these words too\n'
            '  grep -qsE "digit_sum #|__hel_fail_line" "$f" && t=7\n'
            "done"
        ),
        {"passed"},
        "the tests and the judge are in a dir the candidate cannot read",
    ),
    Case.of(
        "read-other-processes",
        _body(
            "me=$(id -u)\n"
            "for p in /proc/[0-9]*; do\n"
            '  [[ $(stat -c %u "$p" 2>/dev/null) == "$me" ]] && continue\n'
            "  for w in environ mem fd/3; do\n"
            '    head -c 1 "$p/$w" 2>/dev/null | grep -q . && t=7\n'
            "  done\n"
            '  ls "$p/fd" >/dev/null 2>&1 && t=7\n'
            "done"
        ),
        {"passed"},
        "the judge and every trusted process are another uid",
    ),
    Case.of(
        "signal-everyone-else",
        _body(
            "me=$(id -u)\n"
            "for p in /proc/[0-9]*; do\n"
            '  [[ $(stat -c %u "$p" 2>/dev/null) == "$me" ]] && continue\n'
            '  kill -STOP "${p#/proc/}" 2>/dev/null && t=7\n'
            '  kill -KILL "${p#/proc/}" 2>/dev/null && t=7\n'
            "done\n"
            "kill -KILL $PPID 2>/dev/null && t=7\n"
            "pkill -KILL -f judge 2>/dev/null && t=7; true"
        ),
        {"passed"},
        "no process of another uid (the judge, the runner) can be signalled",
    ),
    Case.of(
        "kill-minus-one",
        _body("kill -KILL -1 2>/dev/null"),
        {"crashed"},
        "from the call's subshell, kill(-1) ends the candidate's shell: never the judge",
    ),
    Case.of("never-answers", _body("while :; do :; done"), {"timeout"}, ""),
]


def test_bash_attacks_interleaved_with_honest_samples(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert run_interleaved(ex, "bash", ATTACKS, HONEST, WRONG, timeout_s=15.0) == {}, ex.death_log
