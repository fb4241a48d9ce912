"""Java: HumanEval-X (``class Solution`` + ``public class Main``), MultiPL-E (``class Problem``) and
native problems.

Three packages, so no name the candidate declares reaches trusted code:

- ``hel.cand``: the candidate's compilation unit (prompt + completion), its entry class made public;
- ``hel.tests``: the tests, in a compilation unit of their own with the prompt's imports plus a
  single-type import of ``Solution`` (HumanEval-X) or a single static import of the entry method
  (MultiPL-E, whose tests were members of ``Problem``). A candidate class ``Arrays``, ``System`` or
  ``Main`` lives in ``hel.cand`` and shadows nothing there;
- ``org.humaneval_lab.judge``: ``HelMain``, which names everything by its full name, reads the token
  before any candidate class loads, defines every test class up front (so a class file rewritten
  while the tests run is never loaded), calls the tests' ``main`` by reflection and prints the token
  after it returned, then halts (no shutdown hook of the candidate runs after the verdict).

``-ea`` because MultiPL-E's tests are ``assert`` statements (ignored without it).
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# MultiPL-E's prompts import org.javatuples.*; Debian's libjavatuples-java provides it. A missing
# class path entry is ignored by javac and java, so other programs do not need the jar.
_CLASSPATH = ".:/usr/share/java/javatuples.jar"
# Start-up dominates the run time of these tiny programs; C1 only and the serial collector halve it.
# No attach mechanism: a sample could otherwise ask its own JVM for a heap dump through jcmd.
_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss16m", "-XX:+DisableAttachMechanism")

# The token is 32 hex digits: it is kept in two long locals (a String or an array would sit in the
# heap, where a heap dump finds it), parsed from a buffer that is zeroed at once.
_WRAPPER = """\
package org.humaneval_lab.judge;

