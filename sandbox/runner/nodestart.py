"""A startup snapshot for the Node processes of JS/TS jobs: half a Node start's CPU.

Debian's Node is built without Node's own startup snapshot (``node_use_node_snapshot`` is false),
so every ``node`` bootstraps its internals from source: ~115 ms of CPU before a line of the job
runs, ~55 ms from a snapshot. The runner builds one (``node --build-snapshot`` of an empty entry:
Node's bootstrapped state and nothing else) once per container, on the first JS/TS job, as root,
into a root-owned dir (mode 0755, the blob 0444) under /work, which no sample can write; candidates
and cold judges then start with ``--snapshot-blob`` it. What the program sees is what a plain start
gives (Math.random is seeded anew, argv, env, cwd and the module loader are the run's), except
``process.execArgv``, which names the flag. A build that fails means plain starts, said once in
the container's log. ``HEL_NODE_SNAPSHOT=0`` turns it off.

Standard library only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

from .context import Context
from .env import base_env

HOME = "/work/.hel-node"
JUDGE_ARGV = ("node", "hel_judge.js", "hel_tests.json")
_lock = threading.Lock()
_built: list[str] = []  # [path] once built, [""] once failed


def enabled() -> bool:
    return os.environ.get("HEL_NODE_SNAPSHOT", "1") != "0"


def snapshot(ctx: Context) -> str:
    """The snapshot's path, built on first use; "" when there is none (not contained, off, failed)."""
    if not ctx.contained or not enabled():
        return ""
    with _lock:
        if not _built:
            _built.append(_build())
        return _built[0]


def _build() -> str:
    blob = os.path.join(HOME, "snapshot.blob")
    try:
        os.makedirs(HOME, mode=0o755, exist_ok=True)
        st = os.lstat(HOME)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise OSError(f"{HOME} is not ours")
        entry = os.path.join(HOME, "entry.js")
        with open(entry, "w", encoding="utf-8") as f:
            f.write("'use strict';\n")
        r = subprocess.run(
            ["node", "--snapshot-blob", blob + ".new", "--build-snapshot", entry],
            cwd=HOME, env=base_env(HOME, {}), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, timeout=60, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            raise OSError(f"node --build-snapshot exited with {r.returncode}: {r.stderr[-200:]!r}")
        os.chmod(blob + ".new", 0o444)
        os.replace(blob + ".new", blob)
    except (OSError, subprocess.SubprocessError) as exc:
        sys.stderr.write(f"runner: node snapshot: {exc}; plain node starts\n")
        sys.stderr.flush()
        return ""
    return blob


def with_snapshot(ctx: Context, argv: list[str] | tuple[str, ...]) -> list[str]:
    """``argv`` started from the snapshot when it is a ``node`` command and there is one."""
    argv = list(argv)
    if argv[:1] != ["node"]:
        return argv
    blob = snapshot(ctx)
    return ["node", "--snapshot-blob", blob, *argv[1:]] if blob else argv


def program(ctx: Context, program: dict[str, Any]) -> dict[str, Any]:
    """A JS/TS judge pair (``JUDGE_ARGV``) with both its processes started from the snapshot."""
    if tuple(program.get("judge") or ()) != JUDGE_ARGV:
        return program
    return {
        **program,
        "run": with_snapshot(ctx, program["run"]),
        "judge": with_snapshot(ctx, program["judge"]),
    }
