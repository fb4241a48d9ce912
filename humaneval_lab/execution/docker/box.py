"""One sandbox container running the runner, and the host's end of its stdio.

The host talks to the runner over the container's attached stdio: one sealed JSON job per line in,
one sealed JSON outcome per line out (see ``bundle`` for how the runner gets there).

Containment is the kernel's: no network, read-only root, size-capped tmpfs scratch, memory cap with
swap equal to it, pids cap, CPU cap, every capability dropped but ``RUNNER_CAPS``, no-new-privileges,
the default seccomp profile, an init process, no log driver (output floods cannot fill the host's
disk), no host mounts, never the Docker socket. The runner starts as root with those few capabilities
and runs every job's processes under uids of their own (see sandbox/runner/guard.py): no sample
shares a uid with init (whose stdio is our stream), the runner or anything else trusted.

The stream is untrusted input all the same: every line is sealed with a per-container HMAC key sent
before any job, bounded (``MAX_LINE``), and checked (a ready once, a start or an outcome only for a
job in flight there, a known status, CPUs the host has); anything else is a ``ProtocolError`` that
kills the box, whose jobs are then re-run, never an exception in the run loop.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
import threading
import time
from typing import TYPE_CHECKING, Any

from humaneval_lab.execution.base import Job, Outcome
from humaneval_lab.execution.docker import bundle
from humaneval_lab.execution.docker.client import docker_errors, map_docker_errors
from humaneval_lab.sandbox.runner.wire import seal, unseal

if TYPE_CHECKING:
    from humaneval_lab.execution.docker import DockerExecutor


class ProtocolError(Exception):
    """The runner broke the protocol (a bad mac, an unknown message...): its container is dead."""


SHARED_MIN = 4096  # files at least this long that jobs repeat are kept by the runner (see _Box.send)
RUNNER_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "IPC_OWNER", "KILL", "SETGID", "SETUID")
MAX_LINE = 256 << 10  # the runner's longest honest line is ~10 KB (an outcome with its stderr tail)


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
        # Docker's failures here are the infrastructure's (InfrastructureError: the executor tries
        # again), but a missing image is the user's (DockerUnavailableError).
        with map_docker_errors("start a sandbox container"):
            self.id: str = executor.client.api.create_container(
                executor.image,
                # init=True already gives an init (PID 1) that reaps orphans: skip the image's own tini.
                entrypoint=bundle.entrypoint(workers),
                stdin_open=True,
                tty=False,
                user="0:0",
                working_dir="/",  # not /work: Docker resets the mode of a tmpfs that is the working dir
                environment={
                    "HEL_PRELOAD": ",".join(executor.config.preload),
                    "HEL_JAVAC_SERVER": "1" if executor.config.java_compile_server else "0",
                    "HEL_TSC_SERVER": "1" if executor.config.typescript_compile_server else "0",
                    "HEL_NODE_JUDGE": "1" if executor.config.javascript_judge_server else "0",
                    "HEL_NODE_SNAPSHOT": "1" if executor.config.node_snapshot else "0",
                },
                labels=executor.labels,
                host_config=self._host_config(),
            )["Id"]
            try:
                api = executor.client.api
                self._sock = api.attach_socket(
                    self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
                )
                self._raw = getattr(self._sock, "_sock", self._sock)
                self._raw.settimeout(None)
                api.start(self.id)
                self._raw.sendall(bundle.boot_payload(self.key))
            except BaseException:  # anything, Ctrl-C included: never leave the container behind
                self.kill()
                raise
        self._reader = threading.Thread(target=self._read, name=f"hel-box-{self.id[:12]}", daemon=True)
        self._reader.start()

    def _host_config(self) -> Any:
        cfg, ex = self.ex.config, self.ex
        return ex.client.api.create_host_config(
            network_mode="none",
            read_only=True,
            tmpfs={
                # The runner (root) makes each job's dirs here and gives them to the job's uids;
                # 0711: no sample can list the other slots' dirs.
                "/work": f"rw,nosuid,nodev,exec,size={cfg.work_tmpfs},uid=0,gid=0,mode=0711",
                "/tmp": f"rw,nosuid,nodev,exec,size={cfg.tmp_tmpfs},mode=1777",
            },
            shm_size="16m",
            mem_limit=cfg.memory_per_worker * self.workers,
            memswap_limit=cfg.memory_per_worker * self.workers,  # equal: no swap
            # +16 for the runner's own; +24 per worker for its warm compilers' threads (Java 13,
            # TypeScript 4), so they take nothing from a sample's budget.
            pids_limit=(cfg.pids_per_worker + 24) * self.workers + 16,
            # The engine refuses more CPUs than the host has.
            nano_cpus=int(min(cfg.cpus_per_worker * self.workers, ex.host_cpus) * 1e9),
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
            pass  # the stream ended: the container exited or was removed
        except Exception as exc:  # noqa: BLE001 - a bug on our side of the stream (e.g. pinning)
            # This thread is the box's only listener: if it died silently, the box would hang with
            # its jobs until the watchdog. Declare it dead instead (not the sample's doing).
            self.violation = f"host: {type(exc).__name__}: {exc}"
            self.kill()
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
        """Remove the container and close the stream; idempotent, never raises (it runs in teardown,
        where an error would hide the one that matters)."""
        self.dead = True
        self.ex._unpin(self)
        try:
            self.ex.client.api.remove_container(self.id, force=True)
        except docker_errors():
            # Gone already, being removed (409), or the daemon is down: close() sweeps this run's
            # label again, and a later run removes what is left once this process is dead.
            pass
        sock = getattr(self, "_sock", None)
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass  # closing a socket whose peer is gone: nothing left to release
