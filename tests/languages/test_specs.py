"""Each language spec assembles the program we expect (no toolchain or Docker needed)."""

from __future__ import annotations

import json
import re

import pytest

from humaneval_lab.errors import UserInputError
from humaneval_lab.languages import all_languages, get_language, source_of
from humaneval_lab.problems import Problem, load_suite

from .conftest import multipl_e
from .multipl_e_bodies import BODIES

LANGUAGES = [
    "bash",
    "cpp",
    "go",
    "java",
    "javascript",
    "lua",
    "perl",
    "php",
    "python",
    "ruby",
    "rust",
    "typescript",
]


def build(problem: Problem, completion: str | None = None):  # type: ignore[no-untyped-def]
    completion = problem.canonical_solution if completion is None else completion
    return get_language(problem.language).build(problem, source_of(problem, completion or ""))


def test_registry_has_twelve_languages_with_tools_and_stops() -> None:
    names = [s.name for s in all_languages()]
    assert set(LANGUAGES) <= set(names)
    for spec in all_languages():
        assert spec.image_tools, spec.name
        assert spec.stop_sequences, spec.name
    assert get_language("js").name == "javascript"
    assert get_language("rs").name == "rust"
    assert get_language("c++").name == "cpp"


def test_cpp_humaneval_x_renames_test_main_and_reads_token_first(hx) -> None:  # type: ignore[no-untyped-def]
    p = hx["cpp"][0]
    prog = build(p)
    code = prog.files["main.cpp"]
    assert code.index(p.prompt) < code.index("#define main _hel_test_main") < code.index("int main(){")
    wrapper = code[code.index("#undef main") :]
    assert (
        wrapper.index("fgets(_hel_token")
        < wrapper.index("_hel_test_main();")
        < wrapper.index('printf("\\n%s\\n"')
    )
    assert "#include<algorithm>" in code  # HumanEval-X adds the standard headers the prompt lacks
    step = " ".join(prog.compile[0])
    assert (
        prog.compile[0][-1] == "g++" and "-std=c++11" in step and "humaneval-x.h" in step
    )  # PCH when present
    assert prog.run == ("./main",)
    assert "-lcrypto" in " ".join(build(hx["cpp"][162]).compile[0])
    assert "-lcrypto" not in step


def test_java_wrapper_calls_tests_main(hx) -> None:  # type: ignore[no-untyped-def]
    prog = build(hx["java"][0])
    assert set(prog.files) == {"Main.java", "HelMain.java"}
    wrapper = prog.files["HelMain.java"]
    assert wrapper.index("readLine()") < wrapper.index("Main.main(args);") < wrapper.index("println(token")
    assert prog.run[-1] == "HelMain" and "-ea" in prog.run
    mp = build(multipl_e("java", "HumanEval_0_has_close_elements"), BODIES["java"][1])
    assert "Problem.main(args);" in mp.files["HelMain.java"]
    assert "Problem.java" in mp.files


def test_javascript_tests_only_reach_the_judge(hx) -> None:  # type: ignore[no-untyped-def]
    p = hx["javascript"][0]
    prog = build(p)
    assert prog.files["main.js"] == p.prompt + p.canonical_solution  # prompt + completion, no tests
    assert p.tests.strip() not in "".join(prog.files.values())
    spec = json.loads(prog.judge_files["hel_tests.json"])
    assert spec == {"entry_point": "hasCloseElements", "prelude": p.prompt[: p.prompt.index("const hasClose")],
                    "tests": p.tests, "typescript": False}  # fmt: skip
    assert prog.run == ("node", "hel_candidate.js", "main.js", "hasCloseElements")
    assert prog.judge == ("node", "hel_judge.js", "hel_tests.json")
    assert "defineProperty(console, 'assert'" in prog.judge_files["hel_judge.js"]
    assert "js-md5" not in str(prog.files.keys())
    assert "node_modules/js-md5/index.js" in build(hx["javascript"][162]).files


@pytest.mark.parametrize(
    ("index", "helper"), [(10, "isPalindrome"), (32, "poly"), (38, "encodeCyclic"), (50, "encodeShift")]
)
def test_javascript_prompt_helpers_are_defined_by_the_judge(hx, index: int, helper: str) -> None:  # type: ignore[no-untyped-def]
    p = hx["javascript"][index]
    prelude = json.loads(build(p).judge_files["hel_tests.json"])["prelude"]
    assert f"const {helper} = " in prelude and f"const {p.entry_point} =" not in prelude


