"""C#: MultiPL-E and native problems, compiled with Mono's ``mcs`` and run with ``mono``.

MultiPL-E's tests close the candidate's method, add ``Main`` to ``class Problem`` and close the
class; they assert with ``Debug.Assert`` (compiled with ``-d:DEBUG``) and MultiPL-E reads failures
from stderr, since a failed ``Debug.Assert`` does not change the exit code. Here:

- the candidate's compilation unit is prompt + completion + the two closing braces;
- the tests' ``Main`` moves to ``HelTests.Tests.Run`` in a namespace of its own whose ``using``
  directives are the prompt's, placed *inside* that namespace so they win over any type the
  candidate declares (a candidate ``List`` or ``Debug`` is ambiguous there: a compile error, never
  a silent replacement); the entry method is brought in with ``using static global::Problem``;
- every ``Debug.Assert(x)`` becomes ``global::HelJudge.Check.Assert(x, line)``: a failed check
  writes the tests' line to stderr and ends the process with status 1 at once. The candidate cannot
  silence it (``Trace.Listeners`` no longer matter) and cannot catch it;
- ``HelJudge.HelMain`` is the only entry point (``-main:``): it reads the token into two ``ulong``
  locals before any candidate class is touched (a static constructor runs on first use), runs the
  tests, prints the token after they returned and exits.

MultiPL-E's prompts at this commit comment out the signature line itself (``//     public static
...``); a body-only completion cannot compile against that, so the last prompt line is un-commented
when it is such a signature (docs/languages.md).
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_JUDGE = r"""
namespace HelJudge {
    public static class Check {
        public static void Assert(bool ok, int line) {
            if (ok) return;
            var err = System.Console.OpenStandardError();
            var msg = System.Text.Encoding.UTF8.GetBytes("hel: assertion failed at tests line " + line + "\n");
            err.Write(msg, 0, msg.Length);
            err.Flush();
            System.Environment.Exit(1);
        }
    }

    public static class HelMain {
        public static int Main() {
            var input = System.Console.OpenStandardInput();
            var buf = new byte[64];
            int n = 0;
            while (n < buf.Length) {
                int r = input.Read(buf, n, buf.Length - n);
                if (r <= 0) break;
                n += r;
                if (buf[n - 1] == (byte)'\n') break;
            }
            while (n > 0 && (buf[n - 1] == (byte)'\n' || buf[n - 1] == (byte)'\r')) n--;
            if (n != 32) return 3;
            ulong hi = 0, lo = 0;
            for (int i = 0; i < 32; i++) {
                int d = System.Uri.FromHex((char)buf[i]);
                if (i < 16) hi = (hi << 4) | (ulong)d; else lo = (lo << 4) | (ulong)d;
            }
            System.Array.Clear(buf, 0, buf.Length);
            try {
                global::HelTests.Tests.Run();
            } catch (System.Exception e) {
                var name = e.GetType().FullName;
                var err = System.Console.OpenStandardError();
                var msg = System.Text.Encoding.UTF8.GetBytes("hel: the tests raised " + name + "\n");
                err.Write(msg, 0, msg.Length);
                err.Flush();
                System.Environment.Exit(2);
            }
            System.Console.Out.Flush();
            var outs = System.Console.OpenStandardOutput();
            var line = System.Text.Encoding.ASCII.GetBytes("\n" + hi.ToString("x16") + lo.ToString("x16") + "\n");
            outs.Write(line, 0, line.Length);
            outs.Flush();
            System.Environment.Exit(0);
            return 0;
        }
    }
}
"""

_USING = re.compile(r"^\s*using\s+[\w.]+\s*;", re.MULTILINE)
_SIGNATURE = re.compile(r"^(\s*)//\s*(public\s+static\s+.*\{)\s*$")
_ASSERT = re.compile(r"\bDebug\.Assert\(")
_MAIN = re.compile(r"\A\s*\}\s*\n\s*public\s+static\s+void\s+Main\s*\(\s*string\s*\[\]\s*\w+\s*\)\s*\{")


def uncomment_signature(prompt: str) -> str:
    """MultiPL-E's C# prompt with its commented-out last line (the signature) made code again."""
    lines = prompt.rstrip().split("\n")
    m = _SIGNATURE.match(lines[-1])
    if m is None:
        return prompt
    lines[-1] = m.group(1) + m.group(2)
    return "\n".join(lines) + "\n"


def _asserts_with_lines(body: str, first_line: int) -> str:
    """``Debug.Assert(x)`` as ``global::HelJudge.Check.Assert(x, <line of the tests>)``."""
    out, pos = [], 0
    for m in _ASSERT.finditer(body):
        line = first_line + body.count("\n", 0, m.start())
        out.append(body[pos : m.start()])
        out.append("global::HelJudge.Check.Assert(")
        pos = m.end()
        # The line number goes in as the last argument: find this call's closing parenthesis.
        depth, i = 1, pos
        while i < len(body) and depth:
            c = body[i]
            if c == '"':
                i += 1
                while i < len(body) and body[i] != '"':
                    i += 2 if body[i] == "\\" else 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            i += 1
        if depth:
            raise UserInputError("csharp: unbalanced Debug.Assert( in the tests")
        out.append(body[pos : i - 1] + f", {line})")
        pos = i
    out.append(body[pos:])
    return "".join(out)


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "csharp")
    prompt = uncomment_signature(problem.prompt)
    if source.startswith(problem.prompt):
        source = prompt + source[len(problem.prompt) :]
    m = _MAIN.match(problem.tests)
    tail = problem.tests.rstrip()
    if m is None or not tail.endswith("}"):
        raise UserInputError(f"csharp: unexpected test layout in {problem.task_id}")
    # "}" closes the candidate's method, Main's body runs to the brace before the class's last one.
    body = tail[m.end() : -1].rstrip()
    if not body.endswith("}"):
        raise UserInputError(f"csharp: unexpected test layout in {problem.task_id}")
    body = body[:-1]
    usings = "\n".join("    " + u.group(0).strip() for u in _USING.finditer(prompt))
    tests = (
        "namespace HelTests {\n" + usings + "\n    using static global::Problem;\n"
        "    public static class Tests {\n        public static void Run() {\n"
        + _asserts_with_lines(body, problem.tests.count("\n", 0, m.end()) + 1) + "\n        }\n    }\n}\n"
    )  # fmt: skip
    return Program(
        language="csharp",
        files={"Problem.cs": source + "\n    }\n}\n", "Tests.cs": tests, "HelMain.cs": _JUDGE},
        compile=(
            (
                "mcs",
                "-d:DEBUG",
                "-nowarn:0162,0168,0219,0414,0649",
                "-r:System.Numerics.dll",
                "-main:HelJudge.HelMain",
                "-out:main.exe",
                "Problem.cs",
                "Tests.cs",
                "HelMain.cs",
            ),
        ),
        run=("mono", "main.exe"),
        env={"MONO_TRACE_LISTENER": "Console.Error"},
        failure_markers=("hel: assertion failed",),
    )


SPEC = LanguageSpec(
    name="csharp",
    aliases=("cs", "c#"),
    build=build,
    stop_sequences=("\n    }\n",),
    image_tools=("mcs", "mono"),
)
