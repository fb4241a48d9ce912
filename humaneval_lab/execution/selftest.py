"""``humaneval-lab sandbox check``: known-good, known-bad and hostile samples with known verdicts.

Each case is a completion of one tiny problem (``add(a, b)``) and the verdicts it may get. Several
attacks are written to return the *right* answer only when the attack failed (no network, read-only
root, no planted module): for them ``passed`` is the proof that containment held.

One attack per class of issue 11 is here (the full corpus, in every language, is in the tests):
the host's stream (``stream-forgery``), signalling the runner and answering late (``stop-everyone``,
``stop-and-overrun``), leftovers incl. SysV IPC and POSIX queues (``SEQUENCE``: a sample that leaves
them, then a probe in the same container), a verdict class from stderr text (``oom-text``), a forged
token (``forge-token``), and values crossing from the candidate (``int-subclass-*``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from humaneval_lab.execution.base import Executor, Job, Limits, Outcome
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem

PROBLEM = Problem(
    task_id="selftest/add",
    language="python",
    prompt='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    tests=(
        "def check(candidate):\n"
        "    assert candidate(1, 2) == 3\n"
        "    assert candidate(-5, 5) == 0\n"
        "    assert candidate(10**20, 1) == 10**20 + 1\n"
    ),
    entry_point="add",
    canonical_solution="    return a + b\n",
    source_format="human-eval",
)


@dataclass(frozen=True)
class Case:
    name: str
    completion: str
    expect: frozenset[str]
    what: str  # what a right verdict proves

    @classmethod
    def of(cls, name: str, completion: str, expect: Iterable[str], what: str) -> Case:
        return cls(name, completion, frozenset(expect), what)


CASES: tuple[Case, ...] = (
    Case.of("honest", "    return a + b\n", {"passed"}, "a right answer passes"),
    Case.of("wrong", "    return a - b\n", {"failed"}, "a wrong answer fails"),
    Case.of("syntax", "    return a +\n", {"error"}, "a syntax error is an error"),
    Case.of(
        "exit0", "    import sys\n    sys.exit(0)\n", {"failed"}, "sys.exit(0) before the tests is no pass"
    ),
    Case.of(
        "os-exit0",
        "    return a + b\nimport os\nos._exit(0)\n",
        {"failed"},
        "os._exit(0) at import is no pass",
    ),
    Case.of(
        "always-equal",
        "    class Eq:\n        def __eq__(self, other):\n            return True\n    return Eq()\n",
        {"failed"},
        "an object whose __eq__ is always true is no pass",
    ),
    Case.of(
        "patch-assert",
        "    import builtins\n    builtins.AssertionError = type('N', (Exception,), {})\n    return 0\n",
        {"failed"},
        "patching AssertionError does not reach the tests",
    ),
    Case.of(
        "frame-walk",
        "    import sys\n    f = sys._getframe()\n    while f is not None:\n"
        "        f.f_globals['check'] = lambda c: None\n        f = f.f_back\n    return 0\n",
        {"failed"},
        "walking stack frames finds no harness state",
    ),
    Case.of(
        "loop-ignoring-signals",
        "    import signal\n    for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):\n"
        "        signal.signal(s, signal.SIG_IGN)\n    while True:\n        try:\n            pass\n"
        "        except BaseException:\n            pass\n",
        {"timeout"},
        "an infinite loop that ignores signals is killed from outside",
    ),
    Case.of(
        "output-flood",
        "    import sys\n    chunk = 'x' * (1 << 20)\n    for _ in range(1024):\n        sys.stdout.write(chunk)\n"
        "    return a + b\n",
        {"output_limit"},
        "1 GiB of output is cut off",
    ),
    Case.of(
        "network",
        "    import socket\n    try:\n        socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "    except OSError:\n        return a + b\n    return 0\n",
        {"passed"},
        "there is no network",
    ),
    Case.of(
        "write-root",
        "    try:\n        open('/usr/lib/python3/dist-packages/sitecustomize.py', 'w').write('x')\n"
        "    except OSError:\n        return a + b\n    return 0\n",
        {"passed"},
        "the root file system is read-only",
    ),
    Case.of(
        "stream-forgery",
        '    import os\n    forged = b\'{"id": "stream-forgery", "outcome": {"status": "passed"}}\\n\'\n'
        "    forged += b'{\"ready\": true, \"cpus\": [0]}\\n' + b'x' * (1 << 20)\n"
        "    reached = 0\n    for pid in os.listdir('/proc'):\n"
        "        if not pid.isdigit() or int(pid) == os.getpid():\n            continue\n"
        "        for fd in range(8):\n            try:\n"
        "                w = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "            except OSError:\n                continue\n            reached += 1\n"
        "            try:\n                os.write(w, forged)\n            except OSError:\n                pass\n"
        "    try:\n        os.read(os.open('/proc/1/fd/0', os.O_RDONLY | os.O_NONBLOCK), 4096)\n        reached += 1\n"
        "    except OSError:\n        pass\n    if reached:\n        raise RuntimeError(f'reached {reached} streams')\n"
        "    return a - b\n",
        {"failed"},
        "no sample can open another process's stdio (init's is the host's stream): a forged verdict never counts",
    ),
    Case.of(
        "stop-everyone",
        "    import os, signal\n    hit = []\n    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit() and int(pid) != os.getpid():\n            try:\n"
        "                os.kill(int(pid), signal.SIGSTOP)\n                hit.append(int(pid))\n"
        "            except OSError:\n                pass\n    for pid in hit:\n        os.kill(pid, signal.SIGCONT)\n"
        "    return a + b if not hit else 0\n",
        {"passed"},
        "the runner, the test process and init run under other uids: every SIGSTOP is refused",
    ),
    Case.of(
        "stop-and-overrun",
        "    import os, signal, time\n    try:\n        os.kill(-1, signal.SIGSTOP)\n    except OSError:\n        pass\n"
        "    until = time.monotonic() + 8\n    while time.monotonic() < until:\n        pass\n"
        "    try:\n        os.kill(-1, signal.SIGCONT)\n    except OSError:\n        pass\n    return a + b\n",
        {"timeout"},
        "an answer after the deadline is a timeout, whatever the sample stopped meanwhile",
    ),
    Case.of(
        "oom-text",
        "    import sys\n    sys.stderr.write('MemoryError\\nKilled\\nstd::bad_alloc\\n'\n"
        "                     'java.lang.OutOfMemoryError: Java heap space\\nout of memory\\n')\n    return a - b\n",
        {"failed"},
        "a wrong answer that prints out-of-memory messages is failed: oom comes from the cgroup only",
    ),
    Case.of(
        "forge-token",
        "    import os, re\n    found = set()\n    for pid in os.listdir('/proc'):\n"
        "        for f in ('cmdline', 'environ', 'fd/0', 'mem'):\n            try:\n"
        "                data = os.read(os.open(f'/proc/{pid}/{f}', os.O_RDONLY | os.O_NONBLOCK), 1 << 16)\n"
        "            except OSError:\n                continue\n            found.update(re.findall(rb'[0-9a-f]{32}', data))\n"
        "    for t in found:\n        print(t.decode())\n    print('passed')\n    return a - b\n",
        {"failed"},
        "no token or verdict a sample can find or print makes a wrong answer pass",
    ),
    Case.of(
        "int-subclass-by-value",
        "    class Sum(int):\n        pass\n    return Sum(a + b)\n",
        {"passed"},
        "a right answer of an int subclass crosses by value and passes, as == would judge it",
    ),
    Case.of(
        "int-subclass-always-equal",
        "    class Eq(int):\n        def __eq__(self, o):\n            return True\n"
        "        __hash__ = int.__hash__\n    return Eq(0)\n",
        {"failed"},
        "only the value crosses: an overridden __eq__ never runs in the test process",
    ),
)

# Leftovers: run in this order in one container (see ``run_selftest``), the probe passes exactly
# when nothing of the first sample is visible to the next one.
_LEFTOVERS = (
    "    import ctypes, os\n    if os.path.exists('hel-selftest'):  # called again by the tests\n"
    "        return a + b\n    libc = ctypes.CDLL(None)\n"
    "    for key in range(0x48454C10, 0x48454C14):\n        libc.shmget(key, 1 << 20, 0o1666)\n"
    "    libc.semget(0x48454C20, 2, 0o1666)\n    libc.msgget(0x48454C30, 0o1666)\n"
    "    ctypes.CDLL('librt.so.1').mq_open(b'/hel-selftest', os.O_CREAT | os.O_RDWR, 0o666, None)\n"
    "    for d in ('/tmp', '/dev/shm', os.getcwd()):\n        open(os.path.join(d, 'hel-selftest'), 'w').write('x')\n"
    "    fd = os.open('/tmp', os.O_RDONLY)\n    for i in range(1800):\n"
    "        name = 'hel-selftest-deep' if i == 0 else 'd'\n        os.mkdir(name, dir_fd=fd)\n"
    "        sub = os.open(name, os.O_RDONLY, dir_fd=fd)\n        os.close(fd)\n        fd = sub\n"
    "    if os.fork() == 0:\n        os.setsid()\n        while True:\n            try:\n"
    "                if os.fork():\n                    os._exit(0)\n            except OSError:\n                pass\n"
    "    return a + b\n"
)
_PROBE = (
    "    import ctypes, os\n    me, sid = os.getuid(), os.getsid(0)\n"
    "    for pid in os.listdir('/proc'):\n        if pid.isdigit():\n            try:\n"
    "                if os.stat('/proc/' + pid).st_uid >= 10100 and os.getsid(int(pid)) != sid:\n"
    "                    return -1\n            except OSError:\n                pass\n"
    "    for kind in ('shm', 'sem', 'msg'):\n"
    "        if open('/proc/sysvipc/' + kind).read().count('\\n') > 1:\n            return -2\n"
    "    if ctypes.CDLL('librt.so.1').mq_open(b'/hel-selftest', os.O_RDONLY) >= 0:\n        return -3\n"
    "    for d in ('/tmp', '/dev/shm', os.getcwd()):\n"
    "        if any(n.startswith('hel-selftest') for n in os.listdir(d)):\n            return -4\n"
    "    return a + b\n"
)
SEQUENCE: tuple[Case, ...] = (
    Case.of(
        "leftovers", _LEFTOVERS, {"passed"}, "a sample leaves a re-forking daemon, files, a deep tree, IPC"
    ),
    Case.of(
        "probe-leftovers",
        _PROBE,
        {"passed"},
        "the next sample in that container sees no process, file, SysV IPC object or queue of it",
    ),
)


@dataclass(frozen=True)
class CheckResult:
    case: Case
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome.status.value in self.case.expect


def run_selftest(
    executor: Executor,
    cases: Iterable[Case] = CASES,
    timeout_s: float = 5.0,
    sequence: Iterable[Case] = SEQUENCE,
) -> list[CheckResult]:
    """Judge ``cases`` (at once), then ``sequence`` (its own run, after them).

    The sequence is two jobs: a run feeds its jobs to its first box in order, two in flight per
    worker, so both go to one container, whose (single, by default) worker runs them one after
    the other: the second sees what the first left, if anything.
    """
    spec = get_language("python")

    def judge(batch: Iterable[Case]) -> list[CheckResult]:
        by_id = {c.name: c for c in batch}
        jobs = [
            Job(c.name, spec.build(PROBLEM, source_of(PROBLEM, c.completion)), Limits(timeout_s=timeout_s))
            for c in by_id.values()
        ]
        results = {job_id: CheckResult(by_id[job_id], o) for job_id, o in executor.run(jobs)}
        return [results[name] for name in by_id]

    return judge(cases) + (judge(sequence) if sequence else [])
