"""What ships the in-container runner: its source, the bootstrap that runs it, the first bytes sent.

The runner is sent over stdin when each container starts, so the image needs no rebuild when the
runner changes. Everything about how it travels lives here, in one place, so a change to the
runner's shape (one file, or a bundle of modules) touches only this module.
"""

from __future__ import annotations

from importlib import resources

# Reads the runner's source (length line, then bytes) from stdin and runs it; the rest of stdin is
# the job stream. Source over stdin, not argv: argv is visible in /proc/<pid>/cmdline.
BOOTSTRAP = (
    "import sys\n"
    "n = int(sys.stdin.buffer.readline())\n"
    "src = sys.stdin.buffer.read(n)\n"
    "g = {'__name__': 'hel_runner'}\n"
    "exec(compile(src, 'hel_runner.py', 'exec'), g)\n"
    "g['serve'](int(sys.argv[1]), '/work', True)\n"
)


def runner_source() -> bytes:
    """The in-container runner's source, as shipped."""
    return resources.files("humaneval_lab.sandbox.runner").joinpath("hel_runner.py").read_bytes()


def entrypoint(workers: int) -> list[str]:
    """The container's command: the bootstrap, serving ``workers`` samples at once."""
    return ["python3", "-u", "-I", "-c", BOOTSTRAP, str(workers)]


def boot_payload(key: bytes) -> bytes:
    """The first bytes on a container's stdin: the runner (length line, then source), then the
    channel's key (hex line). Jobs follow."""
    src = runner_source()
    return str(len(src)).encode() + b"\n" + src + key.hex().encode() + b"\n"
