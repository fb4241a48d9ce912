"""The eight newer languages' program layouts, without Docker: every MultiPL-E problem of each file
builds, the tests land where the candidate cannot reach them, and refused constructs are refused."""

from __future__ import annotations

import pytest

from humaneval_lab.errors import UserInputError
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.languages.csharp import uncomment_signature
from humaneval_lab.problems import Problem

from .multipl_e_bodies import BODIES
from .test_more_languages import SUFFIX, problems, wrong

NEW = sorted(SUFFIX)


@pytest.mark.parametrize("language", NEW)
def test_every_problem_of_the_file_builds(language: str) -> None:
    ps = problems(language)
    assert len(ps) >= 150
    spec = get_language(language)
    for p in ps:
        assert p.language == language
        prog = spec.build(p, source_of(p, wrong(language, p)))
        assert prog.run and prog.files
        # The completion is in the program (never dropped on the way).
        assert any(wrong(language, p) in text for text in prog.files.values()), p.task_id


@pytest.mark.parametrize("language", NEW)
def test_tests_are_not_in_the_candidates_file(language: str) -> None:
    """Where tests and candidate are separate files, the candidate's holds no test line."""
    p = next(q for q in problems(language) if q.task_id == "HumanEval_0_has_close_elements")
    prog = get_language(language).build(p, source_of(p, BODIES[language][1]))
    line = next(line for line in p.tests.splitlines() if "0.3" in line)
    first_check = line[line.index("0.3") - 20 : line.index("0.3") + 3]  # inside the check's call
    candidate_file = {
        "csharp": "Problem.cs", "scala": "Problem.scala", "ocaml": "cand.ml", "racket": "cand.rkt",
        "elixir": "tests.exs", "r": "tests.R",
    }.get(language)  # fmt: skip
    if candidate_file is None:  # one file: d, haskell
        assert len(prog.files) == 1
        return
    if language in ("elixir", "r"):  # two processes: the tests are the judge's alone
        assert not any(first_check in text for text in prog.files.values())
        assert first_check in prog.judge_files[candidate_file]
        return
    assert first_check not in prog.files[candidate_file]
    assert sum(first_check in text for text in prog.files.values()) == 1


def test_csharp_signature_is_uncommented_and_asserts_are_ours() -> None:
    p = next(q for q in problems("csharp") if q.task_id == "HumanEval_0_has_close_elements")
    assert p.prompt.rstrip().splitlines()[-1].lstrip().startswith("//     public static bool")
    assert uncomment_signature(p.prompt).rstrip().splitlines()[-1] == (
        "    public static bool HasCloseElements(List<float> numbers, float threshold) {"
    )
    prog = get_language("csharp").build(p, source_of(p, BODIES["csharp"][1]))
    assert "Debug.Assert" not in prog.files["Tests.cs"]
    assert prog.files["Tests.cs"].count("global::HelJudge.Check.Assert(") == p.tests.count("Debug.Assert(")
    # The line numbers are the tests' own.
    assert ", 3);" in prog.files["Tests.cs"]
    assert "-main:HelJudge.HelMain" in prog.compile[0]


@pytest.mark.parametrize(
    ("language", "completion", "word"),
    [
        ("d", '{\n    return 0;\n}\nmixin("int x;");\n', "mixin"),
        ("d", "{\n    return 0;\n}\nextern (C) void _exit(int) {}\n", "extern"),
        ("d", "{\n    return 0;\n}\npragma(crt_constructor) void f() {}\n", "pragma"),
        ("d", "{\n    return _hel_gate(false), 0;\n}\n", "_hel_gate"),
        ("ocaml", "  Obj.magic 0\n", "Obj"),
        ("ocaml", "  Marshal.to_string 0 [] |> String.length\n", "Marshal"),
        ("ocaml", '  0\nexternal f : int -> int = "%identity"\n', "external"),
        ("haskell", ' 0\nforeign import ccall "stdlib.h exit" e :: Int -> Int\n', "foreign"),
        ("haskell", ' 0; foreign import ccall "exit" e :: Int -> Int\n', "foreign"),
    ],
)
def test_refused_constructs_are_a_compile_error_with_the_reason(
    language: str, completion: str, word: str
) -> None:
    p = next(q for q in problems(language) if q.task_id == "HumanEval_13_greatest_common_divisor")
    prog = get_language(language).build(p, source_of(p, completion))
    assert len(prog.compile) == 1 and prog.compile[0][0] == "sh"
    assert prog.compile[0][-1] == f"{word} is not allowed in a candidate"


def test_unexpected_layouts_are_refused() -> None:
    for language in NEW:
        p = Problem("X/0", language, "p", "t", "f", source_format="humaneval-x")
        with pytest.raises(UserInputError, match="no program layout"):
            get_language(language).build(p, "p")
    bad = Problem("X/1", "csharp", "class Problem {\n", "not tests", "f", source_format="multipl-e")
    with pytest.raises(UserInputError, match="unexpected test layout"):
        get_language("csharp").build(bad, "class Problem {\n")


def test_every_harness_file_ships_as_package_data() -> None:
    """An installed copy must hold each judge's files (setup.cfg's package_data patterns)."""
    import configparser
    import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    patterns = [p.strip() for p in cfg["options.package_data"]["humaneval_lab.languages"].split(",")]
    harness = root / "humaneval_lab" / "languages" / "harness"
    files = sorted(f"harness/{f.name}" for f in harness.iterdir() if f.is_file())
    assert any(f.endswith(".R") for f in files) and any(f.endswith(".exs") for f in files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)] == []
