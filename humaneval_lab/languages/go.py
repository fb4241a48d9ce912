"""Go: HumanEval-X (testify tests in ``package main``), MultiPL-E (``package <name>_test``) and native
problems, built with ``go test -c`` in GOPATH mode over Debian's /usr/share/gocode (testify comes
from golang-github-stretchr-testify-dev; nothing is fetched).

The token: a ``TestMain`` in a second file of the same package reads it into a local, points fd 1 at
stderr (so test output, where the failure markers are, lands on stderr), runs the tests and prints
the token on the saved stdout only if they all passed. Package-level initialisers and ``init``
functions of the candidate do run before ``TestMain``; see docs/languages.md.
"""

from __future__ import annotations

import re

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import PREWARM, multipl_e_program, native_program, unsupported
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

_TEST_MAIN = """package %s

import (
\t"bufio"
\t"fmt"
\t"os"
\t"strings"
\t"syscall"
\t"testing"
)

func TestMain(m *testing.M) {
\ttoken, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
\ttoken = strings.TrimSpace(token)
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
    # One build cache per job, seeded from the image's read-only prewarmed one. A cache shared by
    # the jobs of a container would be about twice as fast on a cold compile but writable by every
    # sample: one sample could plant objects that later samples link (see docs/languages.md).
    "GOCACHE": "{workdir}/.gocache",
}
_SEED = ("sh", "-c", f'[ ! -d {PREWARM}/go-build-cache ] || cp -r {PREWARM}/go-build-cache "$GOCACHE"')
_COMPILE = ("go", "test", "-c", "-vet=off", "-o", "main.test", ".")

_IMPORT_BLOCK = re.compile(r"^import\s*(\([^)]*\)|\"[^\"]*\")\s*$", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)


def _humaneval_x_program(problem: Problem, source: str) -> str:
    setup = str(problem.extras.get("test_setup", "package main\n"))
    imports = str(problem.extras.get("import", ""))
    code = source
    if imports.strip() and code.startswith(imports):
        code = code[len(imports) :]
    elif imports.strip():
        code = code.replace(imports, "", 1)
    have = set(re.findall(r'"([\w/]+)"', setup))
    # Comments do not use a package ("a list of strings." in a docstring is not strings.X).
    uncommented = re.sub(r"//[^\n]*|/\*.*?\*/", "", code, flags=re.DOTALL)
    needed = [
        pkg for pkg in _STD_PACKAGES
        if pkg not in have and re.search(rf"\b{re.escape(pkg.rsplit('/', 1)[-1])}\.", uncommented)
    ]  # fmt: skip
    extra = "import (\n" + "".join(f'    "{p}"\n' for p in needed) + ")\n" if needed else ""
    return setup + extra + code + "\n" + problem.tests


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "humaneval-x":
        code = _humaneval_x_program(problem, source)
    elif problem.source_format == "multipl-e":
        code = multipl_e_program(problem, source)
    elif problem.source_format == "native":
        code = native_program(problem, source)
    else:
        raise unsupported(problem, "go")
    package = _PACKAGE.search(code)
    return Program(
        language="go",
        files={
            "main_test.go": code,
            "hel_main_test.go": _TEST_MAIN % (package.group(1) if package else "main"),
        },
        compile=(_SEED, _COMPILE),
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
