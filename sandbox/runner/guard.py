"""Identities, work dirs and the cleanup after every job: strays, files, trees, SysV IPC.

Who runs what in the sandbox (a contained runner started as root; a local runner changes no uid):

- the runner and its zygote: root, with only the capabilities the host grants the container
  (CHOWN DAC_OVERRIDE FOWNER IPC_OWNER KILL SETGID SETUID; no-new-privileges);
- the warm Python tester: TESTER_UID, no capabilities;
- the warm Java and TypeScript compilers (``javac``, ``tsc``; see compile_server): COMPILER_UID, no capabilities;
- the warm JS/TS judge (``nodejudge``): JUDGE_SERVER_UID (10003), no capabilities;
- worker slot n: the job's own processes run as SAMPLE_UID + n, a two-process language's trusted
  judge as JUDGE_UID + n (both killed and cleaned after every job).

So no process a sample starts shares a uid with init (whose stdio is the host's stream), the
runner, the zygote, a tester or a judge: it can neither signal, ptrace nor open their /proc files.
Standard library only.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable

from . import proc
from .children import Zygote

TESTER_UID = 10001
SAMPLE_UID = 10100
JUDGE_UID = 10200


def uids(slot: int) -> tuple[int, int]:
    """(sample uid, judge uid) of a worker slot."""
    return SAMPLE_UID + slot, JUDGE_UID + slot


def remove_tree(path: str) -> bool:
    """Remove a file or a whole tree a sample made; whether it is gone.

    Iterative (a tree thousands of levels deep is no RecursionError), one directory fd open at a
    time (climbing back through ".."), never through a symlink. Dirs a sample took every permission
    off are opened anyway (DAC_OVERRIDE in the sandbox) or given back their owner's rights first.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    parent, name = os.path.split(path.rstrip("/"))
    if not stat.S_ISDIR(st.st_mode):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return True
    try:
        top = os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        return _remove_dir_at(top, name)
    finally:
        os.close(top)


def _open_dir_at(dir_fd: int, name: str) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=dir_fd)  # a real dir (O_NOFOLLOW said so), no sample runs
        return os.open(name, flags, dir_fd=dir_fd)


def _remove_dir_at(top: int, name: str) -> bool:
    try:
        cur = _open_dir_at(top, name)
    except OSError:
        return False
    names: list[str] = []  # the path from ``name`` down to ``cur``
    try:
        while True:
            sub = None
            with os.scandir(cur) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        sub = entry.name
                        break
                    try:
                        os.unlink(entry.name, dir_fd=cur)
                    except FileNotFoundError:
                        pass
            if sub is not None:
                nxt = _open_dir_at(cur, sub)
                os.close(cur)
                cur = nxt
                names.append(sub)
                continue
            if not names:
                break
            up = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=cur)
            os.close(cur)
            cur = up
            os.rmdir(names.pop(), dir_fd=cur)
        os.rmdir(name, dir_fd=top)
        return True
    except OSError:
        return False
    finally:
        os.close(cur)


