"""Ruby: MultiPL-E (test/unit) and native problems (top-level checks that raise), two processes.

The trusted judge (``harness/hel_judge.rb``, run as the judge uid in its own dir) loads the tests
unchanged and runs them; the entry point, and any other method the tests call that the candidate
may define, is a private method on Object there (where a top-level ``def`` would put it) that asks
the candidate's process for the answer. The candidate's process (``harness/hel_candidate.rb``, the
sample uid) loads prompt + completion only (``main.rb``) and answers calls. Values cross as tagged
JSON (``harness/hel_codec.rb``): nil, booleans, Integer of any size, Float (NaN, infinities, -0.0
included), String with its encoding, Symbol, Array, Hash, Rational. The verdict is the judge's exit
code (see ``Program.judge``); nothing the candidate prints or does in its own process reaches it.
"""

from __future__ import annotations

import json
import re

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages._twoproc import harness, stub_names
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*[?!]?"
# method(:name), and receiverless calls name(...) (not after ".", "::", "@", "$" or a word).
_METHOD_REF = re.compile(r"\bmethod\(\s*:(" + _IDENT + r")\s*\)")
_BARE_CALL = re.compile(r"(?<![.\w:@$])(" + _IDENT + r")\(")
_DEFINED = re.compile(r"^\s*def\s+(?:self\.)?(" + _IDENT + r")", re.MULTILINE)
# Ruby's keywords, and test/unit's own assertions: never stubs.
# RubyGems costs most of a Ruby start; code that may load a gem (a bundled one: prime, matrix...)
# gets it, the rest starts without.
_NEEDS_GEMS = re.compile(r"require|autoload|\bgem\b|Gem\b")
_NOT_STUBS = re.compile(
    r"(?:assert|refute|flunk)\w*[?!]?|alias|and|begin|break|case|class|def|defined\?|do|else|elsif|end|ensure"
    r"|false|for|if|in|module|next|nil|not|or|redo|rescue|retry|return|self|super|then|true|undef"
    r"|unless|until|when|while|yield|method"
)


def _called_names(tests: str) -> set[str]:
    found = set(_METHOD_REF.findall(tests)) | set(_BARE_CALL.findall(tests))
    return {n for n in found - set(_DEFINED.findall(tests)) if not _NOT_STUBS.fullmatch(n)}


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "ruby")
    config = {
        "names": stub_names(problem, _called_names(problem.tests), _IDENT),
        "test_unit": "test/unit" in problem.tests,
    }
    codec = harness("hel_codec.rb")
    return Program(
        language="ruby",
        files={"main.rb": source, "hel_candidate.rb": harness("hel_candidate.rb"), "hel_codec.rb": codec},
        run=("ruby", *(() if _NEEDS_GEMS.search(source) else ("--disable-gems",)), "hel_candidate.rb"),
        judge=("ruby", "--disable-gems", "hel_judge.rb"),
        judge_files={
            "hel_judge.rb": harness("hel_judge.rb"),
            "hel_codec.rb": codec,
            "hel_judge.json": json.dumps(config),
            "tests.rb": problem.tests,
        },
    )


SPEC = LanguageSpec(
    name="ruby",
    aliases=("rb",),
    build=build,
    stop_sequences=("\nclass", "\ndef", "\n#", "\n\n\n", "\n```"),
    image_tools=("ruby",),
)
