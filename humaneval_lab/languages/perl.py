"""Perl: MultiPL-E (Test::Deep, ``exit 1`` on a wrong answer) and native problems (``die``),
judged by two processes (see ``Program.judge``).

The trusted judge (``judge.pl``, the judge uid, its own dir) runs the problem's tests unchanged
with ``do``; every sub the prompt defines is, in the judge, a stub that sends ``{"call": name,
"args": [...], "context": "list"|"scalar"|"void"}`` on fd 4 and returns what the candidate answers
on fd 3. The candidate (``serve.pl``, the sample uid) runs prompt + completion only, says
``{"ready": true}`` and calls the sub in the judge's context (``wantarray`` is the tests').

Values cross in a tagged JSON encoding, so that the tests' comparisons (``eq_deeply``, ``eq``,
``==``) mean what they mean in one process: ``null`` is undef; ``{"s": str}`` a string, with
``"n": number`` too when the scalar is a number (the judge rebuilds it with ``dualvar``, so both
its string and its numeric value are the candidate's exactly); ``{"a": [...]}`` an array ref;
``{"h": {...}}`` a hash ref; a list context's answer is ``{"a": [...]}``. Blessed, code, glob and
scalar refs do not cross (``error``): an object cannot lie about equality through overloading in
the judge. The judge decodes with JSON::PP and its own checks, never ``eval`` of candidate text.
"""

from __future__ import annotations

import re

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_CODEC = r"""
package HelCodec;
use strict;
use warnings;
use B ();
use JSON::PP ();
use Scalar::Util ();

our $MAX_LINE = 4 << 20;  # one message a line, at most this many bytes
our $JSON = JSON::PP->new->utf8->max_depth(512);

sub enc {
    my ($v, $depth) = @_;
    die "value nested too deeply\n" if $depth > 200;  # a self-referencing array
    return undef unless defined $v;
    my $r = ref $v;
    if (!$r) {
        my %o = (s => "$v");
        my $f = B::svref_2object(\$v)->FLAGS;
        if ($f & B::SVf_IOK) {
            $o{n} = ($f & B::SVf_IVisUV) ? sprintf('%u', $v) : sprintf('%d', $v);
        } elsif ($f & (B::SVf_NOK | B::SVp_NOK)) {
            $o{n} = sprintf('%.17g', $v);
        } elsif ($f & B::SVp_IOK) {
            $o{n} = sprintf('%d', $v);
        }
        return \%o;
    }
    die "cannot send a blessed reference ($r)\n" if Scalar::Util::blessed($v);
    return { a => [ map { enc($_, $depth + 1) } @$v ] } if $r eq 'ARRAY';
    return { h => { map { ($_ => enc($v->{$_}, $depth + 1)) } keys %$v } } if $r eq 'HASH';
    die "cannot send a $r reference\n";
}

sub dec {
    my ($v, $depth) = @_;
    die "value nested too deeply\n" if $depth > 200;
    return undef unless defined $v;
    die "not a value\n" unless ref $v eq 'HASH';
    my @k = sort keys %$v;
    if (@k == 1 && $k[0] eq 's' || @k == 2 && $k[0] eq 'n' && $k[1] eq 's') {
        my ($s, $n) = ($v->{s}, $v->{n});
        die "not a string\n" if !defined $s || ref $s;
        return "$s" if @k == 1;
        die "not a number\n" if !defined $n || ref $n || !Scalar::Util::looks_like_number($n);
        return Scalar::Util::dualvar(0 + $n, "$s");
    }
    die "not a value\n" unless @k == 1;
    if ($k[0] eq 'a' && ref $v->{a} eq 'ARRAY') {
        return [ map { dec($_, $depth + 1) } @{ $v->{a} } ];
    }
    if ($k[0] eq 'h' && ref $v->{h} eq 'HASH') {
        my $h = $v->{h};
        return { map { ($_ => dec($h->{$_}, $depth + 1)) } keys %$h };
    }
    die "not a value\n";
}

# A line reader that never holds more than $MAX_LINE bytes and scans each byte once.
sub reader {
    my ($fh) = @_;
    my ($buf, $from) = ('', 0);
    return sub {
        while (1) {
            my $i = index($buf, "\n", $from);
            if ($i >= 0) {
                $from = 0;
                return substr($buf, 0, $i + 1, '');
            }
            $from = length $buf;
            die "a message longer than $MAX_LINE bytes\n" if $from > $MAX_LINE;
            my $n = sysread($fh, $buf, 65536, length $buf);
            return undef unless $n;
        }
    };
}
"""

