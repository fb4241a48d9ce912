"""Perl: MultiPL-E (Test::Deep, ``exit 1`` on a wrong answer) and native problems (``die``).

``run.pl`` reads the token into a lexical of an anonymous sub (``do FILE`` cannot see lexicals of
its caller), runs ``main.pl`` with ``do`` and prints the token only if it returned without dying.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

RUNNER = """\
sub {
    my $token = <STDIN>;
    $token = '' unless defined $token;
    $token =~ s/\\s+\\z//;
    local $@;
    my $ok = do './main.pl';
    if ($@) { print STDERR $@; exit 1; }
    if (!defined $ok && $!) { print STDERR "cannot run main.pl: $!\\n"; exit 1; }
    $| = 1;
    print STDOUT "\\n$token\\n";
}->();
"""


def build(problem: Problem, source: str) -> Program:
    code = script_program(problem, source, "perl")
    return Program(
        language="perl",
        # `1;` so that `do` returns true for a file whose last statement is false.
        files={"main.pl": code + "\n1;\n", "run.pl": RUNNER},
        run=("perl", "run.pl"),
        failure_markers=("check failed",),
    )


SPEC = LanguageSpec(
    name="perl",
    aliases=("pl",),
    build=build,
    stop_sequences=("\nsub", "\n#", "\n\n\n", "\n```"),
    image_tools=("perl",),
)
