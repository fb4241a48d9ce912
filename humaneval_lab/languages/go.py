"""Go: HumanEval-X (testify tests in ``package main``), MultiPL-E (``package <name>_test``) and native
problems, built like ``go test -c`` (compiler and linker called directly) over Debian's /usr/share/gocode (testify comes
from golang-github-stretchr-testify-dev; nothing is fetched).

The token: a ``TestMain`` in a second file of the same package reads it into a local, points fd 1 at
stderr (so test output, where the failure markers are, lands on stderr), runs the tests and prints
the token on the saved stdout only if they all passed. Package-level initialisers and ``init``
functions of the candidate do run before ``TestMain``; see docs/languages.md.
"""

from __future__ import annotations

import hashlib
import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import PREWARM, unsupported
from humaneval_lab.languages._common import refuse as _refuse
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# HumanEval-X's harness imports each of these that the code uses and the test setup lacks (Go
# rejects unused imports, and some canonical solutions use packages their prompt does not import).
_STD_PACKAGES = (
    "math",
    "strings",
    "fmt",
    "strconv",
    "time",
    "bytes",
    "regexp",
    "sort",
    "math/rand",
    "crypto/md5",
)

# The first file of the package (files initialise in name order). Its token variable depends on
# nothing of the package, so it is initialised before any package-level variable or ``init`` of the
# candidate runs; its name carries a hash of the candidate's file, which no candidate can name. It
# reads fd 0 itself (no buffer left behind) and points fd 0 at /dev/null.
_TEST_MAIN = """package %(package)s

import (
\t"flag"
\t"fmt"
\t"os"
\t"strings"
\t"syscall"
\t"testing"
)

var %(token)s = func() string {
\tbuf := make([]byte, 64)
\tn := 0
\tfor n < len(buf) {
\t\tr, err := syscall.Read(0, buf[n:])
\t\tif r <= 0 || err != nil {
\t\t\tbreak
\t\t}
\t\tn += r
\t\tif buf[n-1] == '\\n' {
\t\t\tbreak
\t\t}
\t}
\ttoken := strings.TrimSpace(string(buf[:n]))
\tfor i := range buf {
\t\tbuf[i] = 0
\t}
\tnull, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
\tif err != nil || syscall.Dup3(null, 0, 0) != nil {
\t\tos.Exit(3)
\t}
\treturn token
}()

// The tests' functions exist as tests: a candidate that hid them would not compile.
var _ = []func(*testing.T){%(tests)s}

func TestMain(m *testing.M) {
\ttoken := %(token)s
\t%(token)s = ""
\tif token == "" {
\t\tos.Exit(3)
\t}
\t// The candidate's init may have changed os.Args or parsed the flags: every test runs, once.
\tif !flag.Parsed() {
\t\tflag.Parse()
\t}
\tfor name, value := range map[string]string{
\t\t"test.run": "", "test.skip": "", "test.list": "", "test.count": "1", "test.shuffle": "off",
\t\t"test.bench": "", "test.fuzz": "", "test.failfast": "false",
\t} {
\t\tif flag.Lookup(name) != nil && flag.Set(name, value) != nil {
\t\t\tos.Exit(3)
\t\t}
\t}
\tout, err := syscall.Dup(1)
\tif err != nil || syscall.Dup3(2, 1, 0) != nil {
\t\tos.Exit(3)
\t}
\tcode := m.Run()
\tif code == 0 {
\t\tfmt.Fprintf(os.NewFile(uintptr(out), "stdout"), "\\n%%s\\n", token)
\t}
\tos.Exit(code)
}
"""

GO_ENV = {
    "GO111MODULE": "off",
    "GOPATH": "/usr/share/gocode",
    "GOPROXY": "off",
    "GOFLAGS": "",
    # The toolchain's own temp files go to the job's dir (the compile and link write nothing else).
    "GOTMPDIR": "{workdir}",
}

# ``go test -c`` costs ~0.5 s of CPU per sample: the go command hashes every dependency's sources
# to decide staleness, keeps a build cache (per job, so no sample can plant objects another links)
# and links with the symbol table. We call the compiler and linker ourselves instead, as ``go test``
# would: one package of the three files (in name order, so the token's file initialises first), a
# generated test main that runs only the tests' functions (below), and a link without symbol or
# DWARF tables (-s -w). Imports resolve through an importcfg listing the image's installed archives
# (Go 1.19 ships the standard library as .a files; setup-rootfs.sh installs testify's): nothing is
# compiled but the sample, and nothing is written but the job's dir. ``import "C"`` (cgo) and
# ``//go:embed`` need the go command: they are compile errors here (no HumanEval-style completion
# uses either).
# The compiler and linker run with the collector off until their heap nears 256 MiB (GOMEMLIMIT,
# Go >= 1.19): both are short-lived and peak near 100 MiB on these programs, so collecting only
# costs CPU (measured: link 288 -> 252 ms, compile 78 -> 52 ms of CPU per sample); a larger build
# still collects near the limit instead of running out of memory. The run step keeps Go's defaults.
# The importcfg is the image's (IMPORTCFG, written once by setup-rootfs.sh; root-owned, read-only
# to samples) plus the candidate's package. Its testify is a build of assert and require without
# their HTTP helpers: stock assert imports net/http and net/url only for those, and their type
# data made up half the link (measured: link ~207 -> ~111 ms of CPU per sample).
IMPORTCFG = f"{PREWARM}/go/importcfg"
_BUILD = (
    "sh", "-c",
    f"set -e; export GOGC=off GOMEMLIMIT=256MiB; set -- /usr/lib/go/pkg/tool/linux_*; T=$1; C={IMPORTCFG}; "
    '"$T/compile" -o cand.a -p hel/cand -complete -importcfg "$C" -pack 0hel_main_test.go main_test.go tests_test.go; '
    '{ cat "$C"; echo "packagefile hel/cand=$PWD/cand.a"; } > importcfg; '
    '"$T/compile" -o testmain.a -p main -complete -importcfg importcfg -pack hel_testmain.go; '
    'exec "$T/link" -s -w -buildmode=exe -importcfg importcfg -o main.test testmain.a',
)  # fmt: skip

