"""The sandbox Docker image: recipe hash, lookup and (registry-free) build.

The recipe lives in ``sandbox/`` (see ``sandbox/README.md``). Its hash names
the image tag, so a local image with that tag *is* the build cache: editing
any recipe file yields a new tag and a rebuild. Images are never pulled.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humaneval_lab.errors import SandboxBuildError

if TYPE_CHECKING:  # pragma: no cover
    import docker

IMAGE_REPOSITORY = "humaneval-lab-sandbox"
RECIPE_FILES = ("packages.txt", "packages.sh", "build-offline.sh", "setup-rootfs.sh")
RECIPE_LABEL = "org.humaneval-lab.recipe"
LANGUAGES_LABEL = "org.humaneval-lab.languages"
# The core of packages.txt (before its first [section]) carries these languages: always built.
CORE_LANGUAGES = ("bash", "python")
# Where an installed (non-editable) humaneval-lab keeps sandbox/ as package data: setup.cfg maps
# sandbox/ to humaneval_lab.sandbox.
_RESOURCE_PACKAGE = "humaneval_lab.sandbox"


def language_sections(sandbox_dir: Path) -> tuple[str, ...]:
    """Every language an image can be built with: the core's and those of packages.txt's
    ``[name,...]`` sections (sandbox/packages.sh reads the same file)."""
    path = Path(sandbox_dir) / "packages.txt"
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError as exc:
        raise SandboxBuildError(f"sandbox recipe file missing: {path}") from exc
    names = set(CORE_LANGUAGES)
    for line in lines:
        line = "".join(line.split("#", 1)[0].split())
        if line.startswith("[") and line.endswith("]"):
            names.update(n for n in line[1:-1].split(",") if n)
    return tuple(sorted(names))


def normalize_languages(sandbox_dir: Path, languages: str | None) -> str:
    """``"all"`` (None, empty or "all") or the sorted, de-duplicated comma list ``languages`` names,
    each checked against packages.txt (a typo must not build an image that silently lacks one)."""
    if languages is None or languages.strip() in ("", "all"):
        return "all"
    wanted = sorted({n.strip() for n in languages.split(",") if n.strip()})
    known = language_sections(sandbox_dir)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SandboxBuildError(
            f"unknown language(s) for the sandbox image: {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return ",".join(wanted)


def recipe_hash(sandbox_dir: Path, languages: str | None = None) -> str:
    """First 12 hex chars of sha256 over the recipe files and the language set.

    For each name in RECIPE_FILES, in order, the digest takes
    ``name NUL len(data) NUL data``; then, for a language set other than all,
    ``languages NUL <normalized set>``. sandbox/build-offline.sh computes the
    same value for the image label.
    """
    langs = normalize_languages(sandbox_dir, languages)
    digest = hashlib.sha256()
    for name in RECIPE_FILES:
        path = Path(sandbox_dir) / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise SandboxBuildError(f"sandbox recipe file missing: {path}") from exc
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(str(len(data)).encode())
        digest.update(b"\0")
        digest.update(data)
    if langs != "all":
        digest.update(b"languages\0" + langs.encode())
    return digest.hexdigest()[:12]


def default_image_tag(sandbox_dir: Path, languages: str | None = None) -> str:
    return f"{IMAGE_REPOSITORY}:{recipe_hash(sandbox_dir, languages)}"


def _is_recipe_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in RECIPE_FILES)


def sandbox_dir() -> Path:
    """Locate the ``sandbox/`` recipe folder.

    A source checkout (``<repo>/sandbox`` next to the package) wins; else the
    package data of an installed humaneval-lab (see _RESOURCE_PACKAGE).
    """
    checkout = Path(__file__).resolve().parent.parent / "sandbox"
    if _is_recipe_dir(checkout):
        return checkout
    if importlib.util.find_spec(_RESOURCE_PACKAGE) is not None:
        # Package data installed on the file system (a wheel, not a zip).
        path = Path(str(importlib.resources.files(_RESOURCE_PACKAGE)))
        if _is_recipe_dir(path):
            return path
    raise SandboxBuildError(
        f"sandbox recipe not found: neither {checkout} nor the package "
        f"{_RESOURCE_PACKAGE} holds {', '.join(RECIPE_FILES)}"
    )


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    """True if the local engine has ``tag``. Never pulls."""
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _docker_client() -> Any:
    """The one way this package reaches Docker (DockerUnavailableError, with the fix, otherwise)."""
    from humaneval_lab.execution.docker import docker_client

    return docker_client()


def build_image(
    tag: str | None = None,
    *,
    force: bool = False,
    log: Callable[[str], object] = print,
    languages: str | None = None,
) -> str:
    """Return the tag of a local sandbox image, building it if needed.

    Cached: if the engine already has ``tag`` (default: the recipe-hash tag
    of ``languages``) and ``force`` is false, nothing is built. Otherwise runs
    ``sandbox/build-offline.sh`` (root, debootstrap, a Debian mirror) with
    LANGUAGES set, streaming its output to ``log``, and logs the build time
    and the image size.
    """
    recipe = sandbox_dir()
    langs = normalize_languages(recipe, languages)
    tag = tag or default_image_tag(recipe, langs)
    client = _docker_client()
    if not force and image_exists(client, tag):
        log(f"sandbox image {tag} present (cached)")
        return tag
    if shutil.which("debootstrap") is None:
        raise SandboxBuildError(
            "debootstrap not found: apt-get install debootstrap, "
            "or build sandbox/Dockerfile with docker build"
        )
    if os.geteuid() != 0:
        raise SandboxBuildError(
            "building the sandbox image needs root (debootstrap, chroot): "
            "run as root, or build sandbox/Dockerfile with docker build"
        )
    script = recipe / "build-offline.sh"
    log(f"building sandbox image {tag} (languages: {langs}) with {script}")
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(script), "", tag],
        env={**os.environ, "LANGUAGES": langs},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
    )
    assert proc.stdout is not None
    with proc:
        for line in proc.stdout:
            log(line.rstrip("\n"))
    if proc.returncode != 0:
        raise SandboxBuildError(f"{script} failed with exit status {proc.returncode}")
    if not image_exists(client, tag):
        raise SandboxBuildError(f"{script} succeeded but image {tag} is missing")
    size = int(client.images.get(tag).attrs.get("Size", 0))
    log(f"built {tag} in {time.monotonic() - started:.0f} s; image size {size / 1e9:.2f} GB")
    return tag
