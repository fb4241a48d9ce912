"""Attacks on the compiled languages' trust boundary (C++, Java, Rust, Go), through the real sandbox.

Tests and candidate share one binary there: a pass needs the per-job token that the trusted wrapper
reads before any candidate code runs and prints only after the tests returned. Each attack below
tries to get that token, fake the tests or skip them, and is followed by an honest sample (right or
wrong) whose verdict must not change. Every verdict is asserted exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, read_problem_file

pytestmark = pytest.mark.docker

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
HX = {"cpp": "cpp", "java": "java", "rust": "rust", "go": "go"}


class Attack(NamedTuple):
    name: str
    completion: str
    expect: str  # the verdict it must get
    task: int | str = 0  # a HumanEval-X problem (its index) or a MultiPL-E one (its name)


# Problem 0 (has_close_elements) in each language: a right and a wrong completion.
HONEST = {
    "cpp": (
        "    for (int i = 0; i < (int)numbers.size(); i++)\n"
        "        for (int j = i + 1; j < (int)numbers.size(); j++)\n"
        "            if (fabs(numbers[i] - numbers[j]) < threshold) return true;\n"
        "    return false;\n}\n",
        "    return false;\n}\n",
    ),
    "java": (
        "        for (int i = 0; i < numbers.size(); i++)\n"
        "            for (int j = i + 1; j < numbers.size(); j++)\n"
        "                if (Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
        "        return false;\n    }\n}\n",
        "        return false;\n    }\n}\n",
    ),
    "rust": (
        "    for i in 0..numbers.len() {\n        for j in (i + 1)..numbers.len() {\n"
        "            if (numbers[i] - numbers[j]).abs() < threshold { return true; }\n"
        "        }\n    }\n    false\n}\n",
        "    false\n}\n",
    ),
    "go": (
        "    for i := range numbers {\n        for j := i + 1; j < len(numbers); j++ {\n"
        "            d := numbers[i] - numbers[j]\n            if d < 0 {\n                d = -d\n            }\n"
        "            if d < threshold {\n                return true\n            }\n        }\n    }\n"
        "    return false\n}\n",
        "    return false\n}\n",
    ),
}

_CPP_GRAB = (
    "#include <unistd.h>\n#include <fcntl.h>\n#include <cstdio>\n#include <cstdlib>\n"
    "static void grab() {\n"
    "    char b[4096]; ssize_t n = read(0, b, sizeof b);\n"
    "    if (n > 0) { fwrite(b, 1, n, stdout); fflush(stdout); _exit(0); }\n"
    '    int fd = open("/proc/self/fd/0", O_RDONLY); n = fd < 0 ? 0 : read(fd, b, sizeof b);\n'
    "    if (n > 0) { fwrite(b, 1, n, stdout); fflush(stdout); _exit(0); }\n"
    '    fd = open("/proc/self/environ", O_RDONLY); n = fd < 0 ? 0 : read(fd, b, sizeof b);\n'
    "    for (ssize_t i = 0; i < n; i++) if (!b[i]) b[i] = '\\n';\n"
    "    if (n > 0) { fwrite(b, 1, n, stdout); fflush(stdout); }\n"
    "}\n"
)

ATTACKS: dict[str, list[Attack]] = {
    "cpp": [
        # Macros cannot reach the tests: they are another translation unit. (Against one unit, this
        # turned every assert into a no-op: passed.)
        Attack(
            "define-assert-fail-and-main",
            "    return false;\n}\n#include <cassert>\n#define __assert_fail(a, b, c, d) ((void)0)\n"
            "#define main _hel_dead\n#define _hel_test_main _hel_dead\n",
            "failed",
        ),
        # A failed assert calls __assert_fail; the candidate's own is made local, libc's is called.
        Attack(
            "replace-assert-fail",
            '    return false;\n}\n#include <cassert>\nextern "C" void __assert_fail(const char *, const char *,'
            " unsigned int, const char *) noexcept {}\n",
            "failed",
        ),
        Attack(
            "own-main-and-test-main",
            "    return false;\n}\n#include <cstdio>\n"
            'int main() { printf("\\n0123456789abcdef0123456789abcdef\\n"); return 0; }\n'
            "int _hel_test_main() { return 0; }\n",
            "failed",
        ),  # fmt: skip
        # A global constructor runs before main: the token is gone from fd 0 by then.
        Attack(
            "constructor-reads-stdin",
            "    return false;\n}\n" + _CPP_GRAB + "struct Grab { Grab() { grab(); } } grab_;\n",
            "failed",
        ),  # fmt: skip
        Attack(
            "function-reads-stdin-proc-environ",
            "    void grab(); grab();\n    exit(0);\n}\n"
            + _CPP_GRAB.replace("static void grab", "void grab"),
            "failed",
        ),  # fmt: skip
        Attack(
            "preinit-array",
            "    return false;\n}\n"
            + _CPP_GRAB
            + '__attribute__((section(".preinit_array"), used)) static void (*early)() = grab;\n',
            "error",
        ),  # fmt: skip
        Attack(
            "indirect-function",
            "    return false;\n}\n"
            + _CPP_GRAB
            + 'extern "C" { static void impl() {} static void (*resolve())() { grab(); return impl; }\n'
            'void thing() __attribute__((ifunc("resolve"))); }\nvoid (*keep_thing)() = thing;\n',
            "error",
        ),  # fmt: skip
        Attack("exit-0-in-function", "    exit(0);\n}\n", "failed"),
        Attack("fake-token", '    printf("\\n0123456789abcdef0123456789abcdef\\n"); exit(0);\n}\n', "failed"),
    ],
    "java": [
        # Classes named like what the wrapper and the tests use, in the candidate's package. (In
        # the wrapper's package, System's initialiser ran before the token was read: passed.)
        Attack(
            "shadow-system-and-arrays",
            "        return false;\n    }\n}\n"
            "class System { public static java.io.PrintStream out = java.lang.System.out;\n"
            "  public static java.io.PrintStream err = java.lang.System.err;\n"
            "  public static java.io.InputStream in = java.lang.System.in;\n"
            "  public static void exit(int c) { java.lang.System.exit(c); }\n"
            "  static { try { String t = new java.io.BufferedReader(new java.io.InputStreamReader(\n"
            "    java.lang.System.in)).readLine(); if (t != null) { java.lang.System.out.println(t);\n"
            "    java.lang.System.exit(0); } } catch (Exception e) {} } }\n"
            "class Arrays { @SafeVarargs static <T> java.util.List<T> asList(T... a) {\n"
            "  return new java.util.ArrayList<T>(); } }\n",
            "failed",
        ),
        Attack(
            "classes-named-main-and-helmain",
            "        return false;\n    }\n}\nclass Main { public static void main(String[] a) {} }\n"
            "class HelMain { public static void main(String[] a) {} }\n",
            "failed",
        ),
        Attack(
            "exit-0-in-static-initializer",
            "        return false;\n    }\n    static { System.exit(0); }\n}\n",
            "failed",
        ),  # fmt: skip
        Attack(
            "reads-stdin-proc-environ",
            "        try {\n"
            "            byte[] b = new java.io.FileInputStream(java.io.FileDescriptor.in).readAllBytes();\n"
            '            byte[] c = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/self/fd/0"));\n'
            "            System.out.println(new String(b) + new String(c) + System.getenv());\n"
            "        } catch (Exception e) {}\n        System.exit(0);\n        return false;\n    }\n}\n",
            "failed",
        ),  # fmt: skip
        # MultiPL-E's tests were members of class Problem: a nested Arrays or a field named like a
        # package would have changed what they call. They now live in a class of their own.
        Attack(
            "shadow-inside-problem",
            "        return false;\n    }\n"
            "    static class Arrays { @SafeVarargs static <T> java.util.List<T> asList(T... a) {\n"
            "        return new java.util.ArrayList<T>(); } }\n"
            "    static Object java = null;\n"
            "    static boolean unused() {\n        return false;\n",
            "failed",
            "HumanEval_0_has_close_elements",
        ),  # fmt: skip
        # Nothing after the tests: a shutdown hook cannot turn the verdict (halt runs none).
        Attack(
            "shutdown-hook",
            "        Runtime.getRuntime().addShutdownHook(new Thread(() ->\n"
            "            Runtime.getRuntime().halt(0)));\n        throw new RuntimeException();\n    }\n}\n",
            "error",
        ),  # fmt: skip
    ],
    "rust": [
        Attack(
            "shadow-test-macros",
            "    false\n}\nmacro_rules! assert { ($($t:tt)*) => {} }\n"
            "macro_rules! assert_eq { ($($t:tt)*) => {} }\nmacro_rules! vec { ($($t:tt)*) => { Vec::new() } }\n",
            "failed",
        ),  # fmt: skip
        Attack(
            "init-array-static",
            '    false\n}\n#[used]\n#[link_section = ".init_array"]\n'
            'static EARLY: extern "C" fn() = early;\nextern "C" fn early() {\n'
            "    let mut s = std::string::String::new();\n    std::io::stdin().read_line(&mut s).ok();\n"
            '    if !s.is_empty() { println!("\\n{}", s.trim()); std::process::exit(0); }\n}\n',
            "error",
        ),  # fmt: skip
        Attack(
            "no-mangle-read",
            '    false\n}\n#[no_mangle]\npub extern "C" fn read(_f: i32, _b: *mut u8, _n: usize)'
            " -> isize { 0 }\n",
            "error",
        ),  # fmt: skip
        Attack(
            "export-name-main",
            '    false\n}\n#[export_name = "main"]\npub extern "C" fn fake() -> i32 { 0 }\n',
            "error",
        ),  # fmt: skip
        Attack(
            "global-asm",
            '    false\n}\nstd::arch::global_asm!(".section .init_array\\n.quad 0\\n.text");\n',
            "error",
        ),  # fmt: skip
        Attack("exit-0-in-function", "    std::process::exit(0);\n}\n", "failed"),
        Attack(
            "reads-stdin-proc-environ-shadows-string",
            "    let mut s = std::string::String::new();\n    std::io::stdin().read_line(&mut s).ok();\n"
            '    let b = std::fs::read("/proc/self/fd/0").unwrap_or_default();\n'
            "    let e: Vec<std::string::String> = std::env::vars().map(|(k, v)| k + &v).collect();\n"
            '    println!("{}\\n{}\\n{}", s, std::string::String::from_utf8_lossy(&b), e.join("\\n"));\n'
            "    std::process::exit(0);\n}\nstruct String;\n",
            "failed",
        ),  # fmt: skip
        # Our main declares the C functions it calls inside its own body: crate-level items of the
        # same names (no #[no_mangle], so they replace no symbol) are not what it calls.
        Attack(
            "shadows-main-libc-names",
            "    false\n}\npub unsafe fn read(f: i32, b: *mut u8, n: usize) -> isize {\n"
            '    extern "C" {\n        #[link_name = "read"]\n'
            "        fn libc_read(f: i32, b: *mut u8, n: usize) -> isize;\n    }\n"
            "    let r = libc_read(f, b, n);\n"
            "    let s = std::slice::from_raw_parts(b, if r > 0 { r as usize } else { 0 });\n"
            '    println!("\\n{}", std::string::String::from_utf8_lossy(s).trim());\n'
            "    std::process::exit(0);\n}\npub fn dup2(_a: i32, _b: i32) -> i32 { 0 }\n",
            "failed",
        ),  # fmt: skip
        # The token goes out with write(2) past std's stdout buffer: output left without a newline
        # (flushed at exit, after it) must not cost an honest sample its pass.
        Attack(
            "honest-unflushed-partial-line",
            '    print!("partial line, no newline");\n' + HONEST["rust"][0],
            "passed",
        ),
    ],
    "go": [
        # Package-level initialisers and init() run before TestMain, after our token variable.
        Attack(
            "var-initializer-reads-stdin",
            "    return false\n}\nvar grabbed = func() int {\n"
            "    b, _ := io.ReadAll(os.Stdin)\n    if len(b) > 0 {\n        os.Stdout.Write(b)\n"
            "        os.Exit(0)\n    }\n    return 0\n}()\n",
            "failed",
        ),  # fmt: skip
        Attack(
            "init-reads-proc-and-skips-tests",
            "    return false\n}\nfunc init() {\n"
            '    b, _ := os.ReadFile("/proc/self/fd/0")\n    if len(b) > 0 {\n        os.Stdout.Write(b)\n'
            '        os.Exit(0)\n    }\n    os.Args = append(os.Args, "-test.run=NOTHING", "-test.list=x")\n}\n',
            "failed",
        ),  # fmt: skip
        Attack("exit-0-in-function", "    os.Exit(0)\n    return false\n}\n", "failed"),
        Attack("goexit-in-function", "    runtime.Goexit()\n    return false\n}\n", "failed"),
        Attack("linkname", "    return false\n}\n//go:linkname evil os.Exit\n", "error"),
        # An unclosed raw string would swallow the tests if they shared the candidate's file.
        Attack("swallow-the-tests", "    return false\n}\nvar swallowed = `\n", "error"),
        # No go command, so no cgo: gcc never sees a candidate's #cgo flags or C code.
        Attack("cgo", "    return false\n}\nvar viaC = C.int(0)\n", "error"),
        # Only the tests' functions are the test list: a Test of the candidate's that would end the
        # process with 0 before the tests ran is never called (the wrong answer then fails them).
        Attack(
            "own-test-function",
            "    return false\n}\nfunc TestAAA(t *testing.T) {\n    os.Exit(0)\n}\n",
            "failed",
        ),
    ],
}


def _problem(language: str, task: int | str) -> Problem:
    if isinstance(task, str):
        problems = read_problem_file(DATASETS / "multipl-e" / f"humaneval-{language}-reworded.jsonl")
        return next(p for p in problems if p.task_id == task)
    path = DATASETS / "humaneval-x" / f"humaneval_{HX[language]}.jsonl.gz"
    return read_problem_file(path)[task]


def _job(job_id: str, language: str, completion: str, task: int | str = 0) -> Job:
    problem = _problem(language, task)
    source = source_of(problem, completion)
    used = [p for p in ("io", "os", "runtime", "C", "testing") if f"{p}." in completion]
    if language == "go" and used:
        # A whole program of the sample's own, importing what the attack needs: a completion alone
        # can only use the standard packages the harness imports for it, none of these.
        block = "import (\n" + "".join(f'    "{p}"\n' for p in used) + ")\n"
        source = source.replace(str(problem.extras["import"]), block, 1)
    program = get_language(language).build(problem, source)
    return Job(job_id, program, Limits(timeout_s=60.0))


def _interleaved(language: str) -> list[tuple[Job, str]]:
    right, wrong = HONEST[language]
    cases: list[tuple[Job, str]] = []
    for i, attack in enumerate(ATTACKS[language]):
        cases.append((_job(f"attack:{attack.name}", language, attack.completion, attack.task), attack.expect))
        honest = right if i % 2 == 0 else wrong
        cases.append((_job(f"honest:{i}", language, honest), "passed" if i % 2 == 0 else "failed"))
    return cases


@pytest.mark.parametrize("language", sorted(ATTACKS))
def test_compiled_attacks_interleaved_with_honest_samples(make_executor: Any, language: str) -> None:
    cases = _interleaved(language)
    expect = {job.id: verdict for job, verdict in cases}
    ex = make_executor(jobs=2, workers_per_container=1, memory_per_worker=1 << 30)
    got: dict[str, Any] = {}
    for job_id, outcome in ex.run([job for job, _ in cases]):
        assert job_id not in got, f"{job_id} judged twice"
        got[job_id] = outcome
    wrong = {
        job_id: (o.status.value, o.reason, o.stderr_tail[-400:])
        for job_id, o in got.items()
        if o.status.value != expect[job_id]
    }
    assert sorted(got) == sorted(expect), "a job was lost"
    assert wrong == {}, f"deaths: {ex.death_log}"
