"""Scala 2.11: MultiPL-E and native problems, compiled with ``scalac`` and run on the JVM.

MultiPL-E's tests close the candidate's method, add ``main`` to ``object Problem`` (asserting with
``Predef.assert``) and close the object. As for Java (``java.py``), three packages keep every name
the candidate declares away from trusted code:

- ``hel.cand``: prompt + completion + the two closing braces;
- ``hel.tests``: the tests' ``main`` body in ``object Tests``, after the prompt's imports and a
  single import of the entry method (a candidate ``assert``, implicit conversion or helper in
  ``Problem`` is not imported); ``assert`` is called as ``_root_.scala.Predef.assert``;
- ``org.humaneval_lab.judge.HelMain`` names everything by its full path, reads the token into two ``Long`` locals
  before any candidate class loads, runs the tests, prints the token after they returned and halts
  (no shutdown hook of the candidate runs after the verdict).

MultiPL-E judges Scala by exit 0 and an empty stderr; here a failed ``assert`` throws
``java.lang.AssertionError``, which ends the run with status 1 and no token.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# Debian's scala package: the runtime library the compiled classes need.
_LIBRARY = "/usr/share/scala/lib/scala-library.jar"
_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss16m", "-XX:+DisableAttachMechanism")

_JUDGE = """\
package org.humaneval_lab.judge

object HelMain {
  def main(args: Array[String]): Unit = {
    val buf = new Array[Byte](64)
    var n = 0
    val in = new java.io.FileInputStream(java.io.FileDescriptor.in)
    var reading = true
    while (reading && n < buf.length) {
      val r = in.read(buf, n, buf.length - n)
      if (r <= 0) reading = false
      else {
        n += r
        if (buf(n - 1) == '\\n') reading = false
      }
    }
    while (n > 0 && (buf(n - 1) == '\\n' || buf(n - 1) == '\\r')) n -= 1
    var hi = 0L
    var lo = 0L
    var ok = n == 32
    var i = 0
    while (ok && i < n) {
      val d = java.lang.Character.digit(buf(i).toInt, 16)
      ok = d >= 0
      if (i < 16) hi = (hi << 4) | d else lo = (lo << 4) | d
      i += 1
    }
    java.util.Arrays.fill(buf, 0.toByte)
    if (!ok) java.lang.Runtime.getRuntime().halt(3)
    val out = new java.io.FileOutputStream(java.io.FileDescriptor.out)
    try {
      _root_.hel.tests.Tests.run()
    } catch {
      case e: java.lang.Throwable =>
        java.lang.System.out.flush()
        e.printStackTrace()
        // The reason line: getClass is final, the candidate cannot change what it says.
        java.lang.System.err.println(e.getClass().getName())
        java.lang.System.err.flush()
        java.lang.Runtime.getRuntime().halt(1)
    }
    java.lang.System.out.flush()
    out.write(java.lang.String.format("%n%016x%016x%n", java.lang.Long.valueOf(hi), java.lang.Long.valueOf(lo)).getBytes())
    out.flush()
    java.lang.Runtime.getRuntime().halt(0)
  }
}
"""

_IMPORT = re.compile(r"^\s*import\s+[\w.]+(?:\._)?\s*$", re.MULTILINE)
_MAIN = re.compile(
    r"\A\s*\}\s*\n\s*def\s+main\s*\(\s*args\s*:\s*Array\[String\]\s*\)\s*(?::\s*Unit\s*)?=\s*\{"
)
_DEF = re.compile(r"^\s*def\s+(\w+)", re.MULTILINE)
_ASSERT = re.compile(r"(?<![\w.])assert\(")


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "scala")
    m = _MAIN.match(problem.tests)
    tail = problem.tests.rstrip()
    defs = _DEF.findall(problem.prompt)
    if m is None or not tail.endswith("}") or not defs:
        raise UserInputError(f"scala: unexpected test layout in {problem.task_id}")
    body = tail[m.end() : -1].rstrip()
    if not body.endswith("}"):
        raise UserInputError(f"scala: unexpected test layout in {problem.task_id}")
    body = _ASSERT.sub("_root_.scala.Predef.assert(", body[:-1])
    imports = "\n".join(i.group(0).strip() for i in _IMPORT.finditer(problem.prompt))
    tests = (
        f"package hel.tests\n{imports}\nimport _root_.hel.cand.Problem.{defs[-1]}\n"
        f"object Tests {{\n  def run(): Unit = {{\n{body}\n  }}\n}}\n"
    )
    return Program(
        language="scala",
        files={
            "Problem.scala": "package hel.cand\n" + source + "\n    }\n}\n",
            "Tests.scala": tests,
            "HelMain.scala": _JUDGE,
        },
        compile=(
            (
                "scalac",
                "-J-XX:+UseSerialGC",
                "-J-XX:TieredStopAtLevel=1",
                "-J-Xss16m",
                "-nowarn",
                "-d",
                ".",
                "Problem.scala",
                "Tests.scala",
                "HelMain.scala",
            ),
        ),
        run=("java", *_JVM_FLAGS, "-cp", f".:{_LIBRARY}", "org.humaneval_lab.judge.HelMain"),
        failure_markers=("java.lang.AssertionError",),
    )


SPEC = LanguageSpec(
    name="scala",
    build=build,
    stop_sequences=("\n    }\n",),
    image_tools=("scalac", "java"),
)
