"""The warm TypeScript compiler: one trusted Node process per worker thread doing what ``tsc`` per job did.

TypeScript's compile step (``tsc --target es2020 ... --outDir . main.ts``, see
humaneval_lab/languages/typescript.py) cost a Node start, loading the compiler and parsing and
binding its lib files (~2-3 s of CPU) for a few milliseconds of checking the sample. A long-lived
server (``tsc_server``) does the same compile with the lib files kept parsed. The job's argv stays
the contract: the runner sends the server the argv's arguments, the job's dir and the files it
holds (exactly what tsc would read there: the compile is the job's first step), writes the emitted
files back as the job's uid, and runs the argv itself whenever the server cannot answer (not
started yet, died, failed on a source); ``HEL_TSC_SERVER=0`` turns it off. Same exit code, same
diagnostics text (tsc's own reporter), same emitted bytes.

The trust boundary is every warm compiler's (compile_server.py): the compile uid, pipes only the
runner holds, the job's deadline, nothing it compiles ever runs in it.

Standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from typing import Any

from . import compile_server as cs
from .tsc_server import SERVER_JS

# An output path below the job's dir: no empty, "." or ".." part, no NUL, at most 32 levels.
_OUTPUT = re.compile(r"(?!\.\.?(/|$))[^/\x00]{1,255}(/(?!\.\.?(/|$))[^/\x00]{1,255}){0,31}")
# The flags typescript.py's argv uses, each with the values the server was checked against; any
# other tsc command runs as it is.
_FLAGS: dict[str, frozenset[str] | None] = {
    "--target": frozenset({"es2020"}),
    "--module": frozenset({"commonjs"}),
    "--skipLibCheck": None,
    "--pretty": frozenset({"false"}),
    "--outDir": frozenset({"."}),
}
# Few threads (each counts in the pids cgroup the guard checks exactly); a heap bound so a source
# that makes the checker grow without end kills the server (the job then runs plain tsc).
NODE_FLAGS = ("--v8-pool-size=1", "--max-old-space-size=512")


def _typescript() -> str:
    """typescript.js of the install whose tsc.js ``tsc`` on PATH runs (beside it); "" without one."""
    tsc = shutil.which("tsc", path="/usr/local/bin:/usr/bin:/bin")
    if tsc is None:
        return ""
    lib = os.path.join(os.path.dirname(os.path.realpath(tsc)), "..", "lib")
    path = os.path.realpath(os.path.join(lib, "typescript.js"))
    return path if os.path.isfile(os.path.join(os.path.dirname(path), "tsc.js")) else ""


def spec(typescript: str) -> cs.Spec:
    return cs.Spec(
        kind="tsc",
        home="/work/.hel-tsc",  # /work is root's (0711): a sample can create nothing at its top level
        main="server.js",
        source=SERVER_JS,
        argv=("node", *NODE_FLAGS),
        extra=(typescript,),
        statuses=frozenset({0, 1, 2, 9}),  # tsc's exit codes; 9: it failed, run tsc
        crashed=9,
        names=_OUTPUT,
        max_outputs=256,
    )


_SPEC: cs.Spec | None = None


def enabled() -> bool:
    return os.environ.get("HEL_TSC_SERVER", "1") != "0"


def request_of(argv: list[str], files: dict[str, str]) -> list[str] | None:
    """The arguments after ``tsc`` when ``argv`` is a command the server does exactly (only the
    flags and values above, sources among the job's files); None otherwise (run the argv)."""
    if len(argv) < 2 or argv[0] != "tsc":
        return None
    args = iter(argv[1:])
    sources = 0
    for a in args:
        if a in _FLAGS:
            allowed = _FLAGS[a]
            if allowed is not None and next(args, None) not in allowed:
                return None
        elif a.endswith(".ts") and not a.startswith("-") and a in files:
            sources += 1
        else:
            return None
    return argv[1:] if sources else None


def request(args: list[str], workdir: str, files: dict[str, str]) -> bytes:
    """server.js's request: the args, the job's dir, then (relative path, bytes) per file, the bytes
    as ``guard.write_files`` writes them."""
    req = [struct.pack(">i", len(args)), *(cs.blob(a.encode()) for a in args), cs.blob(workdir.encode())]
    req.append(struct.pack(">i", len(files)))
    for rel, text in files.items():
        req += [cs.blob(os.path.normpath(rel).encode()), cs.blob(text.encode("utf-8", "surrogatepass"))]
    return b"".join(req)


def compile_step(
    ctx: Any,
    argv: list[str],
    workdir: str,
    files: dict[str, str],
    lim: dict[str, Any],
    deadline: float,
    uid: int | None,
) -> dict[str, Any] | None:
    """The result of compile step ``argv`` (``steps.run_step``'s shape), done by the warm server;
    None when ``argv`` must run as it is (no server for it, not ready yet, gone, failed)."""
    global _SPEC
    args = request_of(argv, files)
    if args is None or not ctx.contained or not enabled():
        return None
    if _SPEC is None:
        typescript = _typescript()
        if not typescript:
            return None
        _SPEC = spec(typescript)
    got = cs.serve(ctx, _SPEC, request(args, workdir, files), deadline, lim["output_bytes"])
    if not isinstance(got, tuple):
        return got
    status, diag, outputs = got
    cs.write_outputs(workdir, {tuple(name.split("/")): data for name, data in outputs.items()}, uid)
    return cs.result(status, diag, b"")
