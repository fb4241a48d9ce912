"""Tests for the sandbox image recipe (sandbox/) and humaneval_lab.sandbox_image.

Tests marked ``docker`` run every toolchain inside the real image, offline,
read-only, as uid 10001. They need a reachable engine and the image for the
current recipe (build it with ``make sandbox-image``) and fail without
them. HUMANEVAL_LAB_SANDBOX_IMAGE=TAG tests another image instead (e.g. one
built from sandbox/Dockerfile).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from humaneval_lab import sandbox_image  # noqa: E402
from humaneval_lab.sandbox_image import (  # noqa: E402
    RECIPE_FILES,
    SandboxBuildError,
    build_image,
    default_image_tag,
    recipe_hash,
    sandbox_dir,
)

SANDBOX = ROOT / "sandbox"


# --------------------------------------------------------------- recipe ----


def _copy_recipe(dst: Path) -> Path:
    dst.mkdir()
    for name in RECIPE_FILES:
        shutil.copy2(SANDBOX / name, dst / name)
    return dst


def test_sandbox_dir_is_checkout() -> None:
    assert sandbox_dir() == SANDBOX


def test_sandbox_dir_from_installed_package_data(tmp_path: Path) -> None:
    """Installed (not a checkout): sandbox/ is package data of humaneval_lab.sandbox."""
    site = tmp_path / "site"
    pkg = site / "humaneval_lab"
    (pkg / "sandbox").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sandbox" / "__init__.py").write_text("")
    shutil.copy2(ROOT / "humaneval_lab" / "sandbox_image.py", pkg / "sandbox_image.py")
    for name in RECIPE_FILES:
        shutil.copy2(SANDBOX / name, pkg / "sandbox" / name)
    code = (
        f"import sys; sys.path[:0] = [{str(site)!r}]\n"
        "from humaneval_lab.sandbox_image import sandbox_dir, recipe_hash\n"
        "print(sandbox_dir()); print(recipe_hash(sandbox_dir()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.split()
    assert out == [str(pkg / "sandbox"), recipe_hash(SANDBOX)]

    (pkg / "sandbox" / "packages.txt").unlink()
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "sandbox recipe not found" in proc.stderr


def test_recipe_hash_stable(tmp_path: Path) -> None:
    h = recipe_hash(SANDBOX)
    assert re.fullmatch(r"[0-9a-f]{12}", h)
    assert recipe_hash(SANDBOX) == h
    assert recipe_hash(_copy_recipe(tmp_path / "copy")) == h
    assert default_image_tag(SANDBOX) == f"humaneval-lab-sandbox:{h}"


def test_recipe_hash_changes_with_packages(tmp_path: Path) -> None:
    copy = _copy_recipe(tmp_path / "copy")
    before = recipe_hash(copy)
    with (copy / "packages.txt").open("a") as f:
        f.write("hello\n")
    assert recipe_hash(copy) != before


def test_recipe_hash_missing_file(tmp_path: Path) -> None:
    copy = _copy_recipe(tmp_path / "copy")
    (copy / "setup-rootfs.sh").unlink()
    with pytest.raises(SandboxBuildError):
        recipe_hash(copy)


@pytest.mark.parametrize("languages", ["all", "rust,python", "racket"])
def test_shell_recipe_hash_matches_python(languages: str) -> None:
    """build-offline.sh labels the image with the same hash, for every language set."""
    script = (SANDBOX / "build-offline.sh").read_text()
    func = re.search(r"^recipe_hash\(\) \{\n.*?^\}\n", script, re.MULTILINE | re.DOTALL)
    norm = re.search(r"^LANGUAGES=\$\{LANGUAGES:-all\}\n.*?^fi\n", script, re.MULTILINE | re.DOTALL)
    assert func and norm, "recipe_hash() or the LANGUAGES normalisation not found in build-offline.sh"
    out = subprocess.run(
        [
            "bash",
            "-c",
            f"set -euo pipefail\nHERE={shlex.quote(str(SANDBOX))}\n"
            f"LANGUAGES={shlex.quote(languages)}\n{norm.group(0)}{func.group(0)}recipe_hash",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert out == recipe_hash(SANDBOX, languages)
    assert (out == recipe_hash(SANDBOX)) == (languages == "all")


def test_language_sets(tmp_path: Path) -> None:
    """packages.sh prints the core plus the sections asked for; an unknown name is an error."""

    def packages(langs: str) -> list[str]:
        return subprocess.run(["sh", str(SANDBOX / "packages.sh"), langs], check=True,
                              capture_output=True, text=True).stdout.split()  # fmt: skip

    every = packages("all")
    assert every == _packages()
    lean = packages("python,rust")
    assert "python3" in lean and "rustc" in lean and "ghc" not in lean and "g++" not in lean
    assert set(lean) < set(every)
    assert "racket" in packages("racket") and "tini" in packages("racket")
    proc = subprocess.run(["sh", str(SANDBOX / "packages.sh"), "python,klingon"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert proc.returncode != 0 and "unknown language klingon" in proc.stderr
    with pytest.raises(SandboxBuildError, match="klingon"):
        recipe_hash(SANDBOX, "python,klingon")
    assert sandbox_image.normalize_languages(SANDBOX, " rust,python,rust ") == "python,rust"
    from humaneval_lab.languages import all_languages

    # Every language spec can be built into an image, and every section is a language.
    assert set(sandbox_image.language_sections(SANDBOX)) == {s.name for s in all_languages()}


def _packages() -> list[str]:
    lines = (SANDBOX / "packages.txt").read_text().splitlines()
    entries = (line.split("#", 1)[0].strip() for line in lines)
    return [p for p in entries if p and not p.startswith("[")]


def test_packages_txt() -> None:
    pkgs = _packages()
    assert len(pkgs) == len(set(pkgs)), "duplicate packages"
    for p in pkgs:
        assert re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", p), p
        assert not p.endswith("-doc"), p
    for needed in (
        "python3",
        "python3-numpy",
        "g++",
        "libssl-dev",
        "libboost-dev",
        "openjdk-17-jdk-headless",
        "nodejs",
        "node-typescript",
        "golang-go",
        "golang-github-stretchr-testify-dev",
        "rustc",
        "cargo",
        "librust-regex-dev",
        "librust-md5-dev",
        "librust-rand-dev",
        "ruby",
        "lua5.4",
        "php-cli",
        "perl",
        "libtest-deep-perl",
        "bash",
        "coreutils",
        "procps",
        "tini",
    ):
        assert needed in pkgs, needed


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (SANDBOX / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)  # join continuation lines
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_uses_packages_txt_and_setup_script() -> None:
    ins = _dockerfile_instructions()
    assert ins[0] == ("FROM", "debian:bookworm-slim")
    copies = [rest.split() for op, rest in ins if op == "COPY"]
    assert any("packages.txt" in c and "setup-rootfs.sh" in c for c in copies)
    runs = " ".join(rest for op, rest in ins if op == "RUN")
    assert re.search(r"packages\.sh \"\$LANGUAGES\" packages\.txt.*xargs apt-get install", runs)
    assert "--no-install-recommends" in runs
    assert re.search(r"(sh|bash) \S*setup-rootfs\.sh", runs)
    assert ("USER", "10001:10001") in ins
    assert ("WORKDIR", "/work") in ins
    assert any(op == "LABEL" and "org.humaneval-lab.recipe=" in r for op, r in ins)


def test_offline_builder_runs_setup_script() -> None:
    script = (SANDBOX / "build-offline.sh").read_text()
    assert "debootstrap --variant=minbase" in script
    assert "packages.txt" in script
    assert re.search(r"in_root /setup-rootfs\.sh", script)
    assert "--change 'USER 10001:10001'" in script
    assert "--change 'WORKDIR /work'" in script
    assert "trap cleanup EXIT" in script


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for op, rest in _dockerfile_instructions():
        if op == "ENV":
            for item in shlex.split(rest):
                k, _, v = item.partition("=")
                env[k] = v
    return env


def _offline_env() -> dict[str, str]:
    script = (SANDBOX / "build-offline.sh").read_text()
    block = re.search(r"^IMAGE_ENV=\(\n(.*?)^\)", script, re.MULTILINE | re.DOTALL)
    assert block
    items = [
        shlex.split(line)[0]
        for line in block.group(1).splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    return dict(item.partition("=")[::2] for item in items)


def test_env_same_in_both_recipes() -> None:
    assert _offline_env() == _dockerfile_env()
    assert _offline_env()["GO111MODULE"] == "off"


def test_entrypoint_same_in_both_recipes() -> None:
    script = (SANDBOX / "build-offline.sh").read_text()
    ins = dict(_dockerfile_instructions())
    assert f"--change 'ENTRYPOINT {ins['ENTRYPOINT']}'" in script
    assert f"--change 'CMD {ins['CMD']}'" in script


# ------------------------------------------------------- build_image() -----


class _FakeImages:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, tag: str) -> object:
        import docker.errors

        if tag in self.present:
            return object()
        raise docker.errors.ImageNotFound(tag)


class _FakeClient:
    def __init__(self, present: set[str]) -> None:
        self.images = _FakeImages(present)


def test_build_image_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    tag = default_image_tag(SANDBOX)
    monkeypatch.setattr(sandbox_image, "_docker_client", lambda: _FakeClient({tag}))

    def no_build(*a: object, **k: object) -> None:
        raise AssertionError("must not build")

    monkeypatch.setattr(subprocess, "Popen", no_build)
    logs: list[str] = []
    assert build_image(log=logs.append) == tag
    assert "cached" in logs[0]


def test_build_image_without_debootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_image, "_docker_client", lambda: _FakeClient(set()))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxBuildError, match="debootstrap not found"):
        build_image(log=lambda s: None)


# ----------------------------------------------------- the real image ------

RUN_FLAGS = [
    "--rm",
    "-i",
    "--network",
    "none",
    "--read-only",
    "--tmpfs",
    "/tmp:exec,size=512m",
    "--tmpfs",
    "/work:exec,size=256m,uid=10001,gid=10001",
    "--user",
    "10001:10001",
]


@pytest.fixture(scope="session")
def image() -> str:
    """The image under test; Docker tests fail (never skip) when it is not there."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # DockerException, ConnectionError, FileNotFoundError, ...
        pytest.fail(f"docker engine not reachable ({exc}); run make sandbox-image")
    tag = os.environ.get("HUMANEVAL_LAB_SANDBOX_IMAGE") or default_image_tag(SANDBOX)
    if not sandbox_image.image_exists(client, tag):
        pytest.fail(f"sandbox image {tag} missing; build it with make sandbox-image")
    return tag


