"""A job's limits as the runner reads them off the wire, and the rlimits every job process gets.

The host sends ``Limits`` (humaneval_lab.execution.base) as a plain dict; ``parse`` checks it here
again (the runner trusts no shape it did not check). Which limit a finished step hit is decided in
one place, ``verdict.limit_hit``. Standard library only; the zygote imports this too, so it stays
small (every module the zygote holds is in every forked sample's memory).
"""

from __future__ import annotations

import resource
from typing import Any, NamedTuple


class Limits(NamedTuple):
    timeout_s: float  # wall clock for compile + run, enforced by the runner (and the host)
    cpu_s: int  # RLIMIT_CPU per process
    output_bytes: int  # stdout and stderr each
    file_size_bytes: int  # RLIMIT_FSIZE
    open_files: int  # RLIMIT_NOFILE
    address_space_bytes: int = 0  # RLIMIT_AS; 0: unset (the container's cgroup caps memory)
    cpu_time_s: float | None = None  # CPU time of the job's whole process tree (cputime.Watch); None: off


def parse(d: dict[str, Any]) -> Limits:
    """The limits in a job's ``limits`` dict; ValueError for a missing, mistyped or negative one."""
    try:
        lim = Limits(
            timeout_s=float(d["timeout_s"]),
            cpu_s=_count(d, "cpu_s"),
            output_bytes=_count(d, "output_bytes"),
            file_size_bytes=_count(d, "file_size_bytes"),
            open_files=_count(d, "open_files"),
            address_space_bytes=_count(d, "address_space_bytes", 0),
            cpu_time_s=_seconds(d.get("cpu_time_s")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"bad limits: {exc!r}") from None
    if not lim.timeout_s > 0:  # also NaN
        raise ValueError(f"bad limits: timeout_s must be positive, got {lim.timeout_s}")
    return lim


def _seconds(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v) > 0:  # also NaN
        raise ValueError(f"bad limits: cpu_time_s must be positive or null, got {v!r}")
    return float(v)


def _count(d: dict[str, Any], name: str, default: int | None = None) -> int:
    v = d.get(name, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"bad limits: {name} must be a non-negative integer, got {v!r}")
    return v


def apply(lim: dict[str, Any]) -> None:
    """Set the rlimits of the calling process (a job's, just forked, before it runs anything).

    The CPU hard limit is one second above the soft one: SIGXCPU first (a ``timeout``), SIGKILL after.
    """
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_size_bytes"], lim["file_size_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"]))
    if lim.get("address_space_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (lim["address_space_bytes"], lim["address_space_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
