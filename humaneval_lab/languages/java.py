"""Java: HumanEval-X (``class Solution`` + ``public class Main``), MultiPL-E (``class Problem``) and
native problems.

A wrapper class ``HelMain`` is the entry point: it reads the token into a local, calls the tests'
``main`` and prints the token after it returned. Classes load lazily, so no candidate static
initialiser runs before the token is read. ``-ea`` because MultiPL-E's tests are ``assert``
statements (ignored without it).
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import script_program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# MultiPL-E's prompts import org.javatuples.*; Debian's libjavatuples-java provides it. A missing
# class path entry is ignored by javac and java, so other programs do not need the jar.
_CLASSPATH = ".:/usr/share/java/javatuples.jar"
# Start-up dominates the run time of these tiny programs; C1 only and the serial collector halve it.
_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss16m")

_WRAPPER = """\
public class HelMain {
    public static void main(String[] args) throws Throwable {
        String token = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        %s.main(args);
        System.out.flush();
        System.out.println();
        System.out.println(token == null ? "" : token.trim());
        System.out.flush();
        // Stray non-daemon threads must not turn a finished run into a timeout.
        System.exit(0);
    }
}
"""

_CLASS = re.compile(r"^\s*(?:public\s+)?(?:final\s+)?class\s+(\w+)", re.MULTILINE)


def _entry_class(problem: Problem) -> str:
    """The class whose ``main`` runs the tests: HumanEval-X's tests declare ``public class Main``;
    MultiPL-E's continue the prompt's ``class Problem``; native tests follow one of the two styles."""
    in_tests = _CLASS.findall(problem.tests)
    if in_tests:
        return str(in_tests[-1])
    in_prompt = _CLASS.findall(problem.prompt)
    if in_prompt:
        return str(in_prompt[0])
    raise UserInputError(f"java: no class declaration in {problem.task_id}'s prompt or tests")


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "humaneval-x":
        code = source + "\n" + problem.tests
    else:
        code = script_program(problem, source, "java")
    entry = _entry_class(problem)
    # A public class must live in a file of its name; other classes may share it.
    public = re.search(r"^\s*public\s+(?:final\s+)?class\s+(\w+)", code, re.MULTILINE)
    filename = f"{public.group(1) if public else entry}.java"
    return Program(
        language="java",
        files={filename: code, "HelMain.java": _WRAPPER % entry},
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
                filename,
                "HelMain.java",
            ),
        ),  # fmt: skip
        run=("java", *_JVM_FLAGS, "-ea", "-cp", _CLASSPATH, "HelMain"),
        failure_markers=("AssertionError",),
    )


SPEC = LanguageSpec(
    name="java",
    build=build,
    stop_sequences=("\npublic class Main", "\nclass Main", "\n    public static void main", "\n```"),
    image_tools=("javac", "java"),
)
