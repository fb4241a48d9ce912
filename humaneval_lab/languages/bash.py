"""Bash: MultiPL-E (``set -e`` and ``[[ $(candidate ...) = ... ]]``) and native problems (checks
that ``exit 1``), judged by two processes (see ``Program.judge``).

A Bash function's value is what it writes on stdout and its exit status, and that is what crosses.
The trusted judge (``judge.sh``, the judge uid, its own dir) runs the problem's tests unchanged;
every function the prompt defines is, in the judge, a stub that sends ``{"call": name, "args":
[base64, ...]}`` on fd 4, reads ``{"value": {"out": base64, "status": n}}`` on fd 3, writes the
bytes on its stdout and returns the status. The candidate (``serve.sh``, the sample uid) sources
prompt + completion (+ the tests' first lines before ``candidate()``, MultiPL-E's closing ``}``),
says ``{"ready":true}`` and runs each call in a subshell, as the tests' ``$(...)`` does.

The judge parses each answer with one anchored regex over a fixed shape (base64 and a status of at
most 255) and decodes with ``base64 -d``: nothing the candidate sends is evaluated. A line that is
not exactly an answer (out of turn, too long, malformed) marks the run "error" for good: a file in
the judge's private dir that the verdict reads at exit, since a stub runs in the tests' ``$(...)``
subshell and cannot end the judge itself.
"""

from __future__ import annotations

import re

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

JUDGE = r"""# The trusted judge: the tests run here, the candidate answers calls from another process.
trap '' PIPE  # a candidate that went away is an answer (3), not a signal
__hel_max_line=$((1 << 20))  # bytes a message may have: Bash reads a pipe a byte at a time
__hel_verdict="$TMPDIR/.hel_verdict"  # the judge's own dir: the candidate cannot see it
__hel_last="$TMPDIR/.hel_last"  # the last call and its answer (stubs run in subshells)
__hel_fail_line=''
: > "$__hel_verdict"
: > "$__hel_last"

# Stop with ``code`` and ``why`` (the first reason wins, also from a subshell).
__hel_stop() {
    [[ -s "$__hel_verdict" ]] || printf '%s %s\n' "$1" "$2" > "$__hel_verdict"
    exit "$1"
}

__hel_show() {
    local s="$1"
    (( ${#s} > 60 )) && s="${s:0:57}..."
    printf '%q' "$s"
}

# One line from the candidate into __hel_line; 1 at its end, 2 when it is too long.
__hel_read() {
    local LC_ALL=C
    __hel_line=''
    IFS= read -r -n "$__hel_max_line" -u 3 __hel_line || return 1
    (( ${#__hel_line} < __hel_max_line )) || return 2
    return 0
}

__hel_call() {
    local name="$1" what="$1" a b64 args='' rc out
    shift
    for a in "$@"; do what+=" $(__hel_show "$a")"; done
    [[ -s "$__hel_verdict" ]] && exit 2
    for a in "$@"; do
        b64=$(printf '%s' "$a" | base64 -w0)
        args+="${args:+,}\"$b64\""
    done
    printf '{"call":"%s","args":[%s]}\n' "$name" "$args" >&4 2>/dev/null \
        || __hel_stop 3 "the candidate went away before $what"
    __hel_read && rc=0 || rc=$?  # a bare failing command would end this subshell (set -e)
    if (( rc == 1 )); then __hel_stop 3 "the candidate ended during $what"; fi
    if (( rc == 2 )); then __hel_stop 2 "the candidate answered $what with a message longer than $__hel_max_line bytes"; fi
    if [[ "$__hel_line" =~ ^\{\"value\":\{\"out\":\"([A-Za-z0-9+/]*={0,2})\",\"status\":([0-9]{1,3})\}\}$ ]] \
        && (( BASH_REMATCH[2] <= 255 )); then
        rc=${BASH_REMATCH[2]}
        out=$(printf '%s' "${BASH_REMATCH[1]}" | base64 -d 2>/dev/null; printf x)
        out=${out%x}
        printf '%s printed %s (status %s)\n' "$what" "$(__hel_show "$out")" "$rc" > "$__hel_last"
        printf '%s' "$out"
        return "$rc"
    fi
    __hel_stop 2 "the candidate answered $what with something that is not an answer: $(__hel_show "${__hel_line:0:60}")"
}

__hel_exit() {
    local code=$? line last
    if [[ -s "$__hel_verdict" ]]; then
        read -r code line < "$__hel_verdict"
        printf '%s\n' "$line" >&2
        exit "$code"
    fi
    if (( code == 1 )) && [[ -n "$__hel_fail_line" ]]; then
        # MultiPL-E's tests fail through `set -e` without a word: name the check that failed.
        mapfile -t __hel_src < "$__hel_self"
        line="${__hel_src[__hel_fail_line - 1]}"
        line="${line#"${line%%[![:space:]]*}"}"
        read -r last < "$__hel_last"
        printf 'Test failed: %s (tests line %s; last call: %s)\n' \
            "$line" "$((__hel_fail_line - __hel_offset))" "${last:-none}" >&2
    fi
    exit "$code"
}

__hel_self="$0"
trap __hel_exit EXIT
trap '__hel_fail_line=$LINENO' ERR
set -E

if ! __hel_read; then __hel_stop 3 "the candidate ended before it was ready"; fi
[[ "$__hel_line" == '{"ready":true}' ]] || __hel_stop 2 "the candidate sent something else than {\"ready\":true}"
"""

