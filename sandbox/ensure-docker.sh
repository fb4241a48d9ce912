#!/usr/bin/env bash
# Used by `make docker` (and so by make demo/test/bench): make sure a Docker engine answers, then make sure the sandbox
# image for the current recipe is present (built offline with debootstrap if
# not; the recipe-hash tag in the local engine is the cache). Idempotent.
# Run as root from anywhere; uses the checkout this script lives in.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '[ensure-docker] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi

if ! docker info >/dev/null 2>&1; then
    missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        "${SUDO[@]}" apt-get update -q
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    say "starting dockerd (log: /tmp/dockerd.log)"
    "${SUDO[@]}" setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 ||
        die "dockerd did not answer 'docker info' within 60 s; see /tmp/dockerd.log"
fi
say "docker engine: $(docker info -f '{{.ServerVersion}}')"

if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends debootstrap
fi

[ "${1:-}" = "--no-image" ] && exit 0
cd "$REPO"
"${SUDO[@]}" "${PYTHON:-python3}" -c '
import sys
sys.path.insert(0, ".")
from humaneval_lab.sandbox_image import build_image
print(build_image())
'
