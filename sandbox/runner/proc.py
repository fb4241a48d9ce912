"""What the kernel says about processes, cgroups and SysV IPC (/proc, /sys/fs/cgroup), and kills.

Every reader returns None (or nothing) when the file cannot be read: the callers decide what an
unknown means. Standard library only; the zygote imports this (for ``ipc_objects``).
"""

from __future__ import annotations

import os
import signal

SIGCHLD_BIT = 1 << (signal.SIGCHLD - 1)
IPC_KINDS = (("shm", "shmid"), ("sem", "semid"), ("msg", "msqid"))


def set_non_dumpable() -> bool:
    """PR_SET_DUMPABLE=0: same-uid processes can no longer ptrace us or read /proc/<pid>/mem, fd,
    environ. Whether it took."""
    try:
        import ctypes

        return int(ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (each step runs in a session of its own)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def parse_status(data: bytes) -> tuple[bytes, int, int | None]:
    """(state letter, pending signal mask, real uid) from the text of /proc/<pid>/status.

    Only the few fields needed (checked after every job, so no full parse). ValueError when one of
    State, SigPnd, ShdPnd is missing; the uid is None when Uid is.
    """

    def field(name: bytes) -> bytes:
        i = data.find(b"\n" + name + b":")
        if i < 0 and data.startswith(name + b":"):
            i = -1
        elif i < 0:
            raise ValueError(f"no {name!r} in status")
        i += len(name) + 2
        j = data.find(b"\n", i)
        return data[i : j if j >= 0 else len(data)].strip()

    state = field(b"State")[:1]
    pending = int(field(b"SigPnd"), 16) | int(field(b"ShdPnd"), 16)
    try:
        uid: int | None = int(field(b"Uid").split()[0])
    except (ValueError, IndexError):
        uid = None
    return state, pending, uid


def read_status(pid: int | str) -> bytes | None:
    try:
        with open(f"/proc/{pid}/status", "rb", buffering=0) as f:
            return f.read()
    except OSError:
        return None


def proc_state(pid: int) -> tuple[bytes, int] | None:
    """(state letter, pending signal mask) of ``pid``; None if it cannot be read."""
    data = read_status(pid)
    if data is None:
        return None
    try:
        state, pending, _ = parse_status(data)
    except ValueError:
        return None
    return state, pending


def running(pid: int) -> bool:
    """Alive, not stopped, not a zombie, and no signal but SIGCHLD on its way."""
    st = proc_state(pid)
    return st is not None and st[0] not in (b"T", b"t", b"Z", b"X") and not st[1] & ~SIGCHLD_BIT


def alive_of(uids: tuple[int, ...]) -> bool:
    """Whether a live (not zombie) process of one of ``uids`` exists (a /proc scan)."""
    wanted = set(uids)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        data = read_status(name)
        if data is None:
            continue
        try:
            state, _, uid = parse_status(data)
        except ValueError:
            continue
        if uid in wanted and state != b"Z":
            return True
    return False


def pids_current() -> int | None:
    """Tasks in this container's pids cgroup (v2 or v1), if readable: an exact kernel count."""
    for path in ("/sys/fs/cgroup/pids.current", "/sys/fs/cgroup/pids/pids.current"):
        try:
            with open(path, "rb", buffering=0) as f:
                return int(f.read())
        except (OSError, ValueError):
            continue
    return None


def parse_oom_kills(text: str) -> int | None:
    """The ``oom_kill`` count in memory.events (v2) or memory.oom_control (v1) text."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def oom_kills() -> int | None:
    """The cgroup's count of OOM kills, if readable."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as f:
                n = parse_oom_kills(f.read())
        except OSError:
            continue
        if n is not None:
            return n
    return None


def parse_sysvipc(text: str, id_col: str, uids: set[int] | None) -> list[int]:
    """Ids of the objects in a /proc/sysvipc/<kind> table owned or created by ``uids`` (None: all)."""
    lines = text.splitlines()
    if len(lines) < 2:
        return []
    head = lines[0].split()
    ix, iu, ic = head.index(id_col), head.index("uid"), head.index("cuid")
    found = []
    for line in lines[1:]:
        cols = line.split()
        if uids is None or int(cols[iu]) in uids or int(cols[ic]) in uids:
            found.append(int(cols[ix]))
    return found


def ipc_objects(uids: set[int] | None) -> list[tuple[str, int]]:
    """SysV IPC objects (kind, id) of ``uids`` (None: all) in this container's IPC namespace."""
    found = []
    for kind, id_col in IPC_KINDS:
        try:
            with open(f"/proc/sysvipc/{kind}", "rb", buffering=0) as f:
                text = f.read().decode()
        except OSError:
            continue
        found += [(kind, i) for i in parse_sysvipc(text, id_col, uids)]
    return found


def remove_ipc(objects: list[tuple[str, int]]) -> None:
    """IPC_RMID each object (needs its owner's or creator's uid, or IPC_OWNER for root)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident in objects:  # IPC_RMID is 0 for all three
        if kind == "shm":
            libc.shmctl(ident, 0, None)
        elif kind == "sem":
            libc.semctl(ident, 0, 0)
        else:
            libc.msgctl(ident, 0, None)
