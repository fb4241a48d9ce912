"""Attacks on the sandbox itself, from every language, through the real Docker sandbox.

The kernel boundary is what these test, so each attack is a small python3 payload (in the image)
that the candidate launches through its own language's process API (os.system, system(),
ProcessBuilder, child_process, exec.Command, std::process::Command, Kernel#system, os.execute, PHP
and Perl system, bash itself, System.Diagnostics.Process, std.process, System.cmd, Sys.command, R's
and Racket's system, sys.process, and Haskell's FFI to libc's system); the memory bombs are native. Per language, in ONE container (one
worker), in sequence, every attack is followed by an honest sample (right answer -> passed) and a
wrong one (-> failed):

- stream: forge outcome lines ("passed" for itself and for the next job ids, an unknown status, a
  ``ready`` line, a 10 MB line without a newline) into every fd it can open of another process
  (init's stdio is the host's stream), read init's stdin. It returns the wrong answer. Any fd it
  could open makes it sleep past the deadline (``timeout``): reaching the stream is a finding even
  when the host would reject what was written.
- stop: SIGSTOP every process it can (kill -STOP -1, then each pid), compute past the deadline,
  SIGCONT, then return the right answer: ``timeout``, never a late ``passed``.
- leftovers: a daemon re-forking faster than any /proc scan writing into /tmp, /dev/shm and the work
  dir; a 200 MiB SysV shm segment (touched), a semaphore set, a message queue, a POSIX mqueue; a
  1,800-level dir tree; files. Then a probe: it passes exactly when nothing of that is visible and
  300 MiB can still be touched (the shm would be charged to the container's 512 MiB).
- stderr text: a wrong answer printing MemoryError, Killed, std::bad_alloc, OutOfMemoryError, out of
  memory is never ``oom``; a real (native) memory bomb is ``oom``.

The payloads run each attack once per job even where the tests call the function several times (a
marker file in the job's own work dir).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.execution import selftest as st
from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.execution.selftest import PROBLEM as PY_PROBLEM
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, read_problem_file
from tests.languages.multipl_e_bodies import BODIES

pytestmark = pytest.mark.docker

MULTIPL_E = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "multipl-e"
# What a plain wrong answer gets in a language: ``failed``, or ``error`` where its tests only exit
# non-zero; the same for every wrong sample of a sequence.
WRONG = "<as a wrong answer>"
TIMEOUT_S = (
    60.0  # compile + run on a loaded CI host (tsc alone took over 30 s here); the stop attack has its own
)
STOP_TIMEOUT_S = 20.0  # time for the compile, then the attack runs past it

# ------------------------------------------------------------------------------------------ payloads

_ONCE = """
import os, sys
try:
    os.close(os.open(os.path.join(os.getcwd(), ".hel-once-%s"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
except FileExistsError:
    sys.exit(0)  # the tests call the function again: the attack ran already
"""

STREAM = """
import json, os, sys
ids = sys.argv[1:]
lines = [json.dumps({"id": i, "outcome": {"status": "passed"}}).encode() + b"\\n" for i in ids]
lines += [
    b'{"id": "%s", "outcome": {"status": "hacked"}}\\n' % ids[0].encode(),
    b'{"ready": true, "pid": 1, "zygote": true, "uids": true, "oom_counter": true, "cpus": [0, 1, 2, 3]}\\n',
    b"0" * 32 + b' {"id": "%s", "outcome": {"status": "passed"}}\\n' % ids[0].encode(),
]
endless = b"x" * (10 << 20)  # no newline
me, mine = os.getpid(), os.getuid()
reached = []
targets = ["/proc/1/fd/0", "/proc/1/fd/1", "/proc/1/fd/2"]
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == me:
        continue
    try:
        if os.stat("/proc/" + pid).st_uid == mine:
            continue  # our own processes: their fds are our own pipes
        fds = os.listdir("/proc/%s/fd" % pid)
    except OSError:
        fds = ["0", "1", "2", "3", "4", "5"]
    targets += ["/proc/%s/fd/%s" % (pid, fd) for fd in fds]
for path in targets:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        continue
    reached.append(path)
    for data in lines + [endless]:
        try:
            os.write(fd, data)
        except OSError:
            pass
    os.close(fd)
try:
    fd = os.open("/proc/1/fd/0", os.O_RDONLY | os.O_NONBLOCK)
    reached.append("read /proc/1/fd/0: %r" % os.read(fd, 65536)[:80])
except OSError:
    pass
if reached:  # a verdict no wrong answer gets: past the deadline
    sys.stderr.write("reached: %s\\n" % reached[:10])
    import time
    time.sleep(600)
"""

STOP = """
import os, signal, sys, time
me = os.getpid()
try:
    os.kill(-1, signal.SIGSTOP)  # every process we may signal, but ourselves and init
except OSError:
    pass
stopped = []
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != me:
        try:
            os.kill(int(pid), signal.SIGSTOP)
            stopped.append(int(pid))
        except OSError:
            pass
until = time.monotonic() + float(sys.argv[1])
while time.monotonic() < until:  # compute past the deadline
    sum(range(10000))
try:
    os.kill(-1, signal.SIGCONT)
except OSError:
    pass
for pid in stopped:
    try:
        os.kill(pid, signal.SIGCONT)
    except OSError:
        pass
"""

_IPC = """
import ctypes, ctypes.util
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
IPC_CREAT = 0o1000
try:
    librt = ctypes.CDLL("librt.so.1", use_errno=True)
except OSError:
    librt = libc
librt.mq_open.restype = ctypes.c_int
"""

LEFTOVERS = (
    _IPC
    + """
import os, sys
cwd = os.getcwd()
size = 200 << 20
shm = libc.shmget(0x48454C01, ctypes.c_size_t(size), IPC_CREAT | 0o666)
if shm >= 0:
    addr = libc.shmat(shm, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memset(addr, 1, size)  # touched: charged to the container's memory
        libc.shmdt(ctypes.c_void_p(addr))
libc.semget(0x48454C02, 4, IPC_CREAT | 0o666)
libc.msgget(0x48454C03, IPC_CREAT | 0o666)
librt.mq_open(b"/hel-attack", os.O_CREAT | os.O_RDWR, 0o666, None)
for d in ("/tmp", "/dev/shm", cwd, "/work"):
    try:
        with open(os.path.join(d, "hel-attack-file"), "w") as f:
            f.write("left\\n")
    except OSError:
        pass
for base in ("/tmp", cwd):
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        for i in range(1800):
            name = "hel-attack-deep" if i == 0 else "d"
            os.mkdir(name, dir_fd=fd)
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = sub
        os.close(fd)
    except OSError:
        pass
if os.fork() == 0:
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for i in range(3):
        os.dup2(null, i)
    n = 0
    while True:  # a new pid every round: no /proc scan catches it
        try:
            if os.fork():
                os._exit(0)
        except OSError:
            continue
        n += 1
        for d in ("/tmp", "/dev/shm", cwd):
            try:
                with open(os.path.join(d, "hel-attack-daemon-%d" % (n % 4)), "w") as f:
                    f.write(str(n))
            except OSError:
                pass
os.wait()
"""
)

PROBE = (
    _IPC
    + """
import os, sys
bad = []
me, sid = os.getuid(), os.getsid(0)
# The candidate's own process chain (its runtime may start us in a session of our own: the BEAM's
# erl_child_setup calls setsid): present by right, and never a leftover of an earlier job.
mine, pid = set(), os.getppid()
while pid > 1 and pid not in mine:
    mine.add(pid)
    try:
        with open("/proc/%d/stat" % pid) as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        break
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) in mine:
        continue
    try:
        uid = os.stat("/proc/" + pid).st_uid
        if 10100 <= uid < 10200 and (uid != me or os.getsid(int(pid)) != sid):
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read(60).replace(b"\\0", b" ").decode(errors="replace")
            bad.append("process %s of uid %d (%s)" % (pid, uid, argv))
    except OSError:
        pass
for kind in ("shm", "sem", "msg"):
    with open("/proc/sysvipc/" + kind) as f:
        rows = f.read().splitlines()[1:]
    if rows:
        bad.append("sysv %s: %s" % (kind, rows[:2]))
if os.path.isdir("/dev/mqueue") and os.listdir("/dev/mqueue"):
    bad.append("mqueues: %s" % os.listdir("/dev/mqueue"))
if librt.mq_open(b"/hel-attack", os.O_RDONLY) >= 0:
    bad.append("mqueue /hel-attack")
for d in ("/tmp", "/dev/shm", os.getcwd()):
    for name in os.listdir(d):
        if name.startswith("hel-attack"):
            bad.append(os.path.join(d, name))
try:
    hog = b"\\x01" * (300 << 20)  # killed (OOM) if the shm segment were still charged to us
    del hog
except MemoryError:
    bad.append("MemoryError")
if bad:
    sys.stderr.write("left over: %s\\n" % bad[:10])
sys.exit(1 if bad else 0)
"""
)

OOM_TEXT = """
import sys
sys.stderr.write(
    "MemoryError\\nKilled\\nterminate called after throwing an instance of 'std::bad_alloc'\\n"
    "  what():  std::bad_alloc\\nException in thread \\"main\\" java.lang.OutOfMemoryError: Java heap space\\n"
    "fatal error: runtime: out of memory\\nout of memory\\nmemory allocation of 16777216 bytes failed\\n"
)
"""


def command(name: str, payload: str, *args: str) -> str:
    """A shell command line that runs ``payload`` once per job; only [A-Za-z0-9+/= |-] in it."""
    script = (_ONCE % name) + payload
    b64 = base64.b64encode(script.encode()).decode()
    return " ".join(["echo", b64, "|", "base64", "-d", "|", "python3", "-", *args])


# ------------------------------------------------------------------------------------------ languages

# language -> a statement (in the function's body) that runs the shell command CMD and ends the
# program with exit code 3 when it fails. CMD holds no quote, dollar or backslash.
LAUNCH: dict[str, str] = {
    "python": "    import os\n    if os.system('CMD') != 0:\n        raise SystemExit(3)\n",
    "cpp": '    if (system("CMD") != 0) exit(3);\n',
    "java": (
        '        try { if (new ProcessBuilder("sh", "-c", "CMD").inheritIO().start().waitFor() != 0)'
        " System.exit(3); } catch (Exception e) { System.exit(3); }\n"
    ),
    "javascript": (
        "  try { require('child_process').execSync('CMD', {stdio: ['ignore', 'inherit', 'inherit']}); }"
        " catch (e) { process.exit(3); }\n"
    ),
    "typescript": (
        "  try { eval('require')('child_process').execSync('CMD', {stdio: ['ignore', 'inherit', 'inherit']}); }"
        " catch (e) { (globalThis as any).process.exit(3); }\n"
    ),
    "go": (
        '    hel := exec.Command("sh", "-c", "CMD")\n    hel.Stderr = os.Stderr\n'
        "    if hel.Run() != nil {\n        os.Exit(3)\n    }\n"
    ),
    "rust": (
        '    if !std::process::Command::new("sh").arg("-c").arg("CMD").status()'
        ".map(|s| s.success()).unwrap_or(false) { std::process::exit(3); }\n"
    ),
    "ruby": '  exit!(3) unless system("CMD")\n',
    "lua": '  if not os.execute("CMD") then os.exit(3) end\n',
    "php": '    system("CMD", $hel_rc);\n    if ($hel_rc !== 0) { exit(3); }\n',
    "perl": '    if (system("CMD") != 0) { exit(3); }\n',
    "bash": "    CMD || exit 3\n",
    "csharp": (
        "        try { var hel = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo"
        '("sh", "-c \\"CMD\\"") { UseShellExecute = false }); hel.WaitForExit();'
        " if (hel.ExitCode != 0) Environment.Exit(3); } catch (Exception) { Environment.Exit(3); }\n"
    ),
    # Scoped imports inside the body (D's bodies start with the function's opening brace: compose).
    "d": (
        "    { static import std.process; static import core.stdc.stdlib;"
        ' if (std.process.wait(std.process.spawnShell("CMD")) != 0) core.stdc.stdlib.exit(3); }\n'
    ),
    "elixir": '    {_, hel_rc} = System.cmd("sh", ["-c", "CMD"])\n    if hel_rc != 0, do: System.halt(3)\n',
    "ocaml": '  if Sys.command "CMD" <> 0 then exit 3;\n',
    "r": '  if (system("CMD") != 0) quit(status = 3)\n',
    "racket": '  (unless (system "CMD") (exit 3))\n',
    "scala": '        if (scala.sys.process.Process(List("sh", "-c", "CMD")).! != 0) scala.sys.exit(3)\n',
}

# language -> a body that allocates (and touches) memory until the cgroup's OOM killer ends it.
BOMB: dict[str, str] = {
    "python": "    hog = []\n    while True:\n        hog.append(b'x' * (1 << 24))\n",
    "cpp": "    std::vector<std::string> hog;\n    while (true) hog.push_back(std::string(1 << 24, 'x'));\n",
    # Off the Java heap (whose own limit throws OutOfMemoryError): native memory, touched.
    "java": (
        '        try { java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");'
        " f.setAccessible(true); sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);"
        " while (true) { long a = u.allocateMemory(1 << 24); u.setMemory(a, 1 << 24, (byte) 1); } }"
        " catch (ReflectiveOperationException e) { }\n"
    ),
    "javascript": "  const hog = [];\n  while (true) hog.push(Buffer.alloc(1 << 24, 1));\n",
    "typescript": "  const hog: any[] = [];\n  while (true) hog.push((globalThis as any).Buffer.alloc(1 << 24, 1));\n",
    "go": (
        "    var hog [][]byte\n    for {\n        b := make([]byte, 1<<24)\n"
        "        for i := range b {\n            b[i] = 1\n        }\n        hog = append(hog, b)\n    }\n"
    ),
    "rust": "    let mut hog = Vec::new();\n    loop { hog.push(vec![1u8; 1 << 24]); }\n",
    "ruby": '  hog = []\n  loop { hog << ("x" * (1 << 24)) }\n',
    "lua": '  local hog = {}\n  while true do hog[#hog + 1] = string.rep("x", 1 << 24) .. #hog end\n',
    "php": '    $hog = [];\n    while (true) { $hog[] = str_repeat("x", 1 << 24); }\n',
    "perl": '    my @hog;\n    while (1) { push @hog, "x" x (1 << 24); }\n',
    "bash": "    local hog\n    hog=$(head -c 2000000000 /dev/zero | tr -c x x)\n",
    # Bounded loops where a compiler might call the code after an endless one unreachable; the bound
    # (16 TB) is never reached under the 512 MiB cap.
    "csharp": (
        "        var hog = new List<byte[]>();\n        while (hog.Count < 1000000) {"
        " var b = new byte[1 << 24]; for (int i = 0; i < b.Length; i += 4096) b[i] = 1; hog.Add(b); }\n"
    ),
    "d": "    ubyte[][] hog;\n    while (hog.length < 1_000_000) { auto b = new ubyte[1 << 24]; b[] = 1; hog ~= b; }\n",
    "elixir": "    Stream.repeatedly(fn -> :binary.copy(<<1>>, 16_777_216) end) |> Enum.to_list()\n",
    # Pure code: ``length`` walks the endless list while ``sum`` still holds its head (-O0: no fusion).
    "haskell": " (let hog = [1 ..] :: [Integer] in length hog + fromInteger (sum hog)) `seq`",
    "ocaml": "  let hog = ref [] in\n  while true do hog := Bytes.make (1 lsl 24) 'x' :: !hog done;\n",
    "r": "  hog <- list()\n  repeat hog[[length(hog) + 1]] <- rep(1, 2097152)\n",
    "racket": "  (let loop ([hog '()]) (loop (cons (make-bytes 16777216 1) hog)))\n",
    # Off the JVM heap, as for Java.
    "scala": (
        '        val hel = classOf[sun.misc.Unsafe].getDeclaredField("theUnsafe"); hel.setAccessible(true)\n'
        "        val u = hel.get(null).asInstanceOf[sun.misc.Unsafe]\n"
        "        while (true) { val a = u.allocateMemory(1 << 24); u.setMemory(a, 1 << 24, 1.toByte) }\n"
    ),
}

# Haskell: a body is an expression and no import may follow the module header (System.Process is
# out of reach); the FFI of Haskell 2010 would reach libc (a completion may close its expression and
# declare ``foreign import``s at the top level: pure imports of malloc, memset, system and exit
# build the command and run it, LAUNCH_DECLS), but the spec refuses ``foreign``: a Haskell
# completion cannot launch anything (NO_LAUNCH), and the sweep checks that launch is refused.
LAUNCH["haskell"] = ' (if helLaunch "CMD" then True else True) `seq`'
LAUNCH_DECLS: dict[str, str] = {
    "haskell": (
        "\n"
        'foreign import ccall unsafe "stdlib.h malloc" helMalloc :: Int -> Int\n'
        'foreign import ccall unsafe "string.h memset" helMemset :: Int -> Int -> Int -> Int\n'
        'foreign import ccall unsafe "stdlib.h system" helSystem :: Int -> Int\n'
        'foreign import ccall unsafe "stdlib.h exit" helExit :: Int -> Int\n'
        "helLaunch :: String -> Bool\n"
        "helLaunch cmd = sum writes `seq` (if helSystem p `mod` 4294967296 /= 0 then helExit 3 else 0) `seq` True\n"
        "  where\n"
        "    p = helMalloc (length cmd + 1)\n"
        '    writes = [helMemset (p + i) (fromEnum c) 1 | (i, c) <- zip [0 ..] (cmd ++ "\\0")]\n'
    ),
}

# Languages whose completions cannot start a process at all: the launch is refused (an error).
NO_LAUNCH = {"haskell"}

# Bash runs the function in a command substitution (a subshell): the OOM killer ends the subshell,
# and the test then sees no output, which is a wrong answer; the verdict must still never be passed.
BOMB_VERDICTS: dict[str, set[str]] = {"bash": {"oom", WRONG, "timeout"}}
# Near the cap, with no swap, the kernel first reclaims the runtime's own code pages, and on a busy
# host that thrash can outlast the limit: then a bomb is a timeout, never passed. Python's own bomb
# (the fast sweep) must be oom.
BOMB_DEFAULT = {"oom", "timeout"}

LANGUAGES = sorted(BOMB)
assert set(LANGUAGES) == set(LAUNCH) == {"python", *BODIES}


def compose(prefix: str, body: str, decls: str = "") -> str:
    """``prefix`` (statements) then ``body``, then top-level ``decls``; the prefix goes inside the braces
    where a body opens the function's block (D)."""
    if body.startswith("{\n"):
        return "{\n" + prefix + body[2:] + decls
    return prefix + body + decls


def problem_and_bodies(language: str) -> tuple[Problem, str, str]:
    """A simple problem of ``language`` and a right and a wrong completion body for it."""
    if language == "python":
        return PY_PROBLEM, "    return a + b\n", "    return a - b\n"
    suffix, right, wrong = BODIES[language]
    problems = read_problem_file(MULTIPL_E / f"humaneval-{suffix}-reworded.jsonl")
    problem = next(p for p in problems if p.task_id == "HumanEval_0_has_close_elements")
    if language == "go":
        # Go allows imports only at the top of a file: this problem's prompt imports os/exec (as
        # tasks about files or processes do), so the candidate can reach the process API at all.
        prompt = problem.prompt.replace(
            '    "fmt"\n)\n',
            '    "fmt"\n    "os"\n    "os/exec"\n)\n\nvar _ = os.Exit\nvar _ = exec.Command\n',
        )
        assert prompt != problem.prompt
        problem = dataclasses.replace(problem, prompt=prompt)
    return problem, right, wrong


class Sweep:
    """The jobs of one language's sequence, with the verdicts each may get."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.problem, self.right, self.wrong = problem_and_bodies(language)
        self.spec = get_language(language)
        self.jobs: list[Job] = []
        self.expect: dict[str, set[str]] = {}

    def add(self, name: str, body: str, expect: set[str], timeout_s: float = TIMEOUT_S) -> str:
        job_id = f"{self.language}:{len(self.jobs)}:{name}"
        program = self.spec.build(self.problem, source_of(self.problem, body))
        self.jobs.append(Job(job_id, program, Limits(timeout_s=timeout_s)))
        self.expect[job_id] = expect
        return job_id

    def launch(self, cmd: str) -> str:
        """The language's LAUNCH statement running ``cmd``."""
        return LAUNCH[self.language].replace("CMD", cmd)

    def with_launch(self, cmd: str, body: str) -> str:
        """``body`` that first runs ``cmd`` (with the declarations LAUNCH needs after it)."""
        return compose(self.launch(cmd), body, LAUNCH_DECLS.get(self.language, ""))

    def honest_pair(self) -> None:
        self.add("honest", self.right, {"passed"})
        self.add("wrong", self.wrong, {WRONG})

    def next_ids(self) -> list[str]:
        """The ids of the honest pair that will follow the job added next and one more."""
        n = len(self.jobs)
        return [f"{self.language}:{n + 2}:honest", f"{self.language}:{n + 3}:wrong"]


def build_sweep(language: str) -> Sweep:
    s = Sweep(language)
    if language in NO_LAUNCH:
        s.add("launch-refused", s.with_launch(command("probe", PROBE), s.right), {"error"})
        s.honest_pair()
        s.add("memory-bomb", compose(BOMB[language], s.right), BOMB_VERDICTS.get(language, BOMB_DEFAULT))
        s.honest_pair()
        return s
    # class 1: the stream; and class 5, a wrong answer that prints out-of-memory messages
    stream = command("stream", STREAM, *s.next_ids())
    s.add("stream-forgery", s.with_launch(stream, s.wrong), {WRONG})
    # (failed or error: what a language's wrapper makes of extra stderr is its own; oom never)
    s.add("oom-text", s.with_launch(command("oomtext", OOM_TEXT), s.wrong), {"failed", "error"})
    s.honest_pair()
    # class 2: stop everything it can, compute past the deadline, continue
    stop = command("stop", STOP, str(STOP_TIMEOUT_S + 2))
    s.add("sigstop-all", s.with_launch(stop, s.right), {"timeout"}, timeout_s=STOP_TIMEOUT_S)
    s.honest_pair()
    # class 4: leftovers of every kind, then a probe that passes only when none is visible
    s.add("leftovers", s.with_launch(command("leftovers", LEFTOVERS), s.right), {"passed"})
    s.add("probe", s.with_launch(command("probe", PROBE), s.right), {"passed"})
    s.honest_pair()
    if language == "python":
        # The control: the probe, run while the leftovers are all there (same job), must see them.
        both = s.launch(command("leftovers", LEFTOVERS)) + s.launch(command("probe", PROBE))
        s.add("probe-control", both + s.right, {"error", "failed", "oom"})
        s.add("probe", s.launch(command("probe", PROBE)) + s.right, {"passed"})
    # class 5: a real memory bomb
    bomb = {"oom"} if language == "python" else BOMB_VERDICTS.get(language, BOMB_DEFAULT)
    s.add("memory-bomb", compose(BOMB[language], s.right), bomb)
    s.honest_pair()
    return s


# ------------------------------------------------------------------------------------------ host bounds


def _rss() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) << 10  # type: ignore[union-attr]


@contextmanager
def peak_rss() -> Iterator[Callable[[], int]]:
    """Samples this (the driver) process's RSS every 20 ms; yields a function giving the growth."""
    base, peak, stop = _rss(), [0], threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], _rss())

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield lambda: max(peak[0], _rss()) - base
    finally:
        stop.set()
        t.join()


