#!/usr/bin/env bash
# Starts the object-store servers the store conformance tests run against
# (tests/object_stores/), on free ports of 127.0.0.1:
#
#   S3     moto server (default; it comes with the machine image), or s3s-fs
#          with STRATA_TEST_S3_SERVER=s3s-fs (checks request signatures;
#          `cargo install` builds it, which takes minutes the first time)
#   Azure  Azurite's blob service (npm, installed into tests/servers/node_modules)
#
# Installs what is missing, starts both in the background, waits until they
# answer, creates the bucket and the container, and exports:
#
#   STRATA_TEST_S3_ENDPOINT  STRATA_TEST_S3_BUCKET  STRATA_TEST_S3_REGION
#   STRATA_TEST_S3_ACCESS_KEY_ID  STRATA_TEST_S3_SECRET_ACCESS_KEY  STRATA_TEST_S3_SERVER
#   STRATA_TEST_AZURE_ENDPOINT  STRATA_TEST_AZURE_ACCOUNT  STRATA_TEST_AZURE_ACCESS_KEY
#   STRATA_TEST_AZURE_CONTAINER  AZURITE_BLOB_STORAGE_URL (object_store's emulator mode)
#   STRATA_TEST_SERVERS_DIR  (logs, data and pids; tests/servers/stop.sh stops them)
#
# Use it either way:
#   source tests/servers/start.sh        # exports into this shell
#   eval "$(tests/servers/start.sh)"     # run as a program it prints the exports
#
# Then `cargo test --test integration object_stores`. Stop with
# `tests/servers/stop.sh` (kills only the pids this script recorded).

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: do the work in a child bash, so the caller's shell options
    # and traps are left alone, then take its exports.
    __strata_servers_env="$(bash "${BASH_SOURCE[0]}")" || {
        echo "tests/servers/start.sh: could not start the test servers (see above)" >&2
        unset __strata_servers_env
        return 1
    }
    eval "$__strata_servers_env"
    unset __strata_servers_env
    return 0
fi

set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "[test servers] $*" >&2; }

server="${STRATA_TEST_S3_SERVER:-moto}"
bucket=strata-test
container=strata-test
s3_key=strata-test-key
s3_secret=strata-test-secret
region=us-east-1
# Azurite's well-known development account (public, in every Azure SDK).
az_account=devstoreaccount1
az_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

state="${STRATA_TEST_SERVERS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/strata-test-servers.XXXXXX")}"
mkdir -p "$state"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something answers HTTP on the port (any status will do).
wait_http() {
    local name=$1 url=$2 pid=$3 logfile=$4
    for _ in $(seq 1 240); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited while starting; its log:"
            tail -n 30 "$logfile" >&2 || true
            return 1
        fi
        local code
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
        if [[ -n "$code" && "$code" != 000 ]]; then
            return 0
        fi
        sleep 0.25
    done
    log "$name did not answer on $url within 60 s; its log:"
    tail -n 30 "$logfile" >&2 || true
    return 1
}

# Starts a command in its own session, in the background, detached from our
# stdout (the caller may be reading it), and records its pid.
start_bg() {
    local name=$1
    shift
    setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
    echo $! >"$state/$name.pid"
    echo $!
}

# ---- install ---------------------------------------------------------------

t0=$SECONDS
case "$server" in
moto)
    if ! python3 -c 'import moto.server, flask_cors' >/dev/null 2>&1; then
        log "installing moto[server] with pip"
        python3 -m pip install --quiet 'moto[server]' >&2
    fi
    ;;
s3s-fs)
    if ! command -v s3s-fs >/dev/null 2>&1; then
        log "installing s3s-fs 0.14.1 with cargo (a few minutes)"
        cargo install s3s-fs@0.14.1 --features binary --locked >&2
    fi
    ;;
*)
    log "STRATA_TEST_S3_SERVER must be moto or s3s-fs, not $server"
    exit 1
    ;;
esac
azurite="$here/node_modules/.bin/azurite-blob"
if [[ ! -x "$azurite" ]]; then
    log "installing Azurite with npm into tests/servers/node_modules"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
log "installed in $((SECONDS - t0)) s"

# ---- start -----------------------------------------------------------------

s3_port="$(free_port)"
case "$server" in
moto)
    s3_pid="$(start_bg s3 python3 -m moto.server -H 127.0.0.1 -p "$s3_port")"
    ;;
s3s-fs)
    mkdir -p "$state/s3-data/$bucket"
    s3_pid="$(start_bg s3 s3s-fs --host 127.0.0.1 --port "$s3_port" \
        --access-key "$s3_key" --secret-key "$s3_secret" "$state/s3-data")"
    ;;
esac

az_port="$(free_port)"
mkdir -p "$state/azurite-data"
az_pid="$(start_bg azurite "$azurite" --blobHost 127.0.0.1 --blobPort "$az_port" \
    --location "$state/azurite-data" --skipApiVersionCheck --disableTelemetry --silent)"

wait_http "$server" "http://127.0.0.1:$s3_port/" "$s3_pid" "$state/s3.log"
wait_http azurite "http://127.0.0.1:$az_port/$az_account?comp=list" "$az_pid" "$state/azurite.log"

# ---- bucket and container --------------------------------------------------

if [[ "$server" == moto ]]; then
    # moto accepts unsigned requests; s3s-fs serves each folder as a bucket.
    curl -sf -X PUT "http://127.0.0.1:$s3_port/$bucket" -o /dev/null
fi

# Azure needs a Shared Key signed request; object_store never creates containers.
python3 - "$az_port" "$az_account" "$az_key" "$container" <<'PY'
import base64, hashlib, hmac, sys, urllib.error, urllib.request
from email.utils import formatdate

port, account, key, container = sys.argv[1:]
date = formatdate(usegmt=True)
version = "2021-08-06"
to_sign = "\n".join(
    ["PUT"] + [""] * 11
    + [f"x-ms-date:{date}", f"x-ms-version:{version}",
       f"/{account}/{account}/{container}", "restype:container"]
)
signature = base64.b64encode(
    hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()
).decode()
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/{account}/{container}?restype=container",
    method="PUT",
    headers={
        "x-ms-date": date,
        "x-ms-version": version,
        "Content-Length": "0",
        "Authorization": f"SharedKey {account}:{signature}",
    },
)
try:
    urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError as e:
    if e.code != 409:  # 409: it exists already
        sys.exit(f"creating the Azurite container failed: {e.code} {e.read()[:300]!r}")
PY

log "$server on 127.0.0.1:$s3_port (bucket $bucket), Azurite on 127.0.0.1:$az_port (container $container); state in $state"

cat <<EOF
export STRATA_TEST_SERVERS_DIR='$state'
export STRATA_TEST_S3_SERVER='$server'
export STRATA_TEST_S3_ENDPOINT='http://127.0.0.1:$s3_port'
export STRATA_TEST_S3_BUCKET='$bucket'
export STRATA_TEST_S3_REGION='$region'
export STRATA_TEST_S3_ACCESS_KEY_ID='$s3_key'
export STRATA_TEST_S3_SECRET_ACCESS_KEY='$s3_secret'
export STRATA_TEST_AZURE_ENDPOINT='http://127.0.0.1:$az_port/$az_account'
export STRATA_TEST_AZURE_ACCOUNT='$az_account'
export STRATA_TEST_AZURE_ACCESS_KEY='$az_key'
export STRATA_TEST_AZURE_CONTAINER='$container'
export AZURITE_BLOB_STORAGE_URL='http://127.0.0.1:$az_port'
EOF
