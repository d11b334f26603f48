#!/usr/bin/env bash
# Prepares a Docker engine for the Docker integration tests on a clean Debian machine (CI):
# installs Debian's docker.io and debootstrap if missing, starts dockerd with the vfs storage
# driver if no daemon answers, and makes the base image the CPU server image builds on: Debian
# with python3, which runs the engine's launcher (debootstrap + docker import: no image registry
# is reachable here).
# Exits non-zero, saying why, when the engine cannot be prepared.
set -euo pipefail

BASE_IMAGE="${READINESS_DOCKER_BASE_IMAGE:-readiness/debian-python:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/readiness-dockerd.log}"

say() { echo "[docker-engine] $*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        say "needs root (or passwordless sudo) for: $*"
        return 1
    fi
}

install_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

start_daemon() {
    if docker info >/dev/null 2>&1; then
        say "a Docker daemon already answers"
        return 0
    fi
    say "starting dockerd (vfs storage driver), log in $DOCKERD_LOG"
    as_root bash -c "nohup dockerd --storage-driver=vfs >'$DOCKERD_LOG' 2>&1 &"
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 1
    done
    say "dockerd did not answer within 60s; its log ends with:"
    tail -n 20 "$DOCKERD_LOG" || true
    return 1
}

make_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "base image $BASE_IMAGE is present"
        return 0
    fi
    local rootfs
    rootfs=$(mktemp -d /tmp/readiness-rootfs.XXXXXX)
    chmod 0755 "$rootfs"  # it becomes the image's /: mktemp's 0700 would lock out non-root users
    say "debootstrap bookworm (minbase) into $rootfs"
    # niced: .ci/run makes it while the unit tests run, and their timings come first
    as_root nice -n 15 debootstrap --variant=minbase --include=libgomp1,ca-certificates,python3 \
        bookworm "$rootfs" "$MIRROR" >/tmp/readiness-debootstrap.log 2>&1 ||
        { tail -n 20 /tmp/readiness-debootstrap.log; return 1; }
    as_root nice -n 15 tar -C "$rootfs" -c . | nice -n 15 docker import - "$BASE_IMAGE" >/dev/null
    as_root rm -rf "$rootfs"
    say "imported $BASE_IMAGE"
}

install_packages
start_daemon
make_base_image