def test_typescript_compiles_prompt_and_completion_alone() -> None:
    p = multipl_e("ts", "HumanEval_0_has_close_elements")
    prog = build(p, BODIES["typescript"][1])
    assert prog.files["main.ts"] == p.prompt + BODIES["typescript"][1] + "\ndeclare var require: any;\n"
    assert prog.compile[0][0] == "tsc" and prog.compile[0][-1] == "main.ts"
    assert json.loads(prog.judge_files["hel_tests.json"])["typescript"] is True
    assert "assert.deepEqual" not in "".join(prog.files.values())


def test_go_humaneval_x_imports_what_the_code_uses(hx) -> None:  # type: ignore[no-untyped-def]
    p = hx["go"][17]  # its canonical solution uses strings without importing it
    prog = build(p)
    code = prog.files["main_test.go"]
    assert code.startswith("package main")
    assert '"strings"' in code
    assert code.count("import (") == 2  # test_setup's block and ours; the prompt's is removed
    assert "TestMain" in prog.files["hel_main_test.go"]
    assert prog.compile[-1][:3] == ("go", "test", "-c")
    assert prog.env["GO111MODULE"] == "off"
    p0 = hx["go"][0]
    code0 = build(p0).files["main_test.go"]
    assert code0.count('"math"') == 1  # from the prompt's import field, moved, not duplicated
    mp = build(multipl_e("go", "HumanEval_0_has_close_elements"), BODIES["go"][1])
    assert mp.files["hel_main_test.go"].startswith("package has_close_elements_test")


def test_rust_tests_run_without_libtest(hx) -> None:  # type: ignore[no-untyped-def]
    prog = build(hx["rust"][0])
    code = prog.files["main.rs"]
    assert "#[test]" not in code and "#[cfg(test)]" not in code
    assert "pub fn test_has_close_elements" in code
    main = code[code.index("fn main()") :]
    assert main.index("read_line") < main.index("tests::test_has_close_elements();") < main.index("println!")
    # CodeGeeX's prompt lacks the signature: it comes from the declaration.
    assert code.index("fn has_close_elements") < code.index(hx["rust"][0].canonical_solution.strip()[:20])
    # rand 0.4's gen_range(a, b) is rand 0.8's gen_range(a..b); Rust/32's test is commented out upstream.
    code32 = build(hx["rust"][32]).files["main.rs"]
    assert "gen_range(0..4)" in code32 and "tests::test_poly();" in code32
    assert "gen_range(b'a'..b'z' + 1)" in build(hx["rust"][50]).files["main.rs"]
    mp = build(multipl_e("rs", "HumanEval_0_has_close_elements"), BODIES["rust"][1]).files["main.rs"]
    assert "fn hel_test_main()" in mp and re.search(r"^fn main\(\)", mp, re.MULTILINE)


def _two_process(problem: Problem, completion: str):  # type: ignore[no-untyped-def]
    prog = build(problem, completion)
    candidate_side = "".join(prog.files.values()) + " ".join(prog.run)
    return prog, candidate_side


@pytest.mark.parametrize(("suffix", "language"), [("rb", "ruby"), ("lua", "lua")])
def test_ruby_and_lua_tests_reach_only_the_judge(suffix: str, language: str) -> None:
    """The candidate's process gets prompt + completion and our harness; the tests stay in the judge's dir."""
    mp = multipl_e(suffix, "HumanEval_0_has_close_elements")
    native = next(q for q in load_suite("polyglot") if q.language == language)
    for problem, completion in ((mp, BODIES[language][1]), (native, None)):
        prog, candidate_side = _two_process(problem, completion)  # type: ignore[arg-type]
        ext = "rb" if language == "ruby" else "lua"
        assert prog.judge and prog.judge_files[f"tests.{ext}"].strip()
        for line in problem.tests.splitlines():
            if "candidate" in line or "assert" in line:
                assert line.strip() not in candidate_side, line
        assert problem.prompt in prog.files[f"main.{ext}"]
        assert prog.failure_markers == ()  # only the judge says "failed"


