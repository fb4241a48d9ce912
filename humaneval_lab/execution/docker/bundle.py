"""What ships the in-container runner: its source, the bootstrap that runs it, the first bytes sent.

The runner is sent over stdin when each container starts, so the image needs no rebuild when the
runner changes. Everything about how it travels lives here, in one place, so a change to the
runner's shape (one file, or a bundle of modules) touches only this module.
"""

from __future__ import annotations

from humaneval_lab.sandbox.runner import boot

# The container's command reads the runner's bundle (length line, then JSON {module: source}) from
# stdin and runs it; the rest of stdin is the job stream (see sandbox/runner/boot.py). Source over
# stdin, not argv: argv is visible in /proc/<pid>/cmdline.
BOOTSTRAP = boot.BOOTSTRAP


def runner_source() -> bytes:
    """The runner as the container loads it: every module of sandbox/runner, as JSON {module: source}."""
    src: bytes = boot.bundle()  # typed there; mypy sees the runner through the package mapping
    return src


def entrypoint(workers: int) -> list[str]:
    """The container's command: the bootstrap, serving ``workers`` samples at once."""
    return ["python3", "-u", "-I", "-c", BOOTSTRAP, str(workers)]


def boot_payload(key: bytes) -> bytes:
    """The first bytes on a container's stdin: the runner (length line, then source), then the
    channel's key (hex line). Jobs follow."""
    src = runner_source()
    return str(len(src)).encode() + b"\n" + src + key.hex().encode() + b"\n"
