#!/usr/bin/env bash
# Build the humaneval-lab sandbox image WITHOUT a container registry.
#
#   sandbox/build-offline.sh [DIR] [TAG]
#
# DIR  scratch directory for the root filesystem (must be absent or empty;
#      default: a fresh mktemp dir under /var/tmp). Always deleted on exit.
# TAG  image tag (default: humaneval-lab-sandbox:<recipe hash>).
#
# LANGUAGES (environment): "all" (default) or a comma-separated language set
# (python,cpp,...; see packages.txt): only those toolchains are installed, and
# the set enters the recipe hash, hence the tag, and the label
# org.humaneval-lab.languages.
#
# Needs root, debootstrap, chroot, docker, and access to a Debian mirror
# (SANDBOX_MIRROR, SANDBOX_SECURITY_MIRROR to override). Steps:
#   1. debootstrap --variant=minbase bookworm DIR
#   2. chroot: apt-get install --no-install-recommends $(packages.txt)
#      (same sources and dpkg path excludes as debian:bookworm-slim, so the
#      result matches sandbox/Dockerfile)
#   3. chroot: sandbox/setup-rootfs.sh (user, cargo/go offline setup, prewarm,
#      cleanup) -- the very script the Dockerfile RUNs
#   4. tar | docker import with the same USER/WORKDIR/ENV/ENTRYPOINT/LABEL as
#      the Dockerfile
#
# Why not `debootstrap --include=<packages>`: debootstrap does not resolve
# virtual packages, and the librust-*-dev packages depend on virtual names
# such as librust-regex-syntax-0.6-dev, so configuration fails. apt in the
# chroot resolves them and is exactly what the Dockerfile does.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUITE=bookworm
MIRROR=${SANDBOX_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SANDBOX_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Runtime environment of the image. Keep in sync with the ENV in
# sandbox/Dockerfile (tests/test_sandbox_image.py checks that they match).
IMAGE_ENV=(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "LANG=C.UTF-8"
    "HOME=/tmp"
    "XDG_CACHE_HOME=/tmp/.cache"
    "PYTHONDONTWRITEBYTECODE=1"
    "GO111MODULE=off"
    "GOPATH=/usr/share/gocode"
    "GOPROXY=off"
    "GOCACHE=/tmp/.cache/go-build"
    "CARGO_HOME=/tmp/.cargo"
    "CARGO_NET_OFFLINE=true"
)

log() { printf '[build-offline %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "docker engine not reachable (docker info failed)"

# The language set, normalised (sorted, no duplicates) as
# humaneval_lab.sandbox_image.normalize_languages() does.
LANGUAGES=${LANGUAGES:-all}
if [ "$LANGUAGES" != all ]; then
    LANGUAGES=$(printf '%s' "$LANGUAGES" | tr ',' '\n' | grep -v '^$' | LC_ALL=C sort -u | paste -sd, -)
fi

# Recipe hash: must match humaneval_lab.sandbox_image.recipe_hash():
# sha256 over, for each recipe file in order, name NUL size NUL bytes; then,
# for a language set other than all, "languages" NUL set.
recipe_hash() {
    local f
    {
        for f in packages.txt packages.sh build-offline.sh setup-rootfs.sh; do
            printf '%s\0%s\0' "$f" "$(stat -c %s "$HERE/$f")"
            cat "$HERE/$f"
        done
        if [ "$LANGUAGES" != all ]; then printf 'languages\0%s' "$LANGUAGES"; fi
    } | sha256sum | cut -c1-12
}
HASH=$(recipe_hash)

DIR=${1:-}
TAG=${2:-humaneval-lab-sandbox:$HASH}
if [ -z "$DIR" ]; then
    DIR=$(mktemp -d /var/tmp/humaneval-sandbox-rootfs.XXXXXX)
else
    # Refuse anything that is not absent or empty: it is deleted on exit.
    if [ -e "$DIR" ]; then
        [ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ] || die "DIR $DIR exists and is not an empty directory"
    fi
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
fi
[ "$DIR" != / ] || die "refusing to use / as DIR"

cleanup() {
    local rc=$?
    if mountpoint -q "$DIR/proc"; then umount -l "$DIR/proc" || true; fi
    if mountpoint -q "$DIR/proc"; then
        log "ERROR: $DIR/proc still mounted; not deleting $DIR"
    else
        rm -rf --one-file-system "$DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$SECONDS
lap() { log "$1 done in $((SECONDS - $2)) s"; }

PACKAGES=$(sh "$HERE/packages.sh" "$LANGUAGES" "$HERE/packages.txt" | tr '\n' ' ')
log "recipe $HASH -> $TAG; languages $LANGUAGES; rootfs in $DIR"
log "packages: $PACKAGES"

t=$SECONDS
log "debootstrap --variant=minbase $SUITE $MIRROR"
debootstrap --variant=minbase "$SUITE" "$DIR" "$MIRROR"
lap debootstrap "$t"

# Same apt sources and dpkg excludes as debian:bookworm-slim.
rm -f "$DIR/etc/apt/sources.list"
cat > "$DIR/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat > "$DIR/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
printf '#!/bin/sh\nexit 101\n' > "$DIR/usr/sbin/policy-rc.d"
chmod 755 "$DIR/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
mount -t proc proc "$DIR/proc"

in_root() {
    chroot "$DIR" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

t=$SECONDS
log "apt-get install (chroot)"
APT=(apt-get -q -o Dpkg::Use-Pty=0)
in_root "${APT[@]}" update
in_root "${APT[@]}" -y dist-upgrade
# shellcheck disable=SC2086
in_root "${APT[@]}" install -y --no-install-recommends $PACKAGES
lap "apt-get install" "$t"

t=$SECONDS
log "setup-rootfs.sh (chroot)"
install -m 755 "$HERE/setup-rootfs.sh" "$DIR/setup-rootfs.sh"
in_root /setup-rootfs.sh
rm -f "$DIR/setup-rootfs.sh"
lap setup-rootfs.sh "$t"

umount "$DIR/proc"
rm -f "$DIR/usr/sbin/policy-rc.d"
# Docker provides these at run time; do not leak the build host's.
: > "$DIR/etc/resolv.conf"
: > "$DIR/etc/hostname"
log "rootfs size: $(du -sh --one-file-system "$DIR" | cut -f1)"

t=$SECONDS
changes=(
    --change 'USER 10001:10001'
    --change 'WORKDIR /work'
    --change 'ENTRYPOINT ["/usr/bin/tini", "-g", "--"]'
    --change 'CMD ["bash"]'
    --change "LABEL org.humaneval-lab.recipe=$HASH"
    --change "LABEL org.humaneval-lab.languages=$LANGUAGES"
)
for kv in "${IMAGE_ENV[@]}"; do changes+=(--change "ENV $kv"); done
log "docker import -> $TAG"
tar --numeric-owner --xattrs -C "$DIR" -c . | docker import "${changes[@]}" - "$TAG"
lap "docker import" "$t"

SIZE=$(docker image inspect -f '{{.Size}}' "$TAG")
log "built $TAG (recipe $HASH, languages $LANGUAGES) in $((SECONDS - T0)) s; image size $SIZE bytes ($((SIZE / 1000000)) MB)"
