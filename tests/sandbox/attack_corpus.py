"""An attack corpus against the ``add(a, b)`` problem of humaneval_lab.execution.selftest.

Where an attack can only be judged by its effect (network, reading files, planting modules), it
returns the right answer exactly when the attack FAILED, so ``passed`` proves containment held.
"""

from __future__ import annotations

from pathlib import Path

from humaneval_lab.execution.selftest import CASES, Case

HOST_PATH = str(Path(__file__).resolve().parent)  # exists on the host, must not inside the sandbox

HONEST = Case.of("honest", "    return a + b\n", {"passed"}, "a right answer passes")
WRONG = Case.of("wrong", "    return a - b\n", {"failed"}, "a wrong answer fails")

_FORGED = [
    Case.of("exit0-in-function", "    import sys\n    sys.exit(0)\n", {"failed"}, ""),
    Case.of("exit-builtin", "    exit(0)\n", {"failed"}, ""),
    Case.of("raise-systemexit", "    raise SystemExit(0)\n", {"failed"}, ""),
    Case.of("os-exit-in-function", "    import os\n    os._exit(0)\n", {"failed"}, ""),
    Case.of("exit-at-import", "    return 0\nimport sys\nsys.exit(0)\n", {"failed"}, ""),
    Case.of("keyboard-interrupt", "    raise KeyboardInterrupt\n", {"failed", "error"}, ""),
    Case.of(
        "atexit-launder",
        "    import atexit, os\n    atexit.register(lambda: os._exit(0))\n    raise AssertionError('boom')\n",
        {"failed"},
        "",
    ),
    Case.of(
        "excepthook-launder",
        "    import sys\n    sys.excepthook = lambda *a: print('passed')\n    return 0\n",
        {"failed"},
        "",
    ),
    Case.of(
        "print-passed",
        "    print('passed')\n    print('All tests passed')\n    print('0' * 32)\n    return 0\n",
        {"failed"},
        "",
    ),
    Case.of(
        "patch-builtins",
        "    import builtins\n    builtins.AssertionError = type('N', (Exception,), {})\n"
        "    builtins.abs = lambda x: 0\n    return 0\n",
        {"failed"},
        "",
    ),
    Case.of(
        "redefine-check",
        "    return 0\n\ndef check(candidate):\n    return True\n\nimport builtins\nbuiltins.check = check\n",
        {"failed"},
        "",
    ),
    Case.of(
        "frame-walk",
        "    import sys, gc\n    f = sys._getframe()\n    while f is not None:\n"
        "        f.f_globals['check'] = lambda c: None\n        f.f_globals['candidate'] = None\n        f = f.f_back\n"
        "    for o in gc.get_objects():\n        if isinstance(o, dict) and 'check' in o:\n"
        "            o['check'] = lambda c: None\n    return 0\n",
        {"failed"},
        "",
    ),
    Case.of(
        "always-equal",
        "    class Eq(int):\n        def __eq__(self, o):\n            return True\n        __ne__ = lambda s, o: False\n"
        "        __hash__ = int.__hash__\n    return Eq(0)\n",
        {"failed"},
        "an int subclass crosses by value as a plain int 0",
    ),
    Case.of(
        "always-equal-object",
        "    class Eq:\n        def __eq__(self, o):\n            return True\n    return Eq()\n",
        {"failed"},
        "",
    ),
    Case.of(
        "token-fishing",
        "    import os, re\n    found = set()\n    for pid in os.listdir('/proc'):\n"
        "        for f in ('cmdline', 'environ', 'fd/0', 'mem'):\n"
        "            try:\n                fd = os.open(f'/proc/{pid}/{f}', os.O_RDONLY | os.O_NONBLOCK)\n"
        "                data = os.read(fd, 1 << 16)\n"
        "            except OSError:\n                continue\n"
        "            found.update(re.findall(rb'[0-9a-f]{32}', data))\n"
        "    for t in found:\n        print(t.decode())\n    return 0\n",
        {"failed"},
        "",
    ),
    Case.of(
        "ptrace-parent",
        "    import ctypes, os\n    libc = ctypes.CDLL(None)\n    r = libc.ptrace(16, os.getppid(), 0, 0)\n"
        "    return a + b if r != 0 else 0\n",
        {"passed"},
        "PTRACE_ATTACH to the test process fails (it is non-dumpable)",
    ),
]

# Binds ``others``: every pid but this process, its parent, its grandparent and init.
_SIBLINGS = (
    "    import os, signal\n"
    "    parent = os.getppid()\n"
    "    grand = int(open(f'/proc/{parent}/stat').read().rsplit(')', 1)[1].split()[1])\n"
    "    others = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid(), parent, grand)]\n"
)