JUDGE = (
    r"""# The trusted judge: the tests run here, the candidate answers calls from another process.
$SIG{PIPE} = 'IGNORE';  # a candidate that went away is an answer (3), not a signal
"""
    + _CODEC
    + r"""
package HelJudge;
our ($IN, $OUT, $READ, $broken, $last, $where);

sub show {
    my $s = eval { JSON::PP->new->allow_nonref->canonical->allow_unknown->encode($_[0]) } // '?';
    return length $s > 120 ? substr($s, 0, 117) . '...' : $s;
}

sub stop {
    my ($code, $why) = @_;
    $broken ||= [$code, $why];  # sticky: the tests cannot catch it away
    print STDERR "$broken->[1]\n";
    exit $broken->[0];
}

sub start {
    open($IN, '<&=', 3) or stop(2, "judge: no channel to the candidate: $!");
    open($OUT, '>&=', 4) or stop(2, "judge: no channel to the candidate: $!");
    binmode $IN;
    binmode $OUT;
    $OUT->autoflush(1);
    $READ = HelCodec::reader($IN);
    my $line = eval { $READ->() };
    stop(2, "the candidate sent $@ before it was ready") if $@;
    stop(3, 'the candidate ended before it was ready') unless defined $line;
    my $msg = eval { $HelCodec::JSON->decode($line) };
    stop(2, 'the candidate sent something else than {"ready": true}')
        unless ref $msg eq 'HASH' && keys %$msg == 1 && JSON::PP::is_bool($msg->{ready}) && $msg->{ready};
}

sub call {
    my ($name, $caller, $want, @args) = @_;
    my $what = $name . '(' . substr(show(\@args), 1, -1) . ')';
    stop(@$broken) if $broken;
    my $context = $want ? 'list' : defined $want ? 'scalar' : 'void';
    my $req = eval {
        $HelCodec::JSON->encode({ call => $name, args => [ map { HelCodec::enc($_, 0) } @args ], context => $context });
    };
    stop(2, "judge: cannot send the arguments of $what: $@") unless defined $req;
    print {$OUT} $req, "\n" or stop(3, "the candidate went away before $what");
    my $line = eval { $READ->() };
    stop(2, "the candidate answered $what with $@") if $@;
    stop(3, "the candidate ended during $what") unless defined $line;
    my $msg = eval { $HelCodec::JSON->decode($line) };
    stop(2, "the candidate answered $what with something that is not JSON") unless ref $msg eq 'HASH' && keys %$msg == 1;
    if (exists $msg->{error}) {
        stop(2, "$what raised: " . substr(ref $msg->{error} ? show($msg->{error}) : $msg->{error} // '', 0, 300));
    }
    stop(2, "the candidate answered $what with neither a value nor an error") unless exists $msg->{value};
    my $value = eval { HelCodec::dec($msg->{value}, 0) };
    stop(2, "the candidate answered $what with $@") if $@;
    $where = $caller;
    if ($context eq 'list') {
        stop(2, "the candidate answered $what in list context with no list") unless ref $value eq 'ARRAY';
        $last = "$what returned (" . substr(show($value), 1, -1) . ')';
        return @$value;
    }
    $last = "$what returned " . show($value);
    return $value;
}

sub at {
    return '' unless $where && $where->[1] eq './tests.pl' && open(my $fh, '<', 'tests.pl');
    my @lines = <$fh>;
    shift @lines while @lines && $lines[0] !~ /^# line 1 /;  # the prompt's `use` lines come first
    shift @lines;
    my $src = $lines[$where->[2] - 1] // '';
    $src =~ s/^\s+|\s+$//g;
    return " at tests line $where->[2]: $src";
}

END {
    if ($broken) {
        $? = $broken->[0];
    } elsif ($? == 1 && defined $last) {
        # MultiPL-E's tests `exit 1` without a word: name the call that failed.
        print STDERR "Test failed: $last" . at() . "\n";
    }
}

package main;
"""
)

