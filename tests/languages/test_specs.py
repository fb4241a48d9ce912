"""Each language spec assembles the program we expect (no toolchain or Docker needed)."""

from __future__ import annotations

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


def test_javascript_console_assert_throws_and_token_in_wrapper(hx) -> None:  # type: ignore[no-untyped-def]
    prog = build(hx["javascript"][0])
    runner = prog.files["run.js"]
    assert (
        runner.index("readFileSync(0")
        < runner.index("defineProperty(console, 'assert'")
        < runner.index("require('./main.js')")
        < runner.index("process.stdout.write('\\n' + token")
    )
    assert "throw err" in runner
    assert prog.run == ("node", "run.js")
    assert "js-md5" not in str(prog.files.keys())
    assert "node_modules/js-md5/index.js" in build(hx["javascript"][162]).files


def test_go_candidate_and_tests_are_separate_files(hx) -> None:  # type: ignore[no-untyped-def]
    p = hx["go"][17]  # its canonical solution uses strings without importing it
    prog = build(p)
    assert set(prog.files) == {"0hel_main_test.go", "main_test.go", "tests_test.go"}
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
    assert prog.compile[-1][:3] == ("go", "test", "-c")
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
    assert main.index("from_raw_fd(0)") < main.index("crate::tests::test_has_close_elements();")
    assert main.index("crate::tests::test_has_close_elements();") < main.index("::std::println!")
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


def test_lua_luaunit_exit_only_on_failures() -> None:
    prog = build(multipl_e("lua", "HumanEval_0_has_close_elements"), BODIES["lua"][1])
    assert "os.exit(lu.LuaUnit.run())" not in prog.files["main.lua"]
    assert "hel_failures ~= 0" in prog.files["main.lua"]
    assert prog.files["run.lua"].index('io.read("l")') < prog.files["run.lua"].index('dofile("main.lua")')


@pytest.mark.parametrize("language", ["bash", "lua", "perl", "php", "ruby", "typescript"])
def test_native_program_is_prompt_completion_newline_tests(language: str) -> None:
    p = next(q for q in load_suite("polyglot") if q.language == language)
    prog = build(p)
    main = next(v for k, v in prog.files.items() if k.startswith("main."))
    assert p.prompt + p.canonical_solution + "\n" + p.tests in main


def test_bash_reads_token_first_and_prints_it_last() -> None:
    p = next(q for q in load_suite("polyglot") if q.language == "bash")
    code = build(p).files["main.sh"]
    assert code.startswith("IFS= read -r __hel_token")
    assert code.rstrip().endswith('"$__hel_token"')


@pytest.mark.parametrize("language", ["bash", "lua", "perl", "php", "ruby", "typescript"])
def test_humaneval_x_format_is_refused_where_it_does_not_exist(language: str) -> None:
    p = Problem("X/0", language, "p", "t", "f", source_format="humaneval-x")
    with pytest.raises(UserInputError, match="no program layout"):
        get_language(language).build(p, "p")
