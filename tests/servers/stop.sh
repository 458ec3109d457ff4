#!/usr/bin/env bash
# Stops the servers tests/servers/start.sh started: only the pids it recorded
# in $STRATA_TEST_SERVERS_DIR (or the folder given as the first argument),
# then removes that folder.
set -uo pipefail
state="${1:-${STRATA_TEST_SERVERS_DIR:-}}"
if [[ -z "$state" || ! -d "$state" ]]; then
    exit 0
fi
for pidfile in "$state"/*.pid; do
    [[ -e "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    # Each server runs in its own session (setsid): end its process group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
done
for pidfile in "$state"/*.pid; do
    [[ -e "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
done
case "$state" in
*/strata-test-servers.*) rm -rf "$state" ;;
esac