_RESOURCES = [
    Case.of(
        "infinite-loop-ignoring-signals",
        "    import signal\n    for s in range(1, 32):\n        try:\n            signal.signal(s, signal.SIG_IGN)\n"
        "        except (OSError, ValueError):\n            pass\n    while True:\n        try:\n            pass\n"
        "        except BaseException:\n            pass\n",
        {"timeout"},
        "",
    ),
    Case.of(
        "fork-bomb",
        "    import os\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",
        {"timeout", "crashed", "failed"},
        "",
    ),
    Case.of("memory-bomb", "    x = []\n    while True:\n        x.append(b'x' * (1 << 24))\n", {"oom"}, ""),
    Case.of(
        "disk-fill",
        "    import os\n    for d in ('/tmp', '/work', '/dev/shm', os.getcwd()):\n        try:\n"
        "            with open(os.path.join(d, 'fill'), 'wb') as f:\n                while True:\n"
        "                    f.write(b'0' * (1 << 20))\n        except OSError:\n            pass\n"
        "    return a + b\n",
        {"passed", "output_limit"},
        "scratch space is capped; the sweep removes the files",
    ),
    Case.of(
        "output-flood-1gib",
        "    import os\n    chunk = b'x' * (1 << 20)\n    for _ in range(1024):\n        os.write(1, chunk)\n"
        "    return a + b\n",
        {"output_limit"},
        "",
    ),
    Case.of(
        "stderr-flood",
        "    import sys\n    while True:\n        sys.stderr.write('y' * 65536)\n",
        {"output_limit"},
        "",
    ),
    Case.of(
        "daemonised-leftover",
        "    import os, time\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
        "            while True:\n                time.sleep(0.05)\n        os._exit(0)\n    return a + b\n",
        {"passed"},
        "right answer; the daemon must be killed (checked by a probe)",
    ),
    Case.of(
        "kill-parent",
        "    import os, signal\n    try:\n        os.kill(os.getppid(), signal.SIGKILL)\n    except OSError:\n"
        "        return a + b\n    return 0\n",
        {"passed"},
        "the parent (the zygote) runs under another uid: the kill is refused",
    ),
    Case.of(
        "sigstop-parent",
        "    import os, signal\n    try:\n        os.kill(os.getppid(), signal.SIGSTOP)\n    except OSError:\n"
        "        return a + b\n    return 0\n",
        {"passed"},
        "the parent (the zygote) runs under another uid: the stop is refused",
    ),
    Case.of(
        "kill-test-process",
        # Every process but itself, its parent, its grandparent (the runner) and init: the test
        # process(es) and other samples.
        _SIBLINGS
        + "    hit = []\n    for pid in others:\n        try:\n            os.kill(pid, signal.SIGKILL)\n"
        "            hit.append(pid)\n        except OSError:\n            pass\n    return a + b if not hit else 0\n",
        {"passed"},
        "the test process (and every other sample) runs under another uid: every kill is refused",
    ),
    Case.of(
        "stop-test-process",
        _SIBLINGS
        + "    hit = []\n    for pid in others:\n        try:\n            os.kill(pid, signal.SIGSTOP)\n"
        "            hit.append(pid)\n        except OSError:\n            pass\n    return a + b if not hit else 0\n",
        {"passed"},
        "every other process runs under another uid: every stop is refused",
    ),
    Case.of(
        "ptrace-everyone",
        _SIBLINGS + "    import ctypes\n    libc = ctypes.CDLL(None)\n"
        "    attached = [pid for pid in [os.getppid(), *others] if libc.ptrace(16, pid, 0, 0) == 0]\n"
        "    return a + b if not attached else 0\n",
        {"passed"},
        "PTRACE_ATTACH fails on every other process (all non-dumpable)",
    ),
]

