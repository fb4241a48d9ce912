from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.languages import all_languages, get_language
from humaneval_lab.problems import read_problem_file
from humaneval_lab.sampling.chat import completion_from_code, extract_code
from humaneval_lab.sampling.truncate import truncate, valid_text


def test_earliest_stop_wins_and_raw_is_untouched() -> None:
    text = "    return x\n\nprint(f(1))\nif __name__ == '__main__':\n"
    assert truncate(text, ("\nif __name__", "\nprint(")) == ("    return x\n", "\nprint(")
    assert truncate("    return x\n", ("\nprint(",)) == ("    return x\n", None)
    assert truncate("", ("\nprint(",)) == ("", None)


@pytest.mark.parametrize("spec", all_languages(), ids=lambda s: s.name)
def test_every_language_spec_has_stops_that_cut_trailing_code(spec) -> None:  # type: ignore[no-untyped-def]
    assert spec.stop_sequences, f"{spec.name} has no stop sequences"
    for stop in spec.stop_sequences:
        body = "  x = 1;\n  y = 2;\n"
        cut = truncate(body + stop + " tail", spec.stop_sequences)[0]
        # A stop made of newlines ("\n\n\n") may start at the body's own last newline.
        assert cut in (body, body[:-1]), (stop, cut)


def test_python_keeps_helpers_defined_after_the_function() -> None:
    stops = get_language("python").stop_sequences
    text = "    return helper(x)\n\ndef helper(x):\n    return x\n\nprint(helper(1))\n"
    assert truncate(text, stops) == ("    return helper(x)\n\ndef helper(x):\n    return x\n", "\nprint(")


def test_problem_stop_tokens_override_the_language_default(datasets: Path) -> None:
    """MultiPL-E problems carry their own stop tokens; the harness cuts at those."""
    files = sorted((datasets / "multipl-e").glob("*.json*"))
    assert files, "no MultiPL-E data"
    for f in files:
        problems = read_problem_file(f)
        p = problems[0]
        try:
            spec = get_language(p.language)
        except Exception:
            continue  # a language another module adds later
        stops = spec.stops_for(p)
        assert stops == p.stop_sequences and stops
        assert truncate("  body\n" + stops[0] + "junk", stops)[0] in ("  body\n", "  body")


def test_valid_text_replaces_lone_surrogates_and_joins_pairs() -> None:
    assert valid_text("a\ud800b") == "a\ufffdb"
    assert valid_text("\ud83d\ude00") == "\U0001f600"
    assert valid_text("plain é") == "plain é"
    json.dumps(valid_text("\udfff")).encode("utf-8")


def test_extract_code_prefers_the_language_block() -> None:
    reply = "Sure:\n```text\nnot code\n```\n```python\ndef f():\n    return 1\n```\nDone."
    assert extract_code(reply, "python") == ("def f():\n    return 1", "fenced")
    assert extract_code("```\n    return 2\n```", "python") == ("    return 2", "fenced")
    assert extract_code("```python\ndef f():\n    return 3\n", "python")[0] == "def f():\n    return 3\n"
    assert extract_code("    return 4\n", "python") == ("    return 4\n", "raw")


def test_completion_from_code_appends_functions_and_continues_bodies() -> None:
    assert completion_from_code("def f():\n    return 1") == "\ndef f():\n    return 1\n"
    assert completion_from_code("    return 1") == "    return 1\n"
