"""JavaScript (Node): HumanEval-X, MultiPL-E and native problems.

The program (prompt + completion + tests) is ``main.js``; the entry point is ``run.js``, which reads
the token into a local of its own module (candidate code cannot name it), requires ``main.js`` and
prints the token only if that returned. HumanEval-X's tests use ``console.assert``, which in Node only
prints to stderr and exits 0: ``run.js`` first replaces it, non-writably, with one that throws.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

RUNNER = r"""'use strict';
(function () {
  const fs = require('fs');
  let input = '';
  try { input = fs.readFileSync(0, 'utf8'); } catch (e) { input = ''; }
  const token = input.split('\n')[0].trim();
  const strictAssert = function (ok, ...message) {
    if (!ok) {
      const err = new Error('console.assert failed' + (message.length ? ': ' + message.join(' ') : ''));
      err.name = 'AssertionError';
      throw err;
    }
  };
  Object.defineProperty(console, 'assert', { value: strictAssert, writable: false, configurable: false });
  try {
    require('./%s');
  } catch (err) {
    // One last line that says what happened (Node would end with its version banner).
    const name = (err && err.name) || 'Error';
    process.stderr.write(String((err && err.stack) || err) + '\n' + name + ': ' + String(err && err.message) + '\n');
    process.exit(1);
  }
  process.stdout.write('\n' + token + '\n');
  // Stray timers must not turn a finished run into a timeout; pipes are written synchronously.
  process.exit(0);
})();
"""

# HumanEval-X's JS/162 requires the npm package js-md5 (md5(string) -> hex digest); Node's crypto
# gives the same answer, so the work dir gets this shim instead of the package.
JS_MD5_SHIM = """'use strict';
const crypto = require('crypto');
module.exports = (s) => crypto.createHash('md5').update(s).digest('hex');
module.exports.hex = module.exports;
"""


def node_program(
    language: str, main_file: str, code: str, compile_steps: tuple[tuple[str, ...], ...] = ()
) -> Program:
    """The node run shared by JavaScript and TypeScript (which compiles to ``main.js`` first)."""
    files = {main_file: code, "run.js": RUNNER % "main.js"}
    if "js-md5" in code:
        files["node_modules/js-md5/index.js"] = JS_MD5_SHIM
    return Program(
        language=language,
        files=files,
        compile=compile_steps,
        run=("node", "run.js"),
        failure_markers=("AssertionError", "check failed"),
    )


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "humaneval-x":
        code = source + "\n" + problem.tests
    else:
        code = script_program(problem, source, "javascript")
    return node_program("javascript", "main.js", code)


SPEC = LanguageSpec(
    name="javascript",
    aliases=("js", "node"),
    build=build,
    stop_sequences=("\nconst test", "\nconsole.log", "\n/*", "\n//", "\n```"),
    image_tools=("node",),
)
