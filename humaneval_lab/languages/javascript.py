"""JavaScript (Node): HumanEval-X, MultiPL-E and native problems, judged by two processes.

The tests never run beside the candidate. A trusted judge (``hel_judge.js``: in the sandbox the
worker's warm judge under a uid of its own, sent the tests over its pipe, see
sandbox/runner/nodejudge.py; else the slot's judge uid, in a dir the candidate cannot read) runs the
problem's tests unchanged, with the entry point bound to a stub; the candidate (``hel_candidate.js`` under the sample's uid) loads only prompt +
completion (``main.js``) and answers each call over a pipe. Values cross as tagged JSON
(``_node_codec.js``: undefined, NaN, +-Infinity, -0, BigInt, holes, nested arrays and plain objects
keep what a test's ``===``/``deepEqual`` would see); the judge parses them into fresh values of its
own, and its exit code is the verdict (see ``Program.judge``). So nothing the candidate does in its
own process (``process.exit``, patched ``assert``/``JSON``/``console``, printed tokens, lying
``valueOf``/``toJSON``) can reach the verdict, and the tests' expected values never reach it.

Helpers of the prompt that the tests call (HumanEval-X/32 ``poly``, /38 ``encodeCyclic``, /50
``encodeShift``) are the prompt's own, defined in the judge: a completion cannot change what the
tests call. HumanEval-X's tests use ``console.assert``, which in Node only prints: the judge makes
it throw. A test that relies on the candidate mutating its arguments cannot see that (values cross
by copy).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# HumanEval-X's JS/162 requires the npm package js-md5 (md5(string) -> hex digest); Node's crypto
# gives the same answer, so the work dir gets this shim instead of the package.
JS_MD5_SHIM = """'use strict';
const crypto = require('crypto');
module.exports = (s) => crypto.createHash('md5').update(s).digest('hex');
module.exports.hex = module.exports;
"""

JUDGE = ("node", "hel_judge.js", "hel_tests.json")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")


@cache
def node_source(name: str) -> str:
    """One of the node helpers shipped beside this module (``_node_<name>.js``)."""
    return resources.files("humaneval_lab.languages").joinpath(f"_node_{name}.js").read_text("utf-8")


def prelude_of(prompt: str, entry: str) -> str:
    """The prompt's text before the entry point's declaration: the complete helpers it defines.

    The entry point's own declaration is the prompt's last and is left open for the completion;
    when it cannot be found the judge gets no helpers (a test that needs one fails as an error).
    """
    e = re.escape(entry)
    decl = re.compile(
        rf"^[ \t]*(?:export\s+)?(?:(?:async\s+)?function\s*\*?\s*{e}\s*[(<]|(?:const|let|var)\s+{e}\b)",
        re.MULTILINE,
    )
    starts = [m.start() for m in decl.finditer(prompt)]
    return prompt[: starts[-1]] if starts else ""


def node_program(
    language: str,
    problem: Problem,
    main_file: str,
    code: str,
    compile_steps: tuple[tuple[str, ...], ...] = (),
) -> Program:
    """The judge/candidate pair shared by JavaScript and TypeScript (which compiles ``main.js`` first).

    ``code`` is what the candidate loads (prompt + completion, never the tests).
    """
    entry = problem.entry_point
    if not _IDENTIFIER.fullmatch(entry or ""):
        raise UserInputError(
            f"{language}: {problem.task_id} needs an entry point that is an identifier, got {entry!r}"
        )
    prelude = prelude_of(problem.prompt, entry)
    spec = {
        "entry_point": entry,
        "prelude": prelude,
        "tests": problem.tests,
        "typescript": language == "typescript",
    }
    files = {
        main_file: code,
        "hel_candidate.js": node_source("candidate"),
        "hel_codec.js": node_source("codec"),
    }
    judge_files = {
        "hel_judge.js": node_source("judge"),
        "hel_codec.js": node_source("codec"),
        "hel_tests.json": json.dumps(spec),
    }
    if "js-md5" in code:
        files["node_modules/js-md5/index.js"] = JS_MD5_SHIM
    if "js-md5" in prelude + problem.tests:
        judge_files["node_modules/js-md5/index.js"] = JS_MD5_SHIM
    return Program(
        language=language,
        files=files,
        compile=compile_steps,
        run=("node", "hel_candidate.js", "main.js", entry),
        judge=JUDGE,
        judge_files=judge_files,
    )


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("humaneval-x", "multipl-e", "native"):
        raise unsupported(problem, "javascript")
    return node_program("javascript", problem, "main.js", source)


SPEC = LanguageSpec(
    name="javascript",
    aliases=("js", "node"),
    build=build,
    stop_sequences=("\nconst test", "\nconsole.log", "\n/*", "\n//", "\n```"),
    image_tools=("node",),
)