public final class HelMain {
    public static void main(java.lang.String[] args) throws java.lang.Throwable {
        byte[] buf = new byte[64];
        int n = 0;
        java.io.FileInputStream in = new java.io.FileInputStream(java.io.FileDescriptor.in);
        while (n < buf.length) {
            int r = in.read(buf, n, buf.length - n);
            if (r <= 0) break;
            n += r;
            if (buf[n - 1] == '\\n') break;
        }
        while (n > 0 && (buf[n - 1] == '\\n' || buf[n - 1] == '\\r')) n--;
        long hi = 0, lo = 0;
        boolean ok = n == 32;
        for (int i = 0; i < n && ok; i++) {
            int d = java.lang.Character.digit(buf[i], 16);
            ok = d >= 0;
            if (i < 16) hi = (hi << 4) | d; else lo = (lo << 4) | d;
        }
        java.util.Arrays.fill(buf, (byte) 0);
        if (!ok) java.lang.Runtime.getRuntime().halt(3);
        java.io.FileOutputStream out = new java.io.FileOutputStream(java.io.FileDescriptor.out);
        java.lang.ClassLoader loader = HelMain.class.getClassLoader();
        java.io.File[] classes = new java.io.File("hel/tests").listFiles();
        if (classes != null) {
            for (java.io.File f : classes) {
                java.lang.String name = f.getName();
                if (name.endsWith(".class")) {
                    java.lang.Class.forName("hel.tests." + name.substring(0, name.length() - 6), false, loader);
                }
            }
        }
        java.lang.reflect.Method tests = java.lang.Class.forName("hel.tests.%s", false, loader)
            .getMethod("main", java.lang.String[].class);
        try {
            tests.invoke(null, (java.lang.Object) new java.lang.String[0]);
        } catch (java.lang.reflect.InvocationTargetException e) {
            java.lang.System.out.flush();
            java.lang.Throwable cause = e.getCause();
            cause.printStackTrace();
            // The reason line: getClass() is final, the candidate cannot change what it says.
            java.lang.System.err.println(cause.getClass().getName());
            java.lang.System.err.flush();
            java.lang.Runtime.getRuntime().halt(1);
        }
        java.lang.System.out.flush();
        out.write(java.lang.String.format("%%n%%016x%%016x%%n", hi, lo).getBytes());
        out.flush();
        // Stray threads must not turn a finished run into a timeout; no candidate hook runs.
        java.lang.Runtime.getRuntime().halt(0);
    }
}
"""

_CLASS = re.compile(r"^(\s*)((?:public\s+)?(?:final\s+)?)class\s+(\w+)", re.MULTILINE)
_IMPORT = re.compile(r"^\s*import\s+[\w.]+(?:\.\*)?\s*;", re.MULTILINE)
_METHOD = re.compile(r"(\w+)\s*\([^()]*\)\s*(?:throws\s+[\w.,\s]+)?\{\s*$")


def _public(code: str, name: str) -> str:
    """``code`` with the top-level class ``name`` declared public (other packages use it)."""
    for m in _CLASS.finditer(code):
        if m.group(3) == name:
            if "public" in m.group(2):
                return code
            return code[: m.start(2)] + "public " + code[m.start(2) :]
    raise UserInputError(f"java: no class {name} in the program")


def _layout(problem: Problem, source: str) -> tuple[str, str, str]:
    """(the candidate's entry class, its compilation unit, the tests' compilation unit body)."""
    imports = "\n".join(m.group(0).strip() for m in _IMPORT.finditer(problem.prompt))
    head = re.match(r"\s*\}\s*\n", problem.tests)
    if problem.source_format == "humaneval-x" or head is None:
        # Tests of their own (``public class Main``) that use the prompt's class by name; the
        # methods they call must be public (HumanEval-X's are).
        entry = next((m.group(3) for m in _CLASS.finditer(problem.prompt)), "Solution")
        return entry, source, f"{imports}\nimport hel.cand.{entry};\n{problem.tests}"
    tests = problem.tests
    tail = tests.rstrip()
    if not tail.endswith("}"):
        raise UserInputError(f"java: unexpected test layout in {problem.task_id}")
    # MultiPL-E's tests close the method, add ``main`` to class Problem, close the class: the two
    # braces stay the candidate's, ``main`` moves to a class of its own.
    body = tail[head.end() : -1]
    entry = next((m.group(3) for m in _CLASS.finditer(problem.prompt)), "")
    method = None
    for line in reversed(problem.prompt.rstrip().splitlines()):
        method = _METHOD.search(line)
        if method:
            break
    if not entry or method is None:
        raise UserInputError(f"java: no class or method to complete in {problem.task_id}'s prompt")
    cand = source + "\n" + tests[: head.end()] + "}\n"
    return (
        entry,
        cand,
        (f"{imports}\nimport static hel.cand.{entry}.{method.group(1)};\npublic class Main {{\n{body}\n}}\n"),
    )


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("humaneval-x", "multipl-e", "native"):
        raise unsupported(problem, "java")
    entry, cand, tests = _layout(problem, source)
    cand_file, tests_file = f"{entry}.java", "tests/Main.java"
    return Program(
        language="java",
        files={
            cand_file: "package hel.cand;\n" + _public(cand, entry),
            tests_file: "package hel.tests;\n" + tests,
            "HelMain.java": _WRAPPER % "Main",
        },
        compile=(
            (
                "javac",
                "-J-XX:+UseSerialGC",
                "-J-XX:TieredStopAtLevel=1",
                "-encoding",
                "UTF-8",
                "-nowarn",
                "-cp",
                _CLASSPATH,
                "-d",
                ".",
                cand_file,
                tests_file,
                "HelMain.java",
            ),
        ),  # fmt: skip
        run=("java", *_JVM_FLAGS, "-ea", "-cp", _CLASSPATH, "org.humaneval_lab.judge.HelMain"),
        failure_markers=("AssertionError",),
    )


SPEC = LanguageSpec(
    name="java",
    build=build,
    stop_sequences=("\npublic class Main", "\nclass Main", "\n    public static void main", "\n```"),
    image_tools=("javac", "java"),
)