SERVE = r"""# The candidate's side: its code first (as in one process), then the calls.
source ./main.sh
set +e
__hel_serve() {
    local line name enc a out rc
    local -a args
    printf '{"ready":true}\n' >&4
    while IFS= read -r line <&3; do
        [[ "$line" =~ ^\{\"call\":\"([A-Za-z_][A-Za-z0-9_]*)\",\"args\":\[(.*)\]\}$ ]] || exit 2
        name=${BASH_REMATCH[1]}
        args=()
        IFS=, read -r -a enc <<< "${BASH_REMATCH[2]}"
        for a in "${enc[@]}"; do
            a=${a#\"}
            a=$(printf '%s' "${a%\"}" | base64 -d; printf x)
            args+=("${a%x}")
        done
        out=$("$name" "${args[@]}"; rc=$?; printf x; exit "$rc")
        rc=$?
        printf '{"value":{"out":"%s","status":%d}}\n' "$(printf '%s' "${out%x}" | base64 -w0)" "$rc" >&4
    done
}
__hel_serve
"""

# Functions the prompt (trusted text) defines: the ones the tests may call on the candidate.
_FUNCTION = re.compile(r"^[ \t]*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)", re.MULTILINE)
# Where the tests proper begin: MultiPL-E's lines before it close the candidate's function.
_CANDIDATE = re.compile(r"^[ \t]*(?:function\s+)?candidate\s*\(\s*\)", re.MULTILINE)


def _split_tests(tests: str) -> tuple[str, str]:
    """(the tests' lead-in that belongs to the candidate's code, the tests proper)."""
    m = _CANDIDATE.search(tests)
    if m is None:
        return "", tests
    return tests[: m.start()], tests[m.start() :]


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "bash")
    lead, tests = _split_tests(problem.tests)
    names = list(dict.fromkeys(_FUNCTION.findall(problem.prompt)))
    if problem.entry_point and problem.entry_point not in names:
        names.append(problem.entry_point)
    defined = set(_FUNCTION.findall(tests))
    stubs = "".join(f'{n}() {{ __hel_call {n} "$@"; }}\n' for n in names if n not in defined)
    # Reason lines count the tests' lines as the dataset does (the lead-in included).
    offset = JUDGE.count("\n") + stubs.count("\n") + 1 - lead.count("\n")
    head = JUDGE + stubs + f"__hel_offset={offset}\n"
    return Program(
        language="bash",
        files={"main.sh": source + "\n" + lead, "serve.sh": SERVE},
        run=("bash", "serve.sh"),
        judge=("bash", "judge.sh"),
        judge_files={"judge.sh": head + tests + "\nexit 0\n"},
        failure_markers=("failed",),
    )


SPEC = LanguageSpec(
    name="bash",
    aliases=("sh",),
    build=build,
    stop_sequences=("\n#", "\nfunction ", "\n\n\n", "\n```"),
    image_tools=("bash",),
)