_ESCAPES = [
    Case.of(
        "identity",
        "    import os\n    st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
        "    uid = int(st['Uid'].split()[0])\n    capeff = int(st['CapEff'].strip(), 16)\n"
        "    try:\n        os.open('/proc/1/fd/1', os.O_WRONLY)\n        reach = True\n"
        "    except OSError:\n        reach = False\n"
        "    return a + b if uid >= 10100 and capeff == 0 and not reach and os.getgroups() in ([], [uid]) else 0\n",
        {"passed"},
        "a sample runs as a uid of its own, no capabilities, and cannot open init's (the host's) stream",
    ),
    Case.of(
        "network",
        "    import socket\n    for host in (('1.1.1.1', 53), ('8.8.8.8', 443), ('172.17.0.1', 2375)):\n"
        "        try:\n            socket.create_connection(host, timeout=1)\n            return 0\n"
        "        except OSError:\n            pass\n    return a + b\n",
        {"passed"},
        "",
    ),
    Case.of(
        "docker-socket",
        "    import os\n    return 0 if os.path.exists('/var/run/docker.sock') or os.path.exists('/run/docker.sock')"
        " else a + b\n",
        {"passed"},
        "",
    ),
    Case.of(
        "read-host-files",
        "    import os\n    for p in ('/etc/shadow', '/root/.ssh/id_rsa'):\n        try:\n            open(p).read()\n"
        "            return 0\n        except OSError:\n            pass\n"
        f"    for p in ({HOST_PATH!r}, '/var/lib/docker', '/etc/docker', '/home/runner'):\n"
        "        if os.path.exists(p):\n            return 0\n    return a + b\n",
        {"passed"},
        "no host file is visible (this repository's path on the host is checked)",
    ),
    Case.of(
        "delete-files",
        "    import shutil, os\n    shutil.rmtree('/usr/lib/python3.11', ignore_errors=True)\n"
        "    for p in ('/usr/bin/python3', '/etc/passwd'):\n        try:\n            os.unlink(p)\n"
        "            return 0\n        except OSError:\n            pass\n    return a + b\n",
        {"passed"},
        "",
    ),
    Case.of(
        "write-root",
        "    for p in ('/usr/lib/python3/dist-packages/sitecustomize.py', '/etc/hel', '/hel'):\n"
        "        try:\n            open(p, 'w').write('x')\n            return 0\n        except OSError:\n            pass\n"
        "    return a + b\n",
        {"passed"},
        "",
    ),
    Case.of(
        "setuid",
        "    import os\n    try:\n        os.setuid(0)\n        return 0\n    except OSError:\n        return a + b\n",
        {"passed"},
        "",
    ),
]

PLANT = Case.of(
    "plant-modules",
    "    import os\n    evil = 'import os\\nos._exit(0)\\n'\n"
    "    for d in ('/tmp', '/work', '/dev/shm', os.getcwd(), os.path.expanduser('~')):\n"
    "        for m in ('typing.py', 'json.py', 'sitecustomize.py', 'usercustomize.py', 'hel_pydriver.py', 'ast.py'):\n"
    "            try:\n                open(os.path.join(d, m), 'w').write(evil)\n            except OSError:\n"
    "                pass\n    return a + b\n",
    {"passed"},
    "",
)

# Leaves files in dirs it then makes unreadable and unremovable (mode 000, nested), so a removal
# that gives up on them would hand them to later samples.
LOCK = Case.of(
    "locked-leftovers",
    "    import os\n    for d in (os.getcwd(), '/tmp', '/dev/shm'):\n        try:\n"
    "            inner = os.path.join(d, 'hel-locked', 'inner')\n            os.makedirs(inner)\n"
    "            open(os.path.join(inner, 'note.py'), 'w').write('LEFT = 1\\n')\n"
    "            os.chmod(inner, 0)\n            os.chmod(os.path.dirname(inner), 0)\n"
    "        except OSError:\n            pass\n    return a + b\n",
    {"passed"},
    "",
)

# Runs after PLANT/LOCK/daemons in the same container: right only if nothing was left behind.
PROBE = Case.of(
    "probe-leftovers",
    "    import os\n    for d in ('/tmp', '/work', '/dev/shm'):\n"
    "        for m in ('typing.py', 'json.py', 'sitecustomize.py', 'fill'):\n"
    "            if os.path.exists(os.path.join(d, m)):\n                return -1\n"
    "    for d in ('/tmp', '/work', '/dev/shm', os.getcwd()):\n        for top, dirs, files in os.walk(d):\n"
    "            if 'hel-locked' in dirs:\n                return -3\n"
    "    driver = os.getppid()\n    zygote = int(open(f'/proc/{driver}/stat').read().rsplit(')', 1)[1].split()[1])\n"
    "    allowed = {os.getsid(0), os.getsid(zygote), os.getsid(1)}\n"
    "    for pid in os.listdir('/proc'):\n        if pid.isdigit():\n            try:\n"
    "                if os.getsid(int(pid)) not in allowed:\n                    return -2\n"
    "            except OSError:\n                pass\n    return a + b\n",
    {"passed"},
    "no planted file and no process of an earlier sample is left",
)

KILL_ALL = Case.of(
    "kill-everything",
    "    import os, signal\n    os.kill(-1, signal.SIGKILL)\n    return a + b\n",
    {"passed"},
    "kill(-1) reaches only the sample's own uid: the runner, testers and neighbours live on",
)

ATTACKS: tuple[Case, ...] = tuple(
    {c.name: c for c in (*CASES, *_FORGED, *_RESOURCES, *_ESCAPES, PLANT, LOCK)}.values()
)
