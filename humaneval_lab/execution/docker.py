"""The Docker executor: a few long-lived, hardened containers per run, each serving several jobs.

Why this shape (measured on a 2-core machine): ``docker run`` per sample costs ~0.3 s and ``docker
exec`` ~70 ms, but a runner that starts each sample in a fresh process inside one long-lived
container costs a few ms. So each container runs the runner, ``sandbox/runner/`` (sent over stdin at
start as one bundle, so the image needs no rebuild when the runner changes) and the host talks to it over the
container's attached stdio: one JSON job per line in, one JSON outcome per line out.

Containment is the kernel's: no network, read-only root, size-capped tmpfs scratch, memory cap with
swap equal to it, pids cap, CPU cap, every capability dropped but ``RUNNER_CAPS``, no-new-privileges,
the default seccomp profile, an init process, no log driver (output floods cannot fill the host's
disk), no host mounts, never the Docker socket. The runner starts as root with those few capabilities
and runs every job's processes under uids of their own (see sandbox/runner/guard.py): no sample
shares a uid with init (whose stdio is our stream), the runner or anything else trusted. It adds
per-sample limits and cleans up completely after every job.

The stream is untrusted input all the same: every line is sealed with a per-container HMAC key sent
before any job, bounded (``MAX_LINE``), and checked (a ready once, a start or an outcome only for a
job in flight there, a known status, CPUs the host has); anything else is a ``ProtocolError`` that
kills the box, whose jobs are then re-run, never an exception in the run loop. Time is enforced here
too: a job past its limit plus ``OVERRUN_GRACE_S`` kills its box.

Speed: each container is pinned to a CPU of its own (``DockerConfig.pin_cpus``): a Python sample's
test process and candidate hand every call to each other, a context switch on one CPU but an
inter-processor wakeup across two (many times dearer on a VM).

Recovery (what a dead container, an infra error or a protocol violation means, and the
watchdogs) is the scheduler's: ``humaneval_lab.execution.scheduler``; this module is the container
I/O under it. With several samples in one container (``workers_per_container`` > 1) each has a uid
of its own, but they share its memory and pids: a job that died of a signal or the OOM killer beside
others comes back marked ``solo`` and is judged again alone.

Containers carry the labels ``org.humaneval-lab.run`` and ``org.humaneval-lab.owner-pid``; they are
removed in ``close`` (also on errors and Ctrl-C), and a later run removes those whose owner died.
"""

from __future__ import annotations

import collections
import hashlib
import os
import queue
import secrets
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from humaneval_lab.errors import ConfigError, DockerUnavailableError, InfrastructureError
from humaneval_lab.execution.base import Job, Outcome, judge_sha256
from humaneval_lab.execution.scheduler import Box, Deaths, Policy, schedule
from humaneval_lab.sandbox.runner import boot
from humaneval_lab.sandbox.runner.wire import seal, unseal


class ProtocolError(Exception):
    """The runner broke the protocol (a bad mac, an unknown message...): its container is dead."""


RUN_LABEL = "org.humaneval-lab.run"
OWNER_LABEL = "org.humaneval-lab.owner-pid"
HOST_LABEL = "org.humaneval-lab.owner-host"
IMAGE_ENV = "HUMANEVAL_LAB_SANDBOX_IMAGE"
FIX = "run `humaneval-lab sandbox build`"
SHARED_MIN = 4096  # files at least this long that jobs repeat are kept by the runner (see _Box.send)
RUNNER_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "IPC_OWNER", "KILL", "SETGID", "SETUID")
MAX_LINE = 256 << 10  # the runner's longest honest line is ~10 KB (an outcome with its stderr tail)
OVERRUN_GRACE_S = 15.0  # past a job's time limit, what the runner may take to kill it and answer

# The container's command reads the runner's bundle (length line, then JSON) from stdin and runs
# it; the rest of stdin is the job stream (see sandbox/runner/boot.py).
BOOTSTRAP = boot.BOOTSTRAP


