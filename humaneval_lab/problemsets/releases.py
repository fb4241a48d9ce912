"""Which published release a problem file is, recognised by its sha256.

A file's name says little (users rename, re-compress, patch); its bytes say exactly which release it
is. Known releases get their suite name and version; any other file is still read by its shape and
recorded with version ``"unknown"`` and its own sha256, so a run always says what it judged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

# sha256 of the file as published -> (suite, version)
KNOWN: dict[str, tuple[str, str]] = {
    "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101": ("humaneval+", "v0.1.10"),
    "91486741f1627101021fbe50523df08eebb5b0bf5e804b633dcd5ca3c14dbd2f": ("humaneval+-mini", "v0.1.10"),
    "298f79977b2663b8b8ab6b5fa50b17d6f23a92603d24f39e26203fe58c37eeda": ("humaneval+-noextreme", "v0.1.10"),
    "daa7661c8189924068069b0872a440b491edb60f8bdf431d5957adc88d18bae5": ("humaneval+-originfmt", "v0.1.10"),
    "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63": ("mbpp+", "v0.2.0"),
    "72d32acaea73d5606cb97041b30d45bbda9435a675369d3e31965513ee94e564": ("mbpp+-noextreme", "v0.2.0"),
    "7a5aec547b134fa297ee6c45f829298aa3f58de02547b8d8a5c3d85d9cb10efc": ("mbpp+-originfmt", "v0.2.0"),
    "57d639e77667d88930052b2b07212011c25c0bab94dfc1f19d15e1f7f558bfa9": ("mbpp+", "v0.1.0"),
    "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f": ("mbpp", "google-research"),
    "ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9": ("mbpp-sanitized", "google-research"),
}  # fmt: skip


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def identify(path: Path, fmt: str) -> dict[str, Any]:
    """{"suite", "version", "format", "file_sha256"} of a problem file (suite: the file's stem when
    the release is not known)."""
    digest = file_sha256(path)
    suite, version = KNOWN.get(digest, (None, "unknown"))
    if suite is None:
        stem = path.name
        for suffix in (".gz", ".jsonl", ".json"):
            stem = stem.removesuffix(suffix)
        suite = stem
    return {"suite": suite, "version": version, "format": fmt, "file_sha256": digest}