# What ``go test`` generates for a package with a TestMain (Go 1.19's testing.MainStart), listing
# the tests' functions only: a Test function the candidate defines is not run.
_TESTMAIN = """package main

import (
	"os"
	"testing"
	"testing/internal/testdeps"

	_test "hel/cand"
)

var tests = []testing.InternalTest{
%s}

func main() {
	m := testing.MainStart(testdeps.TestDeps{}, tests, nil, nil, nil)
	_test.TestMain(m)
	os.Exit(3) // TestMain exits itself
}
"""

_IMPORT_BLOCK = re.compile(r"^import\s*(\([^)]*\)|\"[^\"]*\")\s*$", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)


_QUOTED = re.compile(r'"([^"]+)"')
_TEST_FUNC = re.compile(r"^func\s+(Test\w+)\s*\(\s*\w+\s+\*testing\.T\s*\)", re.MULTILINE)


def _uses(code: str, path: str) -> bool:
    """Whether ``code`` (outside comments) uses the package imported as ``path``."""
    uncommented = re.sub(r"//[^\n]*|/\*.*?\*/", "", code, flags=re.DOTALL)
    return re.search(rf"\b{re.escape(path.rsplit('/', 1)[-1])}\.", uncommented) is not None


def _file(package: str, paths: list[str], code: str) -> str:
    """A Go file of ``package`` importing those of ``paths`` that ``code`` uses (Go rejects the others)."""
    used = [p for p in dict.fromkeys(paths) if _uses(code, p)]
    block = "import (\n" + "".join(f'    "{p}"\n' for p in used) + ")\n\n" if used else ""
    return f"package {package}\n\n{block}{code}\n"


def _split(problem: Problem, source: str) -> tuple[str, str, str]:
    """(package, the candidate's file, the tests' file): two files, so nothing the candidate writes
    (an unclosed raw string or comment) can swallow the tests' text."""
    if problem.source_format == "humaneval-x":
        setup = str(problem.extras.get("test_setup", "package main\n"))
        imports = str(problem.extras.get("import", ""))
        code = source
        if imports.strip() and code.startswith(imports):
            code = code[len(imports) :]
        elif imports.strip():
            code = code.replace(imports, "", 1)
        package = _PACKAGE.search(setup)
        name = package.group(1) if package else "main"
        # Each standard package of a fixed list that the code uses, as CodeGeeX does.
        cand = _file(name, list(_STD_PACKAGES), code)
        # The tests too may use a standard package the setup lacks (Go/2 uses math).
        return name, cand, _file(name, _QUOTED.findall(setup) + list(_STD_PACKAGES), problem.tests)
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "go")
    package = _PACKAGE.search(source)
    block = _IMPORT_BLOCK.search(source)
    if package is None:
        raise UserInputError(f"go: no package clause in {problem.task_id}'s prompt")
    paths = _QUOTED.findall(block.group(1)) if block else []
    start = block.end() if block else package.end()
    name = package.group(1)
    return name, _file(name, paths, source[start:]), _file(name, paths, problem.tests)


def build(problem: Problem, source: str) -> Program:
    package, cand, tests = _split(problem, source)
    names = _TEST_FUNC.findall(problem.tests)
    if not names:
        raise UserInputError(f"go: no test function in {problem.task_id}'s tests")
    token = "_helToken" + hashlib.sha256(cand.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    compile_steps: tuple[tuple[str, ...], ...] = (_BUILD,)
    if "go:linkname" in cand:
        # //go:linkname binds a name to any symbol of the binary (testing's internals, our token).
        compile_steps = (_refuse("//go:linkname is not allowed in a candidate"),)
    return Program(
        language="go",
        files={
            "0hel_main_test.go": _TEST_MAIN % {"package": package, "token": token, "tests": ", ".join(names)},
            "main_test.go": cand,
            "tests_test.go": tests,
            "hel_testmain.go": _TESTMAIN % "".join(f'\t{{"{n}", _test.{n}}},\n' for n in names),
        },
        compile=compile_steps,
        run=("./main.test", "-test.count=1"),
        env=GO_ENV,
        failure_markers=("--- FAIL",),
    )


SPEC = LanguageSpec(
    name="go",
    aliases=("golang",),
    build=build,
    stop_sequences=("\nfunc Test", "\nfunc main", "\n```"),
    image_tools=("go",),
)