JUDGE_MAIN = r"""
HelJudge::start();
{
    local $@;
    my $ok = do './tests.pl';
    if ($@) {
        my $err = "$@";
        chomp $err;
        my $last = defined $HelJudge::last ? " ($HelJudge::last)" : '';
        # Like the one-process program: the tests' own failure is "failed", anything else "error".
        HelJudge::stop($err =~ /check failed|Test failed/ ? 1 : 2, $err . $last);
    }
    HelJudge::stop(2, "judge: cannot run the tests: $!") unless defined $ok;
}
HelJudge::stop(@$HelJudge::broken) if $HelJudge::broken;
exit 0;
"""

SERVE = (
    r"""# The candidate's side: its code first (as in one process), then the calls.
{
    local $@;
    my $ok = do './main.pl';
    if ($@) { print STDERR $@; exit 1; }
    if (!defined $ok && $!) { print STDERR "cannot run main.pl: $!\n"; exit 1; }
}
"""
    + _CODEC
    + r"""
package main;
{
    open(my $in, '<&=', 3) or die "no fd 3: $!";
    open(my $out, '>&=', 4) or die "no fd 4: $!";
    binmode $in;
    binmode $out;
    $out->autoflush(1);
    my $read = HelCodec::reader($in);
    print {$out} $HelCodec::JSON->encode({ ready => JSON::PP::true() }), "\n";
    while (defined(my $line = $read->())) {
        my $req = $HelCodec::JSON->decode($line);
        my @args = map { HelCodec::dec($_, 0) } @{ $req->{args} };
        my $f = do { no strict 'refs'; \&{"main::$req->{call}"} };
        my $msg;
        my $ok = eval {
            if ($req->{context} eq 'list') {
                my @r = $f->(@args);
                $msg = { value => { a => [ map { HelCodec::enc($_, 0) } @r ] } };
            } else {
                my $r = $f->(@args);
                $msg = { value => HelCodec::enc($r, 0) };
            }
            1;
        };
        $msg = { error => "" . ($@ || 'died') } unless $ok;
        my $text = eval { $HelCodec::JSON->encode($msg) }
            // $HelCodec::JSON->encode({ error => "cannot send the value: $@" });
        print {$out} $text, "\n";
    }
}
"""
)

# Subs the prompt (trusted text) defines: the ones the tests may call on the candidate.
_SUB = re.compile(r"^\s*sub\s+([A-Za-z_][A-Za-z0-9_]*)\b", re.MULTILINE)


# The prompt's `use` lines (trusted text): in one process they applied to the tests too (a prompt
# may `use Test::Deep` for tests that call `eq_deeply`, or `use strict`).
_USE = re.compile(r"^use\s+[A-Za-z][\w:]*[^;\n]*;[ \t]*$", re.MULTILINE)
# Perl's own line directive: the tests' lines keep their numbers after the `use` lines.
_LINE_1 = '# line 1 "./tests.pl"\n'


def _uses(problem: Problem) -> str:
    return " ".join(m.group(0).strip() for m in _USE.finditer(problem.prompt)) + "\n"


def _stubs(problem: Problem) -> str:
    names = list(dict.fromkeys(_SUB.findall(problem.prompt)))
    if problem.entry_point and problem.entry_point not in names:
        names.append(problem.entry_point)
    in_tests = set(_SUB.findall(problem.tests))
    return "".join(
        f"sub {n} {{ HelJudge::call('{n}', [caller], wantarray, @_) }}\n" for n in names if n not in in_tests
    )


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "perl")
    return Program(
        language="perl",
        # `1;` so that `do` returns true for a file whose last statement is false.
        files={"main.pl": source + "\n1;\n", "serve.pl": SERVE},
        run=("perl", "serve.pl"),
        judge=("perl", "judge.pl"),
        judge_files={
            "judge.pl": JUDGE + _stubs(problem) + JUDGE_MAIN,
            "tests.pl": _uses(problem) + _LINE_1 + problem.tests + "\n1;\n",
        },
        failure_markers=("check failed",),
    )


SPEC = LanguageSpec(
    name="perl",
    aliases=("pl",),
    build=build,
    stop_sequences=("\nsub", "\n#", "\n\n\n", "\n```"),
    image_tools=("perl",),
)