def run_in_image(
    tag: str, script: str, *flags: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "run", *RUN_FLAGS, *flags, tag, "bash", "-euo", "pipefail", "-s"],
        input=script,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# name -> (script run in /work, text expected on stdout)
TOOLCHAINS: dict[str, tuple[str, str]] = {
    "python": ("python3 -c 'import numpy; print(\"numpy\", numpy.arange(4).sum())'\n", "numpy 6"),
    "cpp": (
        r"""
cat > a.cpp <<'EOF'
#include <boost/any.hpp>
#include <openssl/md5.h>
#include <cstdio>
#include <string>
int main() {
    boost::any a = 41;
    std::string s = "abc";
    unsigned char d[MD5_DIGEST_LENGTH];
    MD5(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
    std::printf("cpp %d %02x%02x\n", boost::any_cast<int>(a) + 1, d[0], d[1]);
}
EOF
g++ -std=c++11 -O2 -Wno-deprecated-declarations -o /tmp/a.out a.cpp -lcrypto
/tmp/a.out
""",
        "cpp 42 9001",
    ),
    "java": (
        r"""
cat > Main.java <<'EOF'
import java.util.*;
public class Main {
    public static void main(String[] args) {
        List<Integer> l = new ArrayList<>(Arrays.asList(3, 1, 2));
        Collections.sort(l);
        System.out.println("java " + l);
    }
}
EOF
javac -d /tmp/classes Main.java
java -cp /tmp/classes Main
""",
        "java [1, 2, 3]",
    ),
    "node": (
        'node -e \'const assert = require("node:assert"); '
        'assert.deepEqual([1], [1]); console.log("node", 6 * 7)\'\n',
        "node 42",
    ),
    "typescript": (
        r"""
cat > a.ts <<'EOF'
declare var require: any;
const assert = require('node:assert');
function add(a: number, b: number): number { return a + b; }
assert.deepEqual(add(1, 2), 3);
console.log("ts", add(40, 2));
EOF
tsc --target es2020 --outDir /tmp/ts a.ts
node /tmp/ts/a.js
""",
        "ts 42",
    ),
    "go": (
        r"""
cat > main_test.go <<'EOF'
package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func add(a, b int) int { return a + b }

func TestAdd(t *testing.T) { assert.Equal(t, 3, add(1, 2)) }
EOF
mkdir -p /tmp/.cache && cp -r /opt/humaneval-lab/go-build-cache "$GOCACHE"
out=$(go test -v .)
grep -q -- '--- PASS: TestAdd' <<<"$out"
echo "go ok"
""",
        "go ok",
    ),
    "go-cold-cache": (
        r"""
printf 'package main\nimport (\n"testing"\n"github.com/stretchr/testify/require"\n)\nfunc TestX(t *testing.T) { require.True(t, true) }\n' > x_test.go
GOCACHE=/tmp/cold-go-cache go test . && echo "go cold ok"
""",
        "go cold ok",
    ),
    # The language spec links against this importcfg: root's, and its testify built without the
    # HTTP helpers (no net/ package among assert's or require's dependencies).
    "go-importcfg": (
        r"""
C=/opt/humaneval-lab/go/importcfg
stat -c '%U %a' "$C" /opt/humaneval-lab/go/gocode/pkg
grep -q '^packagefile github.com/stretchr/testify/assert=/opt/humaneval-lab/go/gocode/pkg/' "$C"
grep -q '^packagefile testing=/usr/lib/go' "$C"
deps=$(GOPATH=/opt/humaneval-lab/go/gocode GOCACHE=/tmp/gc go list -deps \
    github.com/stretchr/testify/assert github.com/stretchr/testify/require)
grep -qx reflect <<<"$deps"
if grep '^net' <<<"$deps"; then exit 1; fi
echo "go importcfg ok"
""",
        "root 644\nroot 755\ngo importcfg ok",
    ),
    "rust-lld": (
        r"""
printf 'fn main() { println!("lld {}", 6 * 7); }\n' > m.rs
rustc -C prefer-dynamic -C strip=symbols -C link-arg=-fuse-ld=lld -C link-arg=-Wl,--threads=1 \
    -C link-arg=-Wl,-rpath,$(echo /usr/lib/rustlib/*-unknown-linux-gnu/lib) -o m m.rs
./m
[[ $(readelf -p .comment m) == *"Linker: Debian LLD"* ]]
""",
        "lld 42",
    ),
    "rust-template": (
        r"""
cp -a /opt/humaneval-lab/rust-template /tmp/crate
cat > /tmp/crate/src/main.rs <<'EOF'
use rand::Rng;
use regex::Regex;
fn main() {
    let re = Regex::new(r"^a+b$").unwrap();
    let n: u8 = rand::thread_rng().gen_range(0..1);
    println!("rust {} {:x} {}", re.is_match("aab"), md5::compute(b"abc"), n);
}
#[cfg(test)]
mod tests {
    #[test]
    fn t() { assert!(regex::Regex::new("x").unwrap().is_match("x")); }
}
EOF
cd /tmp/crate
cargo build -q
./target/debug/sandbox
out=$(cargo test -q 2>&1)
grep -q 'test result: ok. 1 passed' <<<"$out"
echo "rust tests ok"
""",
        "rust true 900150983cd24fb0d6963f7d28e17f72 0\nrust tests ok",
    ),
    "rust-scratch": (
        r"""
mkdir -p /work/c/src
cat > /work/c/Cargo.toml <<'EOF'
[package]
name = "scratch"
version = "0.1.0"
edition = "2021"

[dependencies]
regex = "1"
md5 = "0.7"
EOF
echo 'fn main() { println!("scratch {} {:x}", regex::Regex::new("b+").unwrap().is_match("abc"), md5::compute(b"")); }' > /work/c/src/main.rs
cd /work/c
CARGO_TARGET_DIR=/tmp/target cargo run -q
""",
        "scratch true d41d8cd98f00b204e9800998ecf8427e",
    ),
    "ruby": (
        r"""
cat > t.rb <<'EOF'
require 'test/unit'
class TestX < Test::Unit::TestCase
  def test_sum; assert_equal(3, [1, 2].sum); end
end
EOF
out=$(ruby t.rb)
grep -q '1 tests, 1 assertions, 0 failures' <<<"$out"
echo "ruby $(ruby -e 'print RUBY_VERSION')"
""",
        "ruby 3.1",
    ),
    "lua": ("lua5.4 -e 'print(\"lua\", _VERSION, math.tointeger(6*7))'\n", "lua\tLua 5.4\t42"),
    "php": ('php -r \'echo "php ", array_sum([40, 2]), "\\n";\'\n', "php 42"),
    "perl": (
        "out=$(perl -MTest::More -MTest::Deep -e "
        "'cmp_deeply([1, {a => 2}], [1, {a => 2}]); done_testing')\n"
        "grep -q '^ok 1' <<<\"$out\"\necho perl ok\n",
        "perl ok",
    ),
    "bash": ('echo "bash ${BASH_VERSINFO[0]} $((6 * 7))"\n', "bash 5 42"),
}