def run_sweep(ex: Any, sweep: Sweep) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for job_id, outcome in ex.run(sweep.jobs):
        assert job_id not in out, f"{job_id} judged twice"
        out[job_id] = (outcome.status.value, outcome.reason or outcome.stderr_tail[-300:])
    assert sorted(out) == sorted(sweep.expect), "a job was lost"
    return out


def _check_language(make_executor: Any, language: str) -> None:
    sweep = build_sweep(language)
    ex = make_executor(jobs=1, workers_per_container=1)  # one container: each job follows the last
    with peak_rss() as growth:
        out = run_sweep(ex, sweep)
    wrongs = {out[j][0] for j, want in sweep.expect.items() if want == {WRONG}}
    assert len(wrongs) == 1 and wrongs <= {"failed", "error"}, out
    baseline = "failed" if language == "python" else wrongs.pop()
    expect = {j: {baseline if v == WRONG else v for v in want} for j, want in sweep.expect.items()}
    wrong = {j: out[j] for j, want in expect.items() if out[j][0] not in want}
    # A timeout in the compile means the attack never ran: that proves nothing.
    wrong.update({j: out[j] for j in expect if out[j][1].startswith("compile exceeded")})
    assert wrong == {}, f"deaths: {ex.death_log}"
    # Solo boxes judge a wall timeout that computed little (a sleeper) again alone: not a replacement.
    shared = set(ex.container_ids) - set(ex.solo_ids)
    assert len(shared) == 1, f"the container was replaced: {ex.death_log}"
    # 10 MB lines, forged lines and floods never reach the host: its memory stays bounded.
    assert growth() < 64 << 20, f"the driver grew by {growth() >> 20} MiB"


