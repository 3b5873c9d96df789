#!/usr/bin/env bash
# Runs the wheel smoke test (tests/wheel_smoke.py) on a Python this machine does not
# have: inside a minimal Debian chroot, in a fresh venv holding only the wheel and Polars
# from PyPI. tests/test_wheel.py calls it for both ends of the supported range:
#   bullseye: CPython 3.9 (glibc 2.31)    trixie: CPython 3.13
#
#   scripts/python-ends.sh prepare SUITE POLARS_REQUIREMENT
#       make the chroot (once) and download Polars into it (network only: the wheel
#       tests run this while the wheel builds)
#   scripts/python-ends.sh run SUITE POLARS_REQUIREMENT WHEEL PLAIN_URL STACK_URL
#       prepare, then install the wheel and Polars into a fresh venv in the chroot and run
#       the smoke test against the servers at the URLs
#
# The chroot is made by debootstrap (minbase) under .pyends/SUITE and reused, with the
# downloaded Polars wheels, so a second run downloads next to nothing. A chroot shares
# the host's network, so the URLs of servers on the host's loopback work unchanged.
# Needs root (debootstrap, chroot, mounting /proc).
set -euo pipefail

usage() {
    echo "usage: $0 prepare SUITE POLARS_REQUIREMENT" >&2
    echo "       $0 run SUITE POLARS_REQUIREMENT WHEEL PLAIN_URL STACK_URL" >&2
    exit 2
}
(($# >= 3)) || usage
mode=$1 suite=$2 polars=$3
case $mode in
prepare) (($# == 3)) || usage ;;
run) (($# == 6)) || usage ;;
*) usage ;;
esac
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo/.pyends/$suite"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[python-ends %s] %s\n' "$suite" "$*" >&2; }

((EUID == 0)) || {
    echo "error: needs root (debootstrap, chroot, mount)" >&2
    exit 1
}

# Whatever an interrupted debootstrap or run left mounted inside the chroot.
unmount_all() {
    local target
    for target in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$target"
    done
}

if [[ ! -f $root/.ready ]]; then
    if ! command -v debootstrap >/dev/null; then
        log "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
    fi
    log "creating the chroot with debootstrap (minbase) from $mirror"
    unmount_all
    rm -rf "$root"
    mkdir -p "$root"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
        tail -n 30 "$root.debootstrap.log" >&2
        exit 1
    }
    rm -f "$root/var/cache/apt/archives"/*.deb
    touch "$root/.ready"
fi

work="$root/tmp/python-ends-$mode"
cleanup() {
    unmount_all
    rm -rf "$work"
}
trap cleanup EXIT
mount -t proc proc "$root/proc"
rm -rf "$work"
mkdir -p "$work"
# The host's CA bundle and resolver: the bundle may trust a proxy that Debian's does not.
cp /etc/ssl/certs/ca-certificates.crt "$work/ca.crt"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# A clean environment: nothing of the host's (no Rust toolchain, no PYTHONPATH, no pip config).
in_chroot() {
    chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        PIP_CERT="/tmp/python-ends-$mode/ca.crt" PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-120}" "$@"
}

log "downloading $polars"
in_chroot /bin/sh -euc '
    [ -x /root/download/bin/pip ] || python3 -m venv /root/download
    /root/download/bin/pip download -q --only-binary=:all: -d /root/wheelhouse "$1"
' python-ends "$polars"

[[ $mode == run ]] || exit 0
wheel=$4 plain_url=$5 stack_url=$6
[[ -f $wheel ]] || {
    echo "error: no wheel at $wheel" >&2
    exit 2
}
cp "$wheel" "$repo/tests/wheel_smoke.py" "$work/"
log "$(in_chroot python3 --version), a venv with $(basename "$wheel") and $polars"
in_chroot /bin/sh -euc '
    cd /tmp/python-ends-run
    python3 -m venv venv
    venv/bin/python -m pip install -q --only-binary=:all: --find-links /root/wheelhouse \
        "$1" ./*.whl
    venv/bin/python wheel_smoke.py "$2" "$3"
' python-ends "$polars" "$plain_url" "$stack_url"
