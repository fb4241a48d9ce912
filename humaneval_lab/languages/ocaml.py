"""OCaml 4.13: MultiPL-E and native problems, compiled with ``ocamlc`` (bytecode).

MultiPL-E runs the ``ocaml`` toplevel on prompt + completion + tests (``let assertions = ...
(assert (... = ...)); ...``); exit 0 is a pass. Here three compilation units, linked in this order:

- ``hel_judge.ml`` (trusted): reads the token when it is initialised, i.e. before any candidate code
  runs, into a local of the closure ``run``; ``run f`` evaluates the tests, unchanged, in a local
  module with the entry point bound to ``f``, then prints the token and exits. Its ``=``, ``assert``
  and everything else are the standard library's: the candidate's unit is not opened there, so a
  candidate ``let (=) _ _ = true`` changes nothing. Calling ``run`` itself can only run the tests;
- ``cand.ml``: prompt + completion;
- ``hel_main.ml``: ``Hel_judge.run Cand.<entry>``.

The token sits in a closure; a candidate could read it only through ``Obj`` or ``Marshal`` (which
see a closure's environment) or a C primitive (``external``): a candidate naming any of them is
refused (a compile error with the reason). OCaml builds no code from strings.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import refuse, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_JUDGE = """\
let run =
  let token = try Stdlib.input_line Stdlib.stdin with Stdlib.End_of_file -> "" in
  let token = Stdlib.String.trim token in
  if Stdlib.String.length token = 0 then Stdlib.exit 3;
  fun %s ->
    (match (let module M = struct
%s
     end in ()) with
     | () -> ()
     | exception e ->
         Stdlib.flush Stdlib.stdout;
         Stdlib.prerr_endline ("hel: the tests raised " ^ Stdlib.Printexc.to_string e);
         Stdlib.exit 1);
    Stdlib.flush Stdlib.stdout;
    Stdlib.print_string ("\\n" ^ token ^ "\\n");
    Stdlib.flush Stdlib.stdout;
    Stdlib.exit 0
"""

_LET = re.compile(r"^let\s+(?:rec\s+)?(\w+)", re.MULTILINE)
_FORBIDDEN = re.compile(r"\b(Obj|Marshal|external)\b")


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "ocaml")
    names = _LET.findall(problem.prompt)
    if not names:
        raise UserInputError(f"ocaml: no function to complete in {problem.task_id}'s prompt")
    entry = names[-1]
    found = _FORBIDDEN.search(source)
    units = ("hel_judge.ml", "cand.ml", "hel_main.ml")
    return Program(
        language="ocaml",
        files={
            "hel_judge.ml": _JUDGE % (entry, problem.tests),
            "cand.ml": source + "\n",
            "hel_main.ml": f"let () = Hel_judge.run Cand.{entry}\n",
        },
        compile=(refuse(f"{found.group(1)} is not allowed in a candidate"),)
        if found
        else (("ocamlc", "-w", "-a", "-o", "main", *units),),
        run=("./main",),
        failure_markers=("Assert_failure", "Assertion failed"),
    )


SPEC = LanguageSpec(
    name="ocaml",
    aliases=("ml",),
    build=build,
    stop_sequences=("\n\n", "\n(*", "\ntype", "\nlet"),
    image_tools=("ocamlc",),
)