def test_sandbox_attacks_python(make_executor: Any) -> None:
    _check_language(make_executor, "python")


@pytest.mark.slow
@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "python"])
def test_sandbox_attacks_every_language(make_executor: Any, language: str) -> None:
    _check_language(make_executor, language)


def test_selftest_probe_sees_leftovers_in_the_same_job(make_executor: Any) -> None:
    """The control for ``sandbox check``'s leftovers probe: run in the job that made them, it fails."""
    body = st._LEFTOVERS.replace(
        "    if os.path.exists('hel-selftest'):  # called again by the tests\n        return a + b\n", ""
    )
    assert body != st._LEFTOVERS and body.endswith("    return a + b\n")
    body = body[: -len("    return a + b\n")] + st._PROBE
    control = st.Case.of("control", body, {"failed"}, "")
    [result] = st.run_selftest(make_executor(jobs=1), cases=(control,), sequence=())
    assert result.outcome.status.value == "failed", result.outcome


def test_payload_commands_need_no_quoting() -> None:
    """Every language embeds the command in a string literal as it is: nothing in it may need escaping."""
    for payload in (STREAM, STOP, LEFTOVERS, PROBE, OOM_TEXT):
        compile(_ONCE % "x" + payload, "payload", "exec")  # a payload that cannot run proves nothing
        cmd = command("x", payload, "python:1:honest")
        assert re.fullmatch(r"[A-Za-z0-9+/= |:._-]+", cmd), cmd[:80]
    # The stream attack forges verdicts for the two jobs that follow it.
    sweep = build_sweep("python")
    assert [j.id for j in sweep.jobs[2:4]] == ["python:2:honest", "python:3:wrong"]
