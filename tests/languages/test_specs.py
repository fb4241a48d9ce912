"""Each language spec assembles the program we expect (no toolchain or Docker needed)."""

from __future__ import annotations

import json
import re

import pytest

from humaneval_lab.errors import UserInputError
from humaneval_lab.languages import all_languages, get_language, source_of
from humaneval_lab.languages._cxx_link import plan
from humaneval_lab.languages.cpp import declaration
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


def test_cpp_candidate_and_tests_are_separate_translation_units(hx) -> None:  # type: ignore[no-untyped-def]
    p = hx["cpp"][0]
    prog = build(p)
    cand, trusted = prog.files["cand.cpp"], prog.files["trusted.cpp"]
    assert p.prompt + p.canonical_solution in cand and "_hel_test_main" not in cand
    assert p.canonical_solution not in trusted and p.tests in trusted
    # The prompt's open body became a declaration; the tests' main is renamed; our main follows.
    assert trusted.index("float threshold)\n;") < trusted.index("#define main _hel_test_main")
    assert trusted.index("#define main _hel_test_main") < trusted.index("int main(){")
    wrapper = trusted[trusted.index("#undef main") :]
    assert wrapper.index('section(".preinit_array")') < wrapper.index("_hel_test_main();")
    assert wrapper.index("_hel_test_main();") < wrapper.index("write(1, _hel_token")
    assert "#include<algorithm>" in cand and "#include<algorithm>" in trusted  # HumanEval-X's headers
    (step,) = prog.compile
    assert step[:5] == (
        "python3",
        "-I",
        "hel_cxx.py",
        "has_close_elements",
        "/opt/humaneval-lab/cpp/humaneval-x.h",
    )
    assert "-std=c++11" in step and "-lcrypto" not in step
    assert prog.run == ("./main",)
    assert "-lcrypto" in build(hx["cpp"][162]).compile[0]
    # A prompt that defines a helper keeps it for the tests; the body to complete is declared.
    decl, entry = declaration(hx["cpp"][38].prompt)
    assert entry == "decode_cyclic" and "string encode_cyclic(string s){" in decl
    assert decl.rstrip().endswith("string decode_cyclic(string s){".replace("{", "").rstrip() + "\n;")
    mp = build(multipl_e("cpp", "HumanEval_0_has_close_elements"), BODIES["cpp"][1])
    assert mp.files["cand.cpp"].rstrip().endswith("}") and mp.files["trusted.cpp"].count("int main()") == 2


def test_cpp_link_plan_keeps_only_the_entry_point_global() -> None:
    cand = {
        "_Z18has_close_elementsSt6vectorIfSaIfEEf": "T",  # the entry point
        "__assert_fail": "T",  # would replace what a failed assert calls
        "main": "T",
        "_Z6helperi": "T",
        "_ZNSt6vectorIfSaIfEE4sizeEv": "W",  # an instantiation the trusted object holds too
        "_ZNSt3mapIiiE4findEv": "W",  # one only the candidate holds
        "_ZL5local": "t",
        "read": "U",
    }
    trusted = {"_ZNSt6vectorIfSaIfEE4sizeEv": "W", "__assert_fail": "U", "main": "T"}
    local, why = plan(cand, trusted, "has_close_elements")
    assert why == ""
    assert local == sorted(["__assert_fail", "main", "_Z6helperi", "_ZNSt3mapIiiE4findEv"])
    assert "refused" not in why and plan({"thing": "i"}, {}, "f")[1].startswith("an indirect function")


def test_java_candidate_tests_and_wrapper_live_in_three_packages(hx) -> None:  # type: ignore[no-untyped-def]
    prog = build(hx["java"][0])
    assert set(prog.files) == {"Solution.java", "tests/Main.java", "HelMain.java"}
    assert prog.files["Solution.java"].startswith("package hel.cand;\nimport java.util.*;")
    assert "\npublic class Solution {" in prog.files["Solution.java"]
    tests = prog.files["tests/Main.java"]
    assert tests.startswith(
        "package hel.tests;\nimport java.util.*;\nimport java.lang.*;\nimport hel.cand.Solution;"
    )
    wrapper = prog.files["HelMain.java"]
    assert wrapper.startswith("package org.humaneval_lab.judge;")
    assert re.search(r"(?<![.\w])(System|Class|String|Runtime)\.", wrapper) is None  # full names only
    assert (
        wrapper.index("FileDescriptor.in")
        < wrapper.index('forName("hel.tests.Main"')
        < wrapper.index("halt(0)")
    )
    assert prog.run[-1] == "org.humaneval_lab.judge.HelMain" and "-ea" in prog.run
    mp = build(multipl_e("java", "HumanEval_0_has_close_elements"), BODIES["java"][1])
    assert mp.files["Problem.java"].rstrip().endswith("return false;\n\n    }\n}")
    assert (
        "import static hel.cand.Problem.hasCloseElements;\npublic class Main {" in mp.files["tests/Main.java"]
    )


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


