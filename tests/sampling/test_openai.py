from __future__ import annotations

from pathlib import Path

from humaneval_lab.sampling.base import derive_seed
from tests.cli_helpers import one_error_line, run

from .fake_server import FakeOpenAI
from .helpers import by_key, rows


def test_samples_from_a_real_http_server(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    with FakeOpenAI() as srv:
        code, _, err = run("sample", "--backend", "openai", "--base-url", srv.url, "--model", "m", "--limit", "5",
                           "-n", "3", "--prompts-per-request", "2", "--seed", "7", "-o", str(out))  # fmt: skip
    assert code == 0, err
    got = by_key(out)
    assert len(got) == 15 and len(rows(out)) == 15
    # 5 prompts with n=3, two prompts per request: 3 requests, each asking n=3.
    assert sorted(len(r["prompt"]) if isinstance(r["prompt"], list) else 1 for r in srv.requests) == [1, 2, 2]
    assert {r["n"] for r in srv.requests} == {3}
    assert all(len(r["stop"]) <= 4 for r in srv.requests)
    from humaneval_lab.problems import load_problems

    ps = list(load_problems().select(limit=5))
    # A request carries the seed of its first sample.
    assert sorted(r["seed"] for r in srv.requests) == sorted(
        derive_seed(7, ps[i].task_id, 0) for i in (0, 2, 4)
    )
    for p in ps:
        for i in range(3):
            rec = got[(p.task_id, i)]
            # The choice index maps back to (prompt, sample): text encodes both.
            assert rec["raw"].startswith(f"    return {len(p.prompt)} + {i}\n")
            assert rec["completion"] == f"    return {len(p.prompt)} + {i}\n"
            assert rec["stop"] == "\nprint(" and rec["seed"] == derive_seed(7, p.task_id, i)
            assert rec["tokens"] == 7


def test_retries_429_and_500_then_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    with FakeOpenAI(fail_first=[429, 500, 503]) as srv:
        code, _, err = run("sample", "--backend", "openai", "--base-url", srv.url, "--model", "m", "--task",
                           "HumanEval/0", "-n", "2", "-o", str(out))  # fmt: skip
    assert code == 0, err
    assert len(srv.requests) == 4 and len(rows(out)) == 2


def test_one_request_per_sample_when_asked(tmp_path: Path) -> None:
    from humaneval_lab.problems import load_problems
    from humaneval_lab.sampling import OpenAIConfig, SamplingConfig, sample
    from humaneval_lab.sampling.openai import OpenAIBackend

    out = tmp_path / "s.jsonl"
    with FakeOpenAI() as srv:
        be = OpenAIBackend(OpenAIConfig("m", base_url=srv.url, samples_per_request=1, prompts_per_request=1))
        sample(load_problems().select(limit=2), be, SamplingConfig(n=3, seed=1), out)
    assert len(srv.requests) == 6 and {r["n"] for r in srv.requests} == {1}
    assert sorted(r["seed"] for r in srv.requests) == sorted(
        derive_seed(1, f"HumanEval/{t}", i) for t in range(2) for i in range(3)
    )


def test_gives_up_after_retries_with_a_clear_line(tmp_path: Path) -> None:
    from humaneval_lab.errors import InfrastructureError
    from humaneval_lab.problems import load_problems
    from humaneval_lab.sampling import OpenAIConfig, SamplingConfig, sample
    from humaneval_lab.sampling.openai import OpenAIBackend

    with FakeOpenAI(fail_first=[500] * 3) as srv:
        be = OpenAIBackend(OpenAIConfig("m", base_url=srv.url, max_retries=2))
        try:
            sample(load_problems().select(limit=1), be, SamplingConfig(), tmp_path / "s.jsonl")
        except InfrastructureError as exc:
            assert "failed 3 times" in str(exc) and "HTTP 500" in str(exc)
        else:
            raise AssertionError("expected InfrastructureError")
    assert len(srv.requests) == 3


def test_server_refusal_is_one_line(tmp_path: Path) -> None:
    with FakeOpenAI() as srv:
        code, _, err = run("sample", "--backend", "openai", "--base-url", srv.url, "--model", "nope",
                           "--limit", "1", "-o", str(tmp_path / "s.jsonl"))  # fmt: skip
    assert "HTTP 400" in one_error_line(code, err) and "nope does not exist" in err


def test_lone_surrogates_from_the_server_become_valid_utf8(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    with FakeOpenAI(broken=True) as srv:
        code, _, err = run("sample", "--backend", "openai", "--base-url", srv.url, "--model", "m", "--limit", "2",
                           "-o", str(out))  # fmt: skip
    assert code == 0, err
    out.read_bytes().decode("utf-8")  # strict: raises on anything invalid
    assert all("\ufffd" in r["completion"] for r in rows(out))


def test_bad_and_unreachable_urls(tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    for url, msg in [
        (f"http://127.0.0.1:{port}/v1", "cannot reach the server"),
        ("127.0.0.1:8000/v1", "must be an http(s) URL"),
        ("ftp://x/v1", "must be an http(s) URL"),
    ]:
        code, out, err = run("sample", "--backend", "openai", "--base-url", url, "--model", "m", "--limit", "1",
                             "-o", str(tmp_path / "s.jsonl"))  # fmt: skip
        assert msg in one_error_line(code, err) and out == ""
    code, _, err = run(
        "sample", "--backend", "openai", "--model", "m", "--limit", "1", "-o", str(tmp_path / "s.jsonl")
    )
    assert "needs --base-url" in one_error_line(code, err)
