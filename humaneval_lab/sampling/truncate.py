"""Stop sequences, applied by the harness after generation.

Engines differ in how they stop (some run past stop words when batching, some include the stop
string, some ignore more than four), so whatever the engine returned is cut again here at the
earliest stop sequence. The untouched text is kept beside the completion for audit.
"""

from __future__ import annotations

from collections.abc import Iterable


def truncate(text: str, stops: Iterable[str]) -> tuple[str, str | None]:
    """``text`` cut before the earliest stop sequence, and that sequence (None when none occurs)."""
    cut, hit = len(text), None
    for s in stops:
        i = text.find(s)
        if i != -1 and (i < cut or (i == cut and hit is not None and len(s) > len(hit))):
            cut, hit = i, s
    return text[:cut], hit


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates (from broken bytes or JSON escapes) become U+FFFD.

    A JSONL line holding a lone surrogate cannot be encoded as UTF-8, and would kill the writer or
    the scorer reading it later; valid surrogate pairs are joined into the character they encode.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def decode_bytes(data: bytes) -> str:
    """Bytes from an engine as text; invalid UTF-8 becomes U+FFFD instead of failing the run."""
    return data.decode("utf-8", "replace")