@pytest.mark.docker
@pytest.mark.parametrize("lang", sorted(TOOLCHAINS))
def test_toolchain_offline(image: str, lang: str) -> None:
    script, expected = TOOLCHAINS[lang]
    proc = run_in_image(image, "cd /work\n" + script)
    assert proc.returncode == 0, f"{lang} failed:\n{proc.stdout}\n{proc.stderr}"
    assert expected in proc.stdout, f"{lang}:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.docker
def test_image_defaults(image: str) -> None:
    """Default user/workdir/init/label, read-only root, no network."""
    proc = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            image,
            "bash",
            "-c",
            "id -u; id -g; pwd; cat /proc/1/cmdline | tr '\\0' ' '",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    uid, gid, cwd, init = proc.stdout.splitlines()
    assert (uid, gid, cwd) == ("10001", "10001", "/work")
    assert init.startswith("/usr/bin/tini")
    label = subprocess.run(
        ["docker", "image", "inspect", "-f", '{{index .Config.Labels "org.humaneval-lab.recipe"}}', image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert label == recipe_hash(SANDBOX)

    proc = run_in_image(
        image,
        r"""
if touch /usr/x 2>/dev/null; then echo "root fs writable"; exit 1; fi
if touch /home/sandbox/x 2>/dev/null; then echo "home writable"; exit 1; fi
touch /tmp/x /work/x
python3 -c 'import socket; socket.create_connection(("deb.debian.org", 80), 3)' \
    2>/dev/null && { echo "network reachable"; exit 1; }
echo confined
""",
    )
    assert proc.returncode == 0 and "confined" in proc.stdout, proc.stdout + proc.stderr