@dataclass(frozen=True)
class DockerConfig:
    """Every limit of a sandbox container, explicit. Per-container values scale with its workers."""

    jobs: int = 1
    image: str | None = None  # default: $HUMANEVAL_LAB_SANDBOX_IMAGE, else the recipe-hash tag
    # One sample at a time per container by default: no other sample can signal its processes
    # (they share a user), and it measured a little faster than two workers sharing one zygote.
    workers_per_container: int = 1
    memory_per_worker: int = 1 << 30  # bytes; the container's cap (swap equal) is this x workers
    pids_per_worker: int = 128
    # CPU cap per worker: the sample's core plus headroom for the harness processes working beside it
    # (runner, zygote forking the next spare, tester); at exactly 1.0 the container was throttled.
    # Pinned (below), a container cannot use more CPUs than it is pinned to: one per worker.
    cpus_per_worker: float = 1.5
    # Pin each container to its own CPUs, the least used of those its runner may run on (why: see
    # the module docstring). The host feeds whichever container is free, so a CPU busy with something
    # else only slows the container pinned there. If the engine refuses a cpuset (e.g. not delegated
    # to it), containers run unpinned.
    pin_cpus: bool = True
    work_tmpfs: str = "512m"  # the per-job work dirs live here; exec-able for compiled languages
    tmp_tmpfs: str = "256m"  # /tmp: also exec-able; holds the per-container caches below
    # Imported once by the warm zygote. Each costs every fork (page tables, copy-on-write: numpy
    # ~10% of a HumanEval sample), so only what the problems need: HumanEval-X Python imports numpy.
    preload: tuple[str, ...] = ()
    max_retries: int = 3
    start_timeout_s: float = 60.0
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ConfigError(f"jobs must be at least 1, got {self.jobs}")
        if self.workers_per_container < 1:
            raise ConfigError(f"workers_per_container must be at least 1, got {self.workers_per_container}")


def runner_source() -> bytes:
    """The runner as the container loads it: every module of sandbox/runner, as JSON {module: source}."""
    return boot.bundle()


def default_image() -> str:
    env = os.environ.get(IMAGE_ENV)
    if env:
        return env
    from humaneval_lab.sandbox_image import default_image_tag, sandbox_dir

    return default_image_tag(sandbox_dir())


def docker_client(timeout: int = 60) -> Any:
    """A connected Docker client, or DockerUnavailableError saying how to fix it."""
    try:
        import docker
    except ImportError:
        raise DockerUnavailableError("the 'docker' Python package is missing: pip install docker") from None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, requests' ConnectionError, FileNotFoundError...
        raise DockerUnavailableError(
            f"cannot reach the Docker daemon ({type(exc).__name__}); install Docker and start it "
            "(e.g. `sudo systemctl start docker`), or use --sandbox local for trusted code"
        ) from None
    return client


def require_image(client: Any, image: str) -> None:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        # Name the tag: the default one changes with the recipe's hash, and --image or the environment
        # may ask for another, so a bare `sandbox build` would not always make the image asked for.
        raise DockerUnavailableError(
            f"sandbox image {image} is missing: build it with `humaneval-lab sandbox build --tag {image}`"
        ) from None
    except docker.errors.APIError as exc:
        raise DockerUnavailableError(f"cannot inspect sandbox image {image}: {exc.explanation}") from None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_containers(client: Any) -> int:
    """Remove containers left by runs on this host whose owner process is dead (e.g. SIGKILLed)."""
    removed = 0
    host = socket.gethostname()
    for c in client.containers.list(all=True, filters={"label": RUN_LABEL}):
        labels = c.labels or {}
        try:
            owner = int(labels.get(OWNER_LABEL, "0"))
        except ValueError:
            owner = 0
        if labels.get(HOST_LABEL, host) != host or (owner and _pid_alive(owner)):
            continue
        try:
            c.remove(force=True)
            removed += 1
        except Exception:
            pass
    return removed


