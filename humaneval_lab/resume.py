"""Resuming a killed run, one contract for ``sample`` and ``score``.

- Outputs are JSONL, one whole line per record (``JsonlWriter``), flushed per line or in timed
  blocks; a kill leaves whole lines and at most one torn last line, which ``read_jsonl_prefix`` does
  not count and the writer truncates away; what is not on disk is produced again.
- What the lines depend on is a manifest beside them, written atomically (``write_json_atomic``);
  a resume with another manifest is refused, naming what changed and both values (``differences``).
- A corrupt manifest is refused too (``read_manifest``): nothing is guessed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from humaneval_lab.errors import ResumeMismatchError


def write_json_atomic(path: Path, data: Any, *, sort_keys: bool = False) -> None:
    """Write ``data`` as indented JSON so that a reader (or a resume after a kill) sees the old file
    or the new one, never half of one: a temporary file beside it, flushed to disk, then renamed.
    Keys keep their order unless ``sort_keys`` (a summary's problems are in the problem set's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# One encoder for every line: json.dumps(..., ensure_ascii=False) builds a new one per call.
_LINE = json.JSONEncoder(ensure_ascii=False).encode


class JsonlWriter:
    """Appends whole JSON lines; safe to resume after a kill.

    ``flush_interval_s`` = 0 (the default): every line is flushed as it is written. Above 0: lines
    are flushed at most that often (and on ``flush``/``close``), so a fast producer pays one write
    per block instead of one per line. A kill then loses the unflushed lines (and may tear the last
    one the OS got); the caller must treat lines that are not in the file as not done, as a resume
    does (``read_jsonl_prefix`` drops a torn line, and what is missing is produced again).
    """

    def __init__(self, path: Path, *, truncate_to: int | None = None, flush_interval_s: float = 0.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if truncate_to is not None and path.exists():
            with path.open("r+b") as f:
                f.truncate(truncate_to)
        self._f: IO[str] = path.open("a", encoding="utf-8")
        self._interval = flush_interval_s
        self._last_flush = time.monotonic()

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_line(_LINE(record) + "\n")

    def write_line(self, line: str) -> None:
        """Append ``line``: one JSON object and its newline, encoded by the caller."""
        self._f.write(line)
        if self._interval <= 0:
            self._f.flush()
            return
        now = time.monotonic()
        if now - self._last_flush >= self._interval:
            self._f.flush()
            self._last_flush = now

    def write_lines(self, lines: list[str]) -> None:
        """Append ``lines`` (each as for ``write_line``) in one write: a block of lines a caller has
        ready at once costs one call, flushed under the same rule as one line."""
        if lines:
            self.write_line("".join(lines))

    def flush(self) -> None:
        """Hand every line written so far to the OS (it survives a kill of this process)."""
        self._f.flush()
        self._last_flush = time.monotonic()

    def fsync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_jsonl_prefix(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The complete, parseable lines at the start of a JSONL file and their byte length.

    A run killed mid-write leaves at most one partial last line; it is not counted, and callers
    truncate the file to the returned length before appending.
    """
    if not path.exists():
        return [], 0
    records: list[dict[str, Any]] = []
    good = 0
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            if not isinstance(rec, dict):
                break
            records.append(rec)
            good += len(raw)
    return records, good


def differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``"key.sub was X, now Y"`` for every leaf that differs: a refusal names what changed."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key} was {json.dumps(a)}, now {json.dumps(b)}")
    return out


def read_manifest(path: Path, fix: str) -> dict[str, Any] | None:
    """The manifest at ``path`` (None if there is none); a corrupt one is refused with ``fix``."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ResumeMismatchError(f"{path} is corrupt; {fix}") from None
    if not isinstance(data, dict):
        raise ResumeMismatchError(f"{path} is not a manifest (not a JSON object); {fix}")
    return data


def truncate_to_lines(path: Path, lines: int) -> None:
    """Keep the first ``lines`` lines of ``path`` (a resume re-runs what follows)."""
    if not path.exists():
        return
    size = 0
    with path.open("rb") as f:
        for _ in range(lines):
            size += len(f.readline())
    with path.open("r+b") as f:
        f.truncate(size)
