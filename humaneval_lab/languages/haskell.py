"""Haskell: MultiPL-E and native problems, compiled with GHC 9.0 (``ghc -O0``).

MultiPL-E runs ``runghc`` on prompt + completion + tests, whose ``main`` checks each case with
``if ... then pure () else error "assertion failed"``; exit 0 is a pass. Here the tests' ``main`` is
renamed ``_hel_tests`` and our ``main`` (names imported qualified, so a candidate definition changes
none of them) reads the token from stdin first, then runs the tests and prints the token only after
they returned; an exception (a failed check, or the candidate's) ends the run with status 1.

Candidate code runs only when the tests force its values (Haskell is lazy; top-level values are
evaluated on demand), i.e. after the token was read. A ``{-# LANGUAGE #-}`` or ``OPTIONS_GHC``
pragma in a completion is not at the top of the file, so GHC ignores it (no Template Haskell).

No import may follow the prompt's declarations, so a completion has no IO of its own (no files, no
``unsafePerformIO``) except through the FFI of Haskell 2010: a top-level ``foreign import ccall``
reaches libc (``system``, ``exit``, raw memory, where the token is). The word ``foreign`` in a
completion is therefore refused (a compile error with the reason); no honest completion needs it.
"""

from __future__ import annotations

import re

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import refuse, sub_exact, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# Imports must precede every declaration: they go first, qualified under names no prompt uses.
_IMPORTS = """\
import qualified Control.Exception as HelE
import qualified System.Exit as HelX
import qualified System.IO as HelIO
"""

_MAIN = """
main :: IO ()
main = do
  helToken <- HelIO.getLine
  HelIO.hClose HelIO.stdin
  helResult <- HelE.try (_hel_tests >>= HelE.evaluate)
  case helResult of
    Left helErr -> do
      HelIO.hFlush HelIO.stdout
      HelIO.hPutStrLn HelIO.stderr ("hel: the tests raised: " ++ show (helErr :: HelE.SomeException))
      HelX.exitWith (HelX.ExitFailure 1)
    Right () -> do
      HelIO.hFlush HelIO.stdout
      HelIO.putStrLn ("\\n" ++ helToken)
      HelIO.hFlush HelIO.stdout
      HelX.exitSuccess
"""

# Anywhere, comments and strings included: a declaration may follow `;` on any line, and a
# refused honest comment costs less than a missed foreign import.
_FORBIDDEN = re.compile(r"\b(foreign)\b")


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "haskell")
    tests = sub_exact(r"^main\s*::\s*IO\s*\(\)\s*$", "_hel_tests :: IO ()", problem.tests, "main :: IO ()")
    tests = sub_exact(r"^main\s*=", "_hel_tests =", tests, "main =")
    found = _FORBIDDEN.search(source)
    return Program(
        language="haskell",
        files={"Main.hs": _IMPORTS + source + "\n" + tests + _MAIN},
        # -O0: these programs are tiny and compile time dominates.
        compile=(refuse(f"{found.group(1)} is not allowed in a candidate"),)
        if found
        else (("ghc", "-O0", "-v0", "-w", "-o", "main", "Main.hs"),),
        run=("./main",),
        failure_markers=("assertion failed",),
    )


SPEC = LanguageSpec(
    name="haskell",
    aliases=("hs",),
    build=build,
    stop_sequences=("\n\n", "\n{-", "\n-- |", "\n--", "\ntype", "\ndata", "\nnewtype"),
    image_tools=("ghc",),
)