def test_go_candidate_and_tests_are_separate_files(hx) -> None:  # type: ignore[no-untyped-def]
    p = hx["go"][17]  # its canonical solution uses strings without importing it
    prog = build(p)
    assert set(prog.files) == {"0hel_main_test.go", "main_test.go", "tests_test.go", "hel_testmain.go"}
    cand, tests = prog.files["main_test.go"], prog.files["tests_test.go"]
    assert (
        cand.startswith('package main\n\nimport (\n    "strings"\n)\n') and "func TestParseMusic" not in cand
    )
    assert tests.startswith(
        'package main\n\nimport (\n    "testing"\n    "github.com/stretchr/testify/assert"\n)'
    )
    assert p.tests in tests
    first = prog.files["0hel_main_test.go"]
    token = re.search(r"^var (_helToken[0-9a-f]{24}) = func", first, re.MULTILINE)
    assert token and first.index("syscall.Read(0") < first.index("func TestMain")
    assert "var _ = []func(*testing.T){TestParseMusic}" in first
    assert first.index('"test.run": ""') < first.index("m.Run()") < first.index("token)")
    # The token variable's name depends on the candidate's file: no candidate can spell it.
    other = build(p, p.canonical_solution + "\n// another\n").files["0hel_main_test.go"]
    assert token.group(1) not in other
    # Built without the go command: the tests' functions, and only they, are the test list.
    assert prog.compile[-1][-1].endswith("-o main.test testmain.a")
    assert '{"TestParseMusic", _test.TestParseMusic},' in prog.files["hel_testmain.go"]
    mine = build(p, p.canonical_solution + "\nfunc TestMine(t *testing.T) {}\n")
    assert "TestMine" not in mine.files["hel_testmain.go"]
    assert prog.env["GO111MODULE"] == "off"
    assert build(hx["go"][0]).files["main_test.go"].count('"math"') == 1  # the prompt's, moved
    mp = build(multipl_e("go", "HumanEval_0_has_close_elements"), BODIES["go"][1])
    assert mp.files["0hel_main_test.go"].startswith("package has_close_elements_test")
    assert mp.files["tests_test.go"].startswith(
        'package has_close_elements_test\n\nimport (\n    "testing"\n    "fmt"\n)'
    )
    assert "import" not in mp.files["main_test.go"]  # the body uses neither testing nor fmt
    refused = build(p, p.canonical_solution + "\n//go:linkname x os.Exit\n")
    assert refused.compile[0][-1] == "//go:linkname is not allowed in a candidate"


def test_rust_tests_run_without_libtest(hx) -> None:  # type: ignore[no-untyped-def]
    prog = build(hx["rust"][0])
    code = prog.files["main.rs"]
    assert "#[test]" not in code and "#[cfg(test)]" not in code
    assert "pub fn test_has_close_elements" in code
    main = code[code.index("fn main()") :]
    # The token is read and fd 0 moved to /dev/null before the tests; it is written after them.
    call = main.index("crate::tests::test_has_close_elements();")
    assert main.index("read(0,") < main.index("dup2(hel_null, 0)") < call < main.index("write(1,")
    # Only C library calls of its own: no std path a candidate item could shadow or that rustc must
    # compile again for each sample.
    assert "::std::" not in main and "String" not in main
    assert "::std::assert_eq!(has_close_elements(::std::vec![11.0" in code  # the tests' macros by full path
    # CodeGeeX's prompt lacks the signature: it comes from the declaration.
    assert code.index("fn has_close_elements") < code.index(hx["rust"][0].canonical_solution.strip()[:20])
    # rand 0.4's gen_range(a, b) is rand 0.8's gen_range(a..b); Rust/32's test is commented out upstream.
    code32 = build(hx["rust"][32]).files["main.rs"]
    assert "gen_range(0..4)" in code32 and "crate::tests::test_poly();" in code32
    assert "gen_range(b'a'..b'z' + 1)" in build(hx["rust"][50]).files["main.rs"]
    mp = build(multipl_e("rs", "HumanEval_0_has_close_elements"), BODIES["rust"][1]).files["main.rs"]
    assert "fn hel_test_main()" in mp and re.search(r"^fn main\(\)", mp, re.MULTILINE)
    assert "::std::assert_eq!(candidate(" in mp
    for attr in ("no_mangle", "export_name", "link_section", "global_asm"):
        refused = build(hx["rust"][0], f"    false\n}}\n#[{attr}]\nfn x() {{}}\n")
        assert refused.compile[0][-1] == f"#[{attr}] is not allowed in a candidate"


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
