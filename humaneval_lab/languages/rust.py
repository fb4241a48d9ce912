"""Rust: HumanEval-X, MultiPL-E and native problems, compiled with plain ``rustc`` (no cargo) against
the regex, md5 and rand rlibs the sandbox image prebuilds from Debian's crates.

HumanEval-X's tests are a ``#[cfg(test)] mod tests`` with one ``#[test]`` function. Under libtest's
harness the exit code is all we would get back (and a candidate's ``process::exit(0)`` fakes it), so
we compile without the harness instead: the ``#[cfg(test)]``/``#[test]`` attributes are dropped, the
test functions made ``pub``, and our own ``main`` reads the token into a local, calls each test and
prints the token after the last one returned. MultiPL-E's tests are a ``fn main`` of asserts: it is
renamed and called the same way. The tests call their macros by full path (``::std::assert_eq!``),
so a candidate ``macro_rules!`` cannot replace them; a candidate that uses an attribute that runs
code before ``main`` or replaces a symbol is refused (a compile error with the reason).

HumanEval-X's crates were rand 0.4; Debian has 0.8, which spells ``gen_range(a, b)`` as
``gen_range(a..b)`` (same half-open range). The two tests that call it (Rust/32, Rust/50) are
rewritten to the new spelling; a completion that itself uses rand 0.4's API fails to compile.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import PREWARM, native_program, sub_exact, unsupported
from humaneval_lab.languages._common import refuse as _refuse
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# The image's prebuilt dependency rlibs (sandbox/setup-rootfs.sh: a cargo build of a template crate
# with rand 0.8, regex 1, md5 0.7 from /usr/share/cargo/registry). File names carry cargo's hash,
# hence the glob in a shell (globs, not ls: a process start each).
DEPS = f"{PREWARM}/rust-template/target/debug/deps"
# Where the toolchain now puts the shared libstd (Debian's rustc: the sysroot is /usr).
STD_DYLIBS = "/usr/lib/rustlib/*-unknown-linux-gnu/lib"
# Link time dominated (measured: ~0.72 s of CPU per HumanEval-X sample, ~0.34 s with these):
# - prefer-dynamic: std is linked as the toolchain's root-owned libstd-*.so, found by an absolute
#   rpath (no LD_LIBRARY_PATH a sample could set matters: the runner sets the environment), instead
#   of copying and relocating the whole static std into every binary;
# - one codegen unit (at opt-level 0, more units only add per-unit cost on a host whose cores are
#   already busy with the other worker);
# - lld (the image's ld.lld, LLVM 14), single-threaded, and no symbol table in the output
#   (strip=symbols): the link of a HumanEval-X test binary measured ~105 ms of CPU with gold, ~60
#   with gold and -s, ~46 with lld and -s; ld.bfd 210, mold 1.10 no better than gold once its
#   forked helper is counted. Like the C++ binaries, the test binary carries no symbols a candidate
#   could look up.
# The candidate's text chooses no linker flag: ``#[link]`` is the only attribute that reaches the
# link line, as with any linker, and linker scripts or plugins cannot be named from Rust source.
_COMPILE = (
    "sh", "-c",
    f'D={DEPS}; set -- {STD_DYLIBS}; L=$1; ext=""; for c in rand regex md5; do '
    f'set -- "$D"/lib$c-*.rlib; [ -e "$1" ] && ext="$ext --extern $c=$1"; done; '
    'exec rustc --edition 2021 -C debuginfo=0 -C codegen-units=1 -C prefer-dynamic -C strip=symbols '
    '-C "link-arg=-Wl,-rpath,$L" -C link-arg=-fuse-ld=lld -C link-arg=-Wl,--threads=1 '
    '-A warnings -L "dependency=$D" $ext -o main main.rs',
)  # fmt: skip

_TEST_ATTR = re.compile(r"#\[test\]((?:\s|//[^\n]*\n)*)fn\s+(\w+)")
_GEN_RANGE = re.compile(r"\.gen_range\(\s*([^,()]+?)\s*,\s*([^()]+?)\s*\)")


# Our main touches nothing of the candidate's namespace but the test functions it calls by path:
# the token is read from fd 0 into a local array with the C library's read(2), fd 0 then points at
# /dev/null, and after the last test returned the token goes out with write(2) as one
# "\n<token>\n", so it is on a line of its own whatever the tests left in std's stdout buffer
# (flushed at exit, after it). Nothing of the candidate runs before ``main`` (see ``_FORBIDDEN``),
# and a candidate cannot give these extern names another body (``#[no_mangle]`` is refused).
# Why raw calls, not std's File/String/trim/println!: at opt-level 0 every #[inline] std function
# they reach is compiled again into each sample's crate. That was ~130 ms of rustc CPU per sample
# for this main alone, more than the tests and the candidate together (measured, an empty test).
_MAIN = """
fn main() {
    extern "C" {
        fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        fn open(path: *const u8, flags: i32, ...) -> i32;
        fn dup2(old: i32, new: i32) -> i32;
        fn _exit(status: i32) -> !;
    }
    let mut hel_token = [0u8; 66];
    let hel_at = &mut hel_token as *mut [u8; 66] as usize;
    let mut hel_n = 1usize;
    while hel_n < 65 {
        let r = unsafe { read(0, (hel_at + hel_n) as *mut u8, 65 - hel_n) };
        if r <= 0 {
            break;
        }
        hel_n += r as usize;
        if hel_token[hel_n - 1] == b'\\n' {
            break;
        }
    }
    while hel_n > 1 && hel_token[hel_n - 1] <= b' ' {
        hel_n -= 1;
    }
    let mut hel_s = 1usize;
    while hel_s < hel_n && hel_token[hel_s] <= b' ' {
        hel_s += 1;
    }
    let hel_null = unsafe { open(b"/dev/null\\0" as *const [u8; 10] as *const u8, 0) };
    if hel_null < 0 || unsafe { dup2(hel_null, 0) } < 0 {
        unsafe { _exit(3) };
    }
%s    hel_token[hel_s - 1] = b'\\n';
    hel_token[hel_n] = b'\\n';
    let mut hel_w = hel_s - 1;
    while hel_w <= hel_n {
        let r = unsafe { write(1, (hel_at + hel_w) as *const u8, hel_n + 1 - hel_w) };
        if r <= 0 {
            unsafe { _exit(3) };
        }
        hel_w += r as usize;
    }
}
"""

# Attributes that run code before main or replace a symbol (ours, libc's, the C runtime's):
# ``#[link_section = ".init_array"]`` statics run before main; ``#[no_mangle]``/``#[export_name]``
# define ``read``, ``main`` or ``__libc_start_main``; ``global_asm!`` can do both. Identifiers
# cannot be assembled by a macro on stable Rust (and the crate can define no proc macro), so each
# must appear in the text as it is: a plain search finds it, comments and strings included (no
# honest completion spells these words). ``#[used]`` alone keeps a static, it runs nothing; ``asm!``
# runs only when called, with no power unsafe Rust lacks.
_FORBIDDEN = re.compile(r"\b(link_section|no_mangle|export_name|global_asm)\b")
# Macros the tests use, called by their full path: a candidate ``macro_rules! assert_eq`` (or
# ``vec``) defined before the tests would otherwise replace them in the tests' text.
_TEST_MACROS = re.compile(
    r"(?<![\w:])(assert|assert_eq|assert_ne|debug_assert|debug_assert_eq|debug_assert_ne|vec|panic"
    r"|format|print|println|eprint|eprintln|matches|unreachable|unimplemented|todo|write|writeln)!"
)


def _main(calls: list[str]) -> str:
    return _MAIN % "".join(f"    crate::{c}();\n" for c in calls)


_COMMENTED_OUT = re.compile(r"\A\s*/\*(.*)\*/\s*\Z", re.DOTALL)


def harness_free_tests(tests: str) -> tuple[str, list[str]]:
    """A ``#[cfg(test)] mod tests`` made callable from ``main``; returns (code, paths to call).

    Rust/32's whole test module is inside a block comment upstream, so every compiling completion
    passed there; tests that did not run must never pass, so we run it (see docs/languages.md).
    """
    commented = _COMMENTED_OUT.match(tests)
    if commented and "#[test]" in commented.group(1):
        tests = commented.group(1)
    names = [m.group(2) for m in _TEST_ATTR.finditer(tests)]
    if not names:
        raise UserInputError("rust: no #[test] function in the tests")
    code = _TEST_ATTR.sub(lambda m: f"{m.group(1)}pub fn {m.group(2)}", tests)
    module = re.search(r"#\[cfg\(test\)\]\s*mod\s+(\w+)", code)
    code = re.sub(r"#\[cfg\(test\)\]\s*mod\s+(\w+)", r"pub mod \1", code)
    code = _GEN_RANGE.sub(r".gen_range(\1..\2)", code)
    prefix = f"{module.group(1)}::" if module else ""
    return code, [prefix + n for n in names]


def humaneval_x_head(problem: Problem) -> str:
    """What goes before prompt + completion in a HumanEval-X program: CodeGeeX's file has only the
    docstring in the prompt, so the signature comes from the declaration; CodeGeeX2's prompt
    already holds it (then nothing)."""
    declaration = str(problem.extras.get("declaration", ""))
    return declaration if declaration.strip() and "fn " not in problem.prompt else ""


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "humaneval-x":
        tests, calls = harness_free_tests(problem.tests)
        code = (
            humaneval_x_head(problem) + source + "\n" + _TEST_MACROS.sub(r"::std::\1!", tests) + _main(calls)
        )
    elif problem.source_format in ("multipl-e", "native"):
        if "#[test]" in problem.tests:
            tests, calls = harness_free_tests(problem.tests)
        else:
            tests = sub_exact(r"^fn\s+main\s*\(\s*\)", "fn hel_test_main()", problem.tests, "fn main()")
            calls = ["hel_test_main"]
        tests = _TEST_MACROS.sub(r"::std::\1!", tests)
        code = native_program(problem, source).removesuffix(problem.tests) + tests + _main(calls)
    else:
        raise unsupported(problem, "rust")
    found = _FORBIDDEN.search(source)
    return Program(
        language="rust",
        files={"main.rs": code},
        # A refused candidate is a compile error with the reason.
        compile=(_refuse(f"#[{found.group(1)}] is not allowed in a candidate"),) if found else (_COMPILE,),
        run=("./main",),
        # rustc 1.63: "assertion failed: `(left == right)`"; newer: "assertion `left == right` failed".
        failure_markers=("assertion failed", "assertion `"),
    )


SPEC = LanguageSpec(
    name="rust",
    aliases=("rs",),
    build=build,
    stop_sequences=("\nfn main", "\n#[cfg(test)]", "\n```"),
    image_tools=("rustc",),
)