def test_lua_judge_runs_the_luaunit_suite_itself() -> None:
    prog = build(multipl_e("lua", "HumanEval_0_has_close_elements"), BODIES["lua"][1])
    assert "os.exit(lu.LuaUnit.run())" not in prog.judge_files["tests.lua"]
    assert prog.judge_files["hel_config.lua"].startswith(
        'return {mode = "luaunit", names = {"has_close_elements"'
    )
    # A local function of the prompt is returned at the end of the candidate's chunk.
    assert prog.files["main.lua"].rstrip().endswith("}")
    assert "has_close_elements = has_close_elements" in prog.files["main.lua"].splitlines()[-1]
    assert prog.run == ("lua5.4", "hel_candidate.lua") and prog.judge == ("lua5.4", "hel_judge.lua")
    broken = multipl_e("lua", "HumanEval_0_has_close_elements")
    broken = Problem(broken.task_id, "lua", broken.prompt, broken.tests.replace("os.exit", "print"),
                     broken.entry_point, source_format="multipl-e")  # fmt: skip
    with pytest.raises(UserInputError, match="LuaUnit.run"):
        build(broken, BODIES["lua"][1])


def test_ruby_stubs_what_the_tests_call_and_starts_without_gems_when_it_can() -> None:
    p153 = multipl_e("rb", "HumanEval_153_Strongest_Extension")
    prog = build(p153, "  nil\nend\n")
    config = json.loads(prog.judge_files["hel_judge.json"])
    assert config == {"names": ["Strongest_Extension"], "test_unit": True}
    assert "--disable-gems" in prog.judge and "--disable-gems" in prog.run
    assert "--disable-gems" not in build(p153, "  require 'prime'\n  nil\nend\n").run
    native = Problem("t/0", "ruby", "def f(x)\n", "def helper(y) = y\nraise 'no' unless g(1) == helper(1)\n",
                     "f")  # fmt: skip
    assert json.loads(build(native, "  x\nend\n").judge_files["hel_judge.json"])["names"] == ["f", "g"]


@pytest.mark.parametrize(
    "language", ["lua", "ruby"]
)  # JS/TS: the test_javascript_* and test_typescript_* above
def test_native_program_is_prompt_completion_newline_tests(language: str) -> None:
    p = next(q for q in load_suite("polyglot") if q.language == language)
    prog = build(p)
    main = next(v for k, v in prog.files.items() if k.startswith("main."))
    if prog.judge:  # two processes: the candidate's code in main.*, the tests with the judge
        assert main.startswith(p.prompt + p.canonical_solution)
        assert p.tests.strip() in "".join(prog.judge_files.values())
    else:
        assert p.prompt + p.canonical_solution + "\n" + p.tests in main


@pytest.mark.parametrize("language", ["bash", "perl", "php"])
def test_two_process_layout_keeps_the_tests_from_the_candidate(language: str) -> None:
    """The candidate's dir holds prompt + completion only; the judge's holds the tests unchanged
    and a stub for the entry point."""
    suffix = {"bash": "sh", "perl": "pl", "php": "php"}[language]
    for p, completion in (
        (next(q for q in load_suite("polyglot") if q.language == language), None),
        (multipl_e(suffix, "HumanEval_0_has_close_elements"), BODIES[language][1]),
    ):
        prog = build(p, completion)
        main = next(v for k, v in prog.files.items() if k.startswith("main."))
        assert main.startswith(p.prompt + (completion or p.canonical_solution or ""))
        body = p.tests.split("candidate()", 1)[-1]  # Bash: MultiPL-E's closing brace is the code's
        assert not any(body.strip() in v for v in prog.files.values())
        judge = "".join(prog.judge_files.values())
        assert body in judge and p.entry_point in judge
        assert prog.judge and prog.run and prog.judge != prog.run


def test_bash_candidate_gets_the_closing_brace_the_judge_the_rest() -> None:
    p = multipl_e("sh", "HumanEval_0_has_close_elements")
    prog = build(p, BODIES["bash"][1])
    assert prog.files["main.sh"].endswith(BODIES["bash"][1] + "\n}\n\n")
    assert 'has_close_elements() { __hel_call has_close_elements "$@"; }' in prog.judge_files["judge.sh"]
    assert prog.judge_files["judge.sh"].rstrip().endswith("\n}\n\nrun_test\nexit 0")


@pytest.mark.parametrize("language", ["bash", "lua", "perl", "php", "ruby", "typescript"])
def test_humaneval_x_format_is_refused_where_it_does_not_exist(language: str) -> None:
    p = Problem("X/0", language, "p", "t", "f", source_format="humaneval-x")
    with pytest.raises(UserInputError, match="no program layout"):
        get_language(language).build(p, "p")