class _Box:
    """One sandbox container running the runner, and the host's end of its stdio."""

    def __init__(self, executor: DockerExecutor, workers: int, solo: bool) -> None:
        self.ex, self.workers, self.solo = executor, workers, solo
        self.inflight: dict[str, Job] = {}
        self.dead = False
        self.ready = threading.Event()
        self.was_ready = False
        self.last_progress = time.monotonic()
        self.stderr_tail = b""
        self._send_lock = threading.Lock()
        self._seen: set[str] = set()  # sha256 of big files sent to this container once...
        self._kept: set[str] = set()  # ...and those it keeps (see send)
        self.cpus: list[int] = []  # pinned to (see DockerExecutor._pin)
        self.key = secrets.token_bytes(32)  # the channel's (see sandbox/runner/wire.py)
        self.started: dict[str, float] = {}  # job id -> when the runner said it began
        self.violation = ""  # how the runner broke the protocol, if it did
        self.overrun = ""  # the job that ran past its limit when we killed the box, if one did
        self.stats: dict[str, Any] = {}
        cfg = executor.config
        api = executor.client.api
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            tmpfs={
                # The runner (root) makes each job's dirs here and gives them to the job's uids;
                # 0711: no sample can list the other slots' dirs.
                "/work": f"rw,nosuid,nodev,exec,size={cfg.work_tmpfs},uid=0,gid=0,mode=0711",
                "/tmp": f"rw,nosuid,nodev,exec,size={cfg.tmp_tmpfs},mode=1777",
            },
            shm_size="16m",
            mem_limit=cfg.memory_per_worker * workers,
            memswap_limit=cfg.memory_per_worker * workers,  # equal: no swap
            pids_limit=cfg.pids_per_worker * workers + 16,
            nano_cpus=int(
                min(cfg.cpus_per_worker * workers, executor.host_cpus) * 1e9
            ),  # the engine refuses more
            # The runner starts as root with only what it needs to run each job under uids of its
            # own and to clean up after it (see sandbox/runner/guard.py); no job process keeps
            # any of these: each drops to a uid that is not 0 before it runs.
            cap_drop=["ALL"],
            cap_add=list(RUNNER_CAPS),
            security_opt=["no-new-privileges"],
            init=True,
            log_config={"type": "none"},
            ipc_mode="private",
        )
        env = {"HEL_PRELOAD": ",".join(cfg.preload)}
        self.id: str = api.create_container(
            executor.image,
            # init=True already gives an init (PID 1) that reaps orphans: skip the image's own tini.
            entrypoint=["python3", "-u", "-I", "-c", BOOTSTRAP, str(workers)],
            stdin_open=True,
            tty=False,
            user="0:0",
            working_dir="/",  # not /work: Docker resets the mode of a tmpfs that is the working dir
            environment=env,
            labels=executor.labels,
            host_config=host_config,
        )["Id"]
        try:
            self._sock = api.attach_socket(
                self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self._raw = getattr(self._sock, "_sock", self._sock)
            self._raw.settimeout(None)
            api.start(self.id)
            src = runner_source()
            self._raw.sendall(str(len(src)).encode() + b"\n" + src + self.key.hex().encode() + b"\n")
        except Exception:
            self.kill()
            raise
        self._reader = threading.Thread(target=self._read, name=f"hel-box-{self.id[:12]}", daemon=True)
        self._reader.start()

    # --------------------------------------------------------------------------------------------- io

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._raw.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def _read(self) -> None:
        """Read the runner's stream until it ends or breaks the protocol; then the box is dead.

        Everything from the container is untrusted input: lines are bounded (a newline is looked
        for only in the new chunk) and every message is checked before anything acts on it.
        """
        pending = bytearray()
        try:
            while True:
                kind, _, _, _, size = struct.unpack(">BBBBI", self._read_exact(8))
                data = self._read_exact(size)
                if kind == 2:
                    self.stderr_tail = (self.stderr_tail + data)[-4000:]
                    continue
                start = 0
                cut = data.find(b"\n")
                while cut >= 0:
                    pending += data[start:cut]
                    self._handle(bytes(pending))
                    pending.clear()
                    start = cut + 1
                    cut = data.find(b"\n", start)
                pending += data[start:]
                if len(pending) > MAX_LINE:
                    raise ProtocolError(f"a line of more than {MAX_LINE} bytes")
        except (ProtocolError, ValueError, TypeError, KeyError, AttributeError) as exc:
            self.violation = f"protocol: {exc}"
            self.kill()
        except (EOFError, OSError, struct.error):
            pass
        self.dead = True
        self.ex._unpin(self)  # now, not when the run loop hears of it: a replacement may pin first
        self.ready.set()
        self.ex._events.put(("dead", self, None, None))

    def _handle(self, line: bytes) -> None:
        """Act on one line of the runner's, or raise ProtocolError."""
        try:
            msg = unseal(self.key, line)
        except ValueError:
            raise ProtocolError("a line without the channel's mac") from None
        if not isinstance(msg, dict) or len(msg) == 0:
            raise ProtocolError("a message that is not an object")
        self.last_progress = time.monotonic()
        if "ready" in msg:
            if self.was_ready:
                raise ProtocolError("a second ready")
            cpus = msg.get("cpus", [])
            if not isinstance(cpus, list) or not all(
                type(c) is int and 0 <= c < self.ex.host_cpus for c in cpus
            ):
                raise ProtocolError(f"a ready with cpus outside the host's: {cpus!r:.80}")
            self.ex._pin(self, cpus)
            self.was_ready = True
            self.ready.set()
        elif not self.was_ready:
            raise ProtocolError("a message before ready")
        elif "start" in msg:
            job_id = msg["start"]
            if job_id not in self.inflight or job_id in self.started:
                raise ProtocolError(f"a start of a job not waiting here: {job_id!r:.80}")
            self.started[job_id] = time.monotonic()
        elif "id" in msg:
            job_id = msg["id"]
            if job_id not in self.started:
                raise ProtocolError(f"an outcome for a job not running here: {job_id!r:.80}")
            try:
                outcome = Outcome.from_wire(msg["outcome"])
            except (KeyError, TypeError, ValueError, AttributeError):
                raise ProtocolError("a malformed outcome") from None
            if not (
                isinstance(outcome.reason, str)
                and isinstance(outcome.stderr_tail, str)
                and isinstance(outcome.duration_s, (int, float))
            ):
                raise ProtocolError("a malformed outcome")
            del self.started[job_id]
            solo = msg["outcome"].get("solo") is True
            self.ex._events.put(("done", self, job_id, (outcome, solo)))
        elif "stats" in msg:
            self.stats = msg["stats"]
        else:
            raise ProtocolError(f"an unknown message: {sorted(msg)!r:.80}")

    def send(self, job: Job) -> None:
        self.inflight[job.id] = job
        wire = job.to_wire()
        files = wire["program"]["files"]
        shared: dict[str, str] = {}
        keep: dict[str, str] = {}
        for name, text in files.items():
            # Big files that jobs repeat (the Python driver, a problem's tests, harness libraries)
            # go over in full twice per container (the second time to be kept); later jobs name
            # them by hash. A file seen once (a completion) is never kept.
            if len(text) >= SHARED_MIN:
                key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
                if key in self._kept:
                    shared[name] = key
                    files[name] = ""
                elif key in self._seen:
                    keep[name] = key
                    self._kept.add(key)
                else:
                    self._seen.add(key)
        if shared:
            wire["shared"] = shared
        if keep:
            wire["keep"] = keep
        line = seal(self.key, {"job": wire})
        with self._send_lock:
            try:
                self._raw.sendall(line)
            except OSError:
                self.kill()

    def last_words(self) -> str:
        return self.stderr_tail.decode("utf-8", "replace")

    def kill(self) -> None:
        self.dead = True
        self.ex._unpin(self)
        try:
            self.ex.client.api.remove_container(self.id, force=True)
        except Exception:
            pass
        try:
            self._sock.close()
        except Exception:
            pass


class DockerExecutor:
    """Runs jobs in hardened containers; see the module docstring."""

    name = "docker"

    def __init__(self, jobs: int = 1, image: str | None = None, config: DockerConfig | None = None) -> None:
        self.config = config or DockerConfig(jobs=jobs, image=image)
        self.client = docker_client()
        self.image = self.config.image or image or default_image()
        require_image(self.client, self.image)
        remove_stale_containers(self.client)
        try:
            self.host_cpus = max(1, int(self.client.info().get("NCPU") or os.cpu_count() or 1))
        except Exception:
            self.host_cpus = os.cpu_count() or 1
        self.run_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.labels = {RUN_LABEL: self.run_id, OWNER_LABEL: str(os.getpid()), HOST_LABEL: socket.gethostname(),
                       **self.config.labels}  # fmt: skip
        self._boxes: list[_Box] = []
        self._events: queue.Queue[tuple[str, _Box, str | None, Any]] = queue.Queue()
        self._deaths = Deaths()
        self.policy = Policy(max_retries=self.config.max_retries, overrun_grace_s=OVERRUN_GRACE_S)
        self.container_ids: list[str] = []  # every container this executor started
        self._pinned: collections.Counter[int] = collections.Counter()  # CPU -> live containers on it
        self._pin_lock = threading.Lock()
        self._pinning = self.config.pin_cpus

    def describe(self) -> dict[str, Any]:
        """The image (tag, id, recipe), the judging code's hash and every container limit: what a
        verdict from this executor depends on besides the sample (see Executor.describe)."""
        from humaneval_lab.sandbox_image import RECIPE_LABEL

        image = self.client.images.get(self.image)
        c = self.config
        return {
            "executor": self.name,
            "image": self.image,
            "image_id": image.id,
            "recipe": (image.labels or {}).get(RECIPE_LABEL),
            "judge_sha256": judge_sha256(),
            "limits": {
                "workers_per_container": c.workers_per_container,
                "memory_per_worker": c.memory_per_worker,
                "pids_per_worker": c.pids_per_worker,
                "cpus_per_worker": c.cpus_per_worker,
                "work_tmpfs": c.work_tmpfs,
                "tmp_tmpfs": c.tmp_tmpfs,
                "preload": list(c.preload),
            },
        }

    # ------------------------------------------------------------------------------------------ cpus

    def _pin(self, box: _Box, allowed: list[int]) -> None:
        """Pin ``box`` to the least used of the CPUs its runner may use (``allowed``), one per worker."""
        with self._pin_lock:
            if not self._pinning or not allowed or box.dead:
                return
            chosen = sorted(allowed, key=lambda c: (self._pinned[c], c))[: box.workers]
            try:
                self.client.api.update_container(box.id, cpuset_cpus=",".join(map(str, sorted(chosen))))
            except Exception:
                self._pinning = False  # the engine cannot: run unpinned rather than not at all
                return
            box.cpus = chosen
            self._pinned.update(chosen)

    def _unpin(self, box: _Box) -> None:
        with self._pin_lock:
            self._pinned.subtract(box.cpus)
            box.cpus = []

    # ------------------------------------------------------------------------------------ containers

    def _start_box(self, workers: int, solo: bool = False) -> _Box:
        last: Exception | None = None
        for _ in range(3):
            try:
                box = _Box(self, workers, solo)
            except Exception as exc:  # the daemon hiccupped: try again, then say so
                last = exc
                time.sleep(0.5)
                continue
            self._boxes.append(box)
            self.container_ids.append(box.id)
            return box
        raise InfrastructureError(f"cannot start a sandbox container from {self.image}: {last}")

    def _start_boxes(self, n: int, workers: int) -> list[_Box]:
        out: list[_Box | BaseException] = []
        lock = threading.Lock()

        def one() -> None:
            try:
                b: _Box | BaseException = self._start_box(workers)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                b = exc
            with lock:
                out.append(b)

        threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.config.start_timeout_s)
        boxes = [b for b in out if isinstance(b, _Box)]
        if not boxes:
            err = next((b for b in out if isinstance(b, BaseException)), None)
            raise InfrastructureError(f"no sandbox container started: {err}")
        return boxes

    # ------------------------------------------------------------------------------------------- run

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        cfg = self.config
        finished = False
        try:
            # Containers outlive one run() call (calibration, then scoring) and are removed in close().
            yield from schedule(
                jobs,
                self,
                self.policy,
                cfg.jobs,
                cfg.workers_per_container,
                self._deaths,
                lambda: list(self._boxes),
            )
            finished = True
        finally:
            if not finished:  # an error, Ctrl-C or an abandoned generator: tear everything down now
                self._close_boxes()

    # the scheduler's Pool

    @property
    def events(self) -> queue.Queue[tuple[str, Any, str | None, Any]]:
        return self._events

    def start(self, workers: int, solo: bool) -> _Box:
        return self._start_box(workers, solo)

    def start_many(self, n: int, workers: int) -> list[Box]:
        return list(self._start_boxes(n, workers))

    def all_boxes(self) -> list[Box]:
        return list(self._boxes)

    def cannot_start(self, box: Any) -> InfrastructureError:
        tail = box.last_words().strip().splitlines()[-1:] or ["no output"]
        return InfrastructureError(
            f"sandbox containers from {self.image} exit at start ({tail[0][:300]}); {FIX}"
        )

    @property
    def deaths(self) -> int:
        """Containers that died under us (for tests and reports)."""
        return self._deaths.count

    @property
    def death_log(self) -> list[tuple[list[str], str]]:
        """(jobs in flight, why) per death."""
        return self._deaths.log

    # ----------------------------------------------------------------------------------------- close

    def _close_boxes(self) -> None:
        boxes, self._boxes = self._boxes, []
        threads = [threading.Thread(target=b.kill, daemon=True) for b in boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    def close(self) -> None:
        self._close_boxes()
        try:
            for c in self.client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={self.run_id}"}):
                c.remove(force=True)
        except Exception:
            pass
        try:
            self.client.close()
        except Exception:
            pass
