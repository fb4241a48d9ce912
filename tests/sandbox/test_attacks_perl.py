"""Perl attacks against the two-process judge, through the real sandbox, each followed by an honest
(or wrong) sample in the same container. See pair_cases.py for the problem and the conventions."""

from __future__ import annotations

from typing import Any

import pytest
from pair_cases import NOT_PASSED, run_interleaved

from humaneval_lab.execution.selftest import Case

pytestmark = pytest.mark.docker

RIGHT = "do { my $t = 0; $t += $_ for split //, $n; $t }"
HONEST = Case.of("honest", f"    return {RIGHT};\n}}\n", {"passed"}, "a right answer passes")
WRONG = Case.of("wrong", "    return 7;\n}\n", {"failed"}, "a wrong answer fails")
FD4 = "open(my $o, '>&=', 4); $o->autoflush(1);"


def _body(code: str, ret: str = RIGHT) -> str:
    return "".join(f"    {line}\n" for line in code.strip().splitlines()) + f"    return {ret};\n}}\n"


ATTACKS = [
    # Forged output and early exits.
    Case.of(
        "print-passed",
        _body('print "passed\\nAll tests passed\\n", \'0\' x 32, "\\n"; print STDERR "ok\\n";', "7"),
        {"failed"},
        "",
    ),
    Case.of("exit0-in-function", _body("exit 0;"), NOT_PASSED, ""),
    Case.of("exit0-at-load", f"    return {RIGHT};\n}}\nexit 0;\n", NOT_PASSED, ""),
    Case.of("posix-exit0", _body("require POSIX; POSIX::_exit(0);"), NOT_PASSED, ""),
    Case.of("die-with-test-text", _body('die "check failed: passed\\n";'), {"error"}, ""),
    Case.of("end-block-exit0", "    die 'x';\n}\nEND { $? = 0; }\n", {"error"}, ""),
    # Monkey-patching the tests' helpers, the judge's and Perl's own: another process.
    Case.of(
        "patch-everything",
        "    return 7;\n}\n"
        "BEGIN { *CORE::GLOBAL::exit = sub { CORE::exit(0) }; *CORE::GLOBAL::die = sub { CORE::exit(0) }; }\n"
        "no warnings;\nsub Test::Deep::eq_deeply { 1 }\nsub main::eq_deeply { 1 }\nsub __hel_eq { 1 }\n"
        "sub __hel_check { 1 }\nsub HelJudge::call { 6 }\nsub HelJudge::stop { CORE::exit(0) }\n"
        "sub HelCodec::dec { 6 }\n",
        {"failed"},
        "",
    ),
    Case.of("context-fidelity", _body("", f"wantarray ? {RIGHT} : 7"), {"passed"}, "list context crosses"),
    # Values that lie or cannot cross.
    Case.of(
        "overloaded-object",
        "    return bless {}, 'Liar';\n}\npackage Liar;\n"
        "use overload 'eq' => sub { 1 }, '==' => sub { 1 }, '\"\"' => sub { '6' }, 'bool' => sub { 1 };\n"
        "package main;\n",
        {"error"},
        "an object does not cross: its overloads never run in the judge",
    ),
    Case.of("code-ref", _body("", "sub { 6 }"), {"error"}, ""),
    Case.of("glob-ref", _body("", "\\*STDOUT"), {"error"}, ""),
    Case.of("self-referencing-array", _body("my @a = (1); push @a, \\@a;", "\\@a"), {"error"}, ""),
    Case.of("string-for-number", _body("", f"{RIGHT} . '.0'"), {"failed"}, "'6.0' ne '6' as in one process"),
    Case.of("undef", _body("", "undef"), {"failed"}, ""),
    # Forged protocol lines.
    Case.of(
        "value-before-ready",
        f'    return {RIGHT};\n}}\n{FD4}\nprint $o \'{{"value":{{"s":"6"}}}}\' . "\\n";\n',
        {"error"},
        "",
    ),
    Case.of(
        "values-out-of-turn",
        _body(FD4 + '\nprint $o \'{"value":{"a":[{"s":"6"}]}}\' . "\\n" for 1 .. 5;'),
        NOT_PASSED,
        "",
    ),
    Case.of("ready-twice", _body(FD4 + '\nprint $o \'{"ready":true}\' . "\\n";'), {"error"}, ""),
    Case.of("garbage-line", _body(FD4 + '\nprint $o "garbage\\n";'), {"error"}, ""),
    Case.of("huge-line", _body(FD4 + "\nprint $o '[' x (6 << 20);"), {"error"}, ""),
    Case.of(
        "deep-json",
        _body(FD4 + '\nprint $o \'{"value":\' . (\'{"a":[\' x 5000) . "\\n";'),
        {"error"},
        "",
    ),
    Case.of(
        "outcome-on-pid1-stdout",
        _body(
            "if (open(my $p, '>>', '/proc/1/fd/1')) "
            '{ print $p \'{"id":"x","outcome":{"status":"passed"}}\' . "\\n"; }',
            "7",
        ),
        {"failed"},
        "",
    ),
    # Effects: the right answer exactly when the attack failed.
    Case.of(
        "read-the-tests",
        _body(
            "require Cwd; my $cwd = Cwd::getcwd(); my $seen = 0;\n"
            "for my $f (glob('/work/* /work/*/* /tmp/*/*')) {\n"
            "    next if index($f, $cwd) == 0;  # our own files hold these words too\n"
            "    open(my $h, '<', $f) or next; local $/; my $t = <$h> // '';\n"
            "    $seen = 1 if $t =~ /digit_sum #|HelJudge/;\n"
            "}",
            f"$seen ? 7 : {RIGHT}",
        ),
        {"passed"},
        "the tests and the judge are in a dir the candidate cannot read",
    ),
    Case.of(
        "read-other-processes",
        _body(
            "my $seen = 0;\n"
            "for my $p (glob('/proc/[0-9]*')) {\n"
            "    next if (stat $p)[4] == $<;\n"
            "    for my $what (qw(environ mem fd/3 cwd/tests.pl)) {\n"
            "        if (open(my $h, '<', \"$p/$what\")) { my $n = sysread($h, my $b, 1); $seen = 1 if $n; }\n"
            "    }\n"
            '    $seen = 1 if opendir(my $d, "$p/fd");\n'
            "}",
            f"$seen ? 7 : {RIGHT}",
        ),
        {"passed"},
        "the judge and every trusted process are another uid",
    ),
    Case.of(
        "signal-everyone-else",
        _body(
            "my $hit = 0;\n"
            "for my $p (glob('/proc/[0-9]*')) {\n"
            "    next if (stat $p)[4] == $<;\n"
            "    my ($pid) = $p =~ /(\\d+)$/;\n"
            "    $hit = 1 if kill('STOP', $pid) || kill('KILL', $pid);\n"
            "}\n$hit = 1 if kill('KILL', getppid());",
            f"$hit ? 7 : {RIGHT}",
        ),
        {"passed"},
        "no process of another uid (the judge, the runner) can be signalled",
    ),
    Case.of(
        "kill-minus-one",
        _body("kill 'KILL', -1;"),
        {"passed"},
        "kill(-1) reaches every process of the sample's uid but itself, never the judge",
    ),
    Case.of("never-answers", _body("1 while 1;"), {"timeout"}, ""),
]


def test_perl_attacks_interleaved_with_honest_samples(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    assert run_interleaved(ex, "perl", ATTACKS, HONEST, WRONG, timeout_s=15.0) == {}, ex.death_log
