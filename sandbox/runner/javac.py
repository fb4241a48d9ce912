"""The warm Java compiler: one trusted JVM per worker thread doing what ``javac`` per job did.

Java's compile step (``javac ... -d . X.java ...``, see humaneval_lab/languages/java.py) costs a
JVM start and JIT warm-up per job; a long-lived ``javax.tools`` compiler (``javac_server``) does the
same compile in a fraction of it. The job's ``compile`` argv stays the contract: the runner hands the
server the very sources and class path that argv names, and runs the argv itself whenever the server
cannot answer (not started yet, died, crashed on a source); ``HEL_JAVAC_SERVER=0`` turns it off.

Trust boundary (compile_server.py: the same for every warm compiler; guard.py: who runs as whom):

- the server runs as COMPILER_UID, no job's or judge's uid and not root, with no capabilities; its
  stdin and stdout are pipes only the runner holds and its stderr goes nowhere, so no sample can
  open, signal or ptrace it (another uid) nor reach its channel (no path, no socket);
- it compiles in memory (no ``-d``, no file written) with ``-proc:none``, so no candidate code runs
  in it at compile time; it returns class bytes, which the runner writes into the job's dir as the
  job's uid would have (``write_classes``): the server needs no access to any job dir;
- each compile has the job's deadline; past it, or on a malformed answer, the server is killed and
  the job's verdict is what a timed-out ``javac`` gets; the next job starts a fresh server (and
  compiles with plain ``javac`` until it is ready). Its CPU time is not the job's (the cputime
  watch counts the slot's uids): the wall deadline bounds it.

Standard library only.
"""

from __future__ import annotations

import os
import re
import struct
from typing import Any

from . import compile_server as cs
from .javac_server import SERVER_JAVA

COMPILER_UID = cs.COMPILER_UID
# Few threads (each counts in the pids cgroup the guard checks exactly), none started later.
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CICompilerCount=1",
    "-XX:-UseDynamicNumberOfCompilerThreads",
    "-XX:-UsePerfData",  # no /tmp/hsperfdata file
    "-XX:+DisableAttachMechanism",
    "-Xmx256m",
    "-Xss8m",  # javac recurses on deeply nested expressions
)
_CLASS_NAME = re.compile(r"[^./\x00]{1,200}(\.[^./\x00]{1,200}){0,20}")
# Server.java's home: /work is root's (0711); a sample can create nothing at its top level.
SPEC = cs.Spec(
    kind="javac",
    home="/work/.hel-javac",
    main="Server.java",
    source=SERVER_JAVA,
    argv=("java", *JVM_FLAGS),
    statuses=frozenset({0, 1, 2}),  # compiled, compile errors, the compiler crashed
    crashed=2,
    names=_CLASS_NAME,
)


def enabled() -> bool:
    return os.environ.get("HEL_JAVAC_SERVER", "1") != "0"


def request_of(argv: list[str]) -> tuple[str, list[str]] | None:
    """(class path, source files) when ``argv`` is a javac command the server does exactly: output
    to ``-d .``, only flags it applies itself; None otherwise (run the argv)."""
    if not argv or argv[0] != "javac":
        return None
    cp, out, sources = "", "", []
    args = iter(argv[1:])
    for a in args:
        if a in ("-cp", "-classpath", "--class-path"):
            cp = next(args, "")
        elif a == "-d":
            out = next(args, "")
        elif a == "-encoding":
            if next(args, "").upper() not in ("UTF-8", "UTF8"):
                return None
        elif a == "-nowarn" or a.startswith("-J"):
            continue
        elif a.endswith(".java") and not a.startswith("-"):
            sources.append(a)
        else:
            return None
    if out != "." or not sources:
        return None
    # The job's dir is not the server's: "." names nothing it may read, and all sources are given.
    return ":".join(p for p in cp.split(":") if p.startswith("/")), sources


def request(classpath: str, sources: dict[str, str]) -> bytes:
    """Server.java's request: the file count, the class path, then (name, text) per source."""
    req = [struct.pack(">i", len(sources)), cs.blob(classpath.encode())]
    for name, text in sources.items():
        req += [cs.blob(name.encode()), cs.blob(text.encode("utf-8", "surrogatepass"))]
    return b"".join(req)


def write_classes(workdir: str, classes: dict[str, bytes], owner: int | None) -> None:
    """Write class files where ``javac -d .`` would (``a/b/C$D.class`` for ``a.b.C$D``), as ``owner``.

    Nothing of the job has run yet (the compile is its first step), yet every open refuses a link.
    """
    outputs = {}
    for name, data in classes.items():
        parts = name.split(".")
        outputs[(*parts[:-1], parts[-1] + ".class")] = data
    cs.write_outputs(workdir, outputs, owner)


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
    None when ``argv`` must run as it is (no server for it, not ready yet, gone, crashed)."""
    req = request_of(argv)
    if req is None or not ctx.contained or not enabled():
        return None
    classpath, names = req
    if not all(n in files for n in names):
        return None
    # A worker's first Java job waits for the start (~1.3 s of CPU, about one plain javac).
    got = cs.serve(ctx, SPEC, request(classpath, {n: files[n] for n in names}), deadline, lim["output_bytes"])
    if not isinstance(got, tuple):
        return got
    status, diag, classes = got
    if status == 0:
        write_classes(workdir, classes, uid)
    return cs.result(status, b"", diag)