def new_dir(path: str, owner: int | None) -> str:
    """An empty dir at ``path`` (a fresh random one if a removal failed), owned by ``owner``."""
    for _ in range(2):
        try:
            os.mkdir(path, 0o700)
            break
        except FileExistsError:
            remove_tree(path)
    else:
        path = tempfile.mkdtemp(prefix="hel-", dir=os.path.dirname(path))
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def write_files(workdir: str, files: dict[str, str], owner: int | None) -> None:
    """Write a job's files into its (new, empty) dir; ``owner``: chown them to that uid."""
    for rel, content in files.items():
        path = os.path.normpath(os.path.join(workdir, rel))
        if not path.startswith(workdir + os.sep):
            raise ValueError(f"file path escapes the work dir: {rel!r}")
        parent = os.path.dirname(path)
        if parent != workdir and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
            if owner is not None:
                d = parent
                while d != workdir:
                    os.chown(d, owner, owner)
                    d = os.path.dirname(d)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with open(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(content)
        if owner is not None:
            os.chown(path, owner, owner)


class Guard:
    """What a contained runner knows about its jobs, and the cleanup after each.

    ``lock`` is held while a job's dirs are created and while a sweep runs, so a sweep never sees
    a dir not registered yet. ``ids``: this runner switches uids (so it may kill and sweep by uid).
    ``helpers``: how many trusted processes of ours live beside the jobs (zygote, testers), for
    the exact count of the pids cgroup.
    """

    def __init__(
        self,
        root: str,
        scratch: tuple[str, ...],
        shared: bool,
        ids: bool,
        zygote: Zygote | None,
        helpers: Callable[[], int],
    ) -> None:
        self.lock = threading.Lock()
        self.root = root
        self.scratch = scratch
        self.shared = shared  # other slots' jobs may run beside ours
        self.ids = ids
        self.zygote = zygote
        self._helpers = helpers
        self.strays_killed = 0
        self.files_swept = 0
        self.ipc_removed = 0
        self.dirty = ""  # why the last cleanup failed: the runner then ends after its answer

    def _expected_tasks(self) -> int:
        """Tasks that are ours when no job runs: init, our threads, the zygote, the testers."""
        return 1 + threading.active_count() + self._helpers()

    def _quiet(self) -> bool:
        """Whether no process but ours exists (never sure while another slot's job runs)."""
        if self.shared:
            return False
        n = proc.pids_current()
        return n is not None and n == self._expected_tasks()

    def kill_slot(self, slot: int) -> bool:
        """Kill every process of the slot's uids; whether none is left."""
        if not self.ids or self.zygote is None or self._quiet():
            return True
        slot_uids = uids(slot)
        for _ in range(3):
            for uid in slot_uids:
                try:
                    self.zygote.reap(uid)
                except OSError:
                    return False
            self.strays_killed += 1
            until = time.monotonic() + 2.0
            while time.monotonic() < until:  # SIGKILLed processes still need their parents to reap them
                if self._quiet() or (
                    (self.shared or proc.pids_current() is None) and not proc.alive_of(slot_uids)
                ):
                    return True
                time.sleep(0.002)
        return False

    def clean(self, slot: int, dirs: tuple[str, ...]) -> None:
        """After a job: its processes, dirs, files, IPC objects and queues are gone, or ``dirty`` says why."""
        if not self.kill_slot(slot):
            self.dirty = "processes of a sample could not be killed"
        with self.lock:
            for d in dirs:
                if not remove_tree(d):
                    self.dirty = self.dirty or f"cannot remove {d}"
            mine = set(uids(slot)) if self.ids else None
            for d in self.scratch:
                try:
                    entries = list(os.scandir(d))
                except OSError:
                    continue
                for e in entries:
                    try:
                        owner = e.stat(follow_symlinks=False).st_uid
                    except OSError:
                        continue
                    if mine is not None and owner not in mine:
                        continue  # another slot's, or ours (trusted)
                    self.files_swept += 1
                    if not remove_tree(e.path):
                        self.dirty = self.dirty or f"cannot remove {e.path}"
            objects = proc.ipc_objects(mine if self.shared else None)
            if objects:
                if self.ids and self.zygote is not None:
                    # IPC_RMID needs the object's creator or owner (CAP_SYS_ADMIN, which we lack):
                    # a zygote child removes them as each of the slot's uids (see zygote._reap).
                    # Only the slot's own: a sample may hand an object to another uid, never its creation.
                    for uid in uids(slot):
                        try:
                            self.zygote.reap(uid)
                        except OSError:
                            pass
                proc.remove_ipc(objects)  # a local runner's own; in the sandbox, what is left
                self.ipc_removed += len(objects)
                if proc.ipc_objects(mine if self.shared else None):
                    self.dirty = self.dirty or "cannot remove a sample's IPC objects"
