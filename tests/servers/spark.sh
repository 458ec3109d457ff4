#!/usr/bin/env bash
# A Spark standalone cluster on 127.0.0.1 for the Spark engine's tests
# (issue 17): one master and two workers (1 core, 1 GiB each), run from the
# pyspark package of `python3` (pip install pyspark==4.3.0; Java 17 on PATH
# or in JAVA_HOME).
#
#   tests/servers/spark.sh start       starts them, waits until both workers
#                                      are registered, prints the exports:
#       STRATA_TEST_SPARK_MASTER   spark://127.0.0.1:PORT
#       SPARK_HOME                 the pyspark package folder (bin/spark-submit)
#       STRATA_TEST_SPARK_DIR      state: logs, pids, the workers' work dirs
#   tests/servers/spark.sh stop [DIR]  stops only what start started (the pids
#                                      recorded in DIR, default
#                                      $STRATA_TEST_SPARK_DIR), removes DIR
#   tests/servers/spark.sh executors [APP_ID]
#                                      prints the executor JVMs the workers
#                                      run, one a line: PID WORKER APP_ID EXECUTOR_ID
#
# Use it like tests/servers/start.sh:
#   source tests/servers/spark.sh start      # exports into this shell
#   eval "$(tests/servers/spark.sh start)"   # as a program it prints them
#
# Everything listens on 127.0.0.1 only (SPARK_LOCAL_IP), on free ports: the
# master's RPC port and web UI (its /json/ tells when the workers are in),
# each worker's RPC port and web UI. Work dirs (one folder per application
# and executor, with the executor's stdout and stderr) are
# $STRATA_TEST_SPARK_DIR/worker-N.
#
# Executors inherit the workers' environment, as on a real cluster: store
# credentials must be there, not in task payloads. If the S3 test server's
# variables are set (source tests/servers/start.sh first), the workers get
# them as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
#
# Killing an executor in the middle of a task (the test of Spark's retry):
# an executor is a CoarseGrainedExecutorBackend JVM, a child of its worker's
# JVM. Either take one from `spark.sh executors <app id>` and kill -9 it, or,
# most precisely, kill the executor that runs a given `host task` process:
#
#   executor_of() {   # pid of the executor JVM above process $1
#       local p=$1
#       while [[ $p -gt 1 ]]; do
#           grep -q CoarseGrainedExecutorBackend "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return 0; }
#           p=$(awk '{print $4}' "/proc/$p/stat")
#       done
#       return 1
#   }
#   kill -9 "$(executor_of "$(pgrep -f 'host task' | head -1)")"
#
# The worker reports the executor lost ("ExecutorLostFailure (executor 1
# exited caused by one of the running tasks) Reason: Command exited with code
# 137"), the master starts a new executor on that worker, and Spark runs the
# lost task again, on whichever executor is free; that attempt counts against
# spark.task.maxFailures like any failure. The executor's python worker and
# its `host task` child get SIGHUP from pyspark's daemon when the executor's
# pipe to it closes, so no orphan keeps running.

cmd="${1:-}"

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced (`source spark.sh start`): do the work in a child bash, so the
    # caller's shell options and traps are left alone, then take its exports.
    if [[ "$cmd" != start ]]; then
        echo "tests/servers/spark.sh: source it only with 'start'" >&2
        return 1
    fi
    __strata_spark_env="$(bash "${BASH_SOURCE[0]}" start)" || {
        echo "tests/servers/spark.sh: could not start the Spark cluster (see above)" >&2
        unset __strata_spark_env
        return 1
    }
    eval "$__strata_spark_env"
    unset __strata_spark_env
    return 0
fi

set -euo pipefail
log() { echo "[spark cluster] $*" >&2; }

workers=2
worker_cores=1
worker_memory=1g

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---- stop ------------------------------------------------------------------

stop() {
    local state="${1:-${STRATA_TEST_SPARK_DIR:-}}"
    if [[ -z "$state" || ! -d "$state" ]]; then
        return 0
    fi
    local pidfile pid
    # Workers first (each takes its executors with it), then the master.
    for pidfile in "$state"/worker-*.pid "$state"/master.pid; do
        [[ -e "$pidfile" ]] || continue
        pid="$(cat "$pidfile")"
        # Each daemon runs in its own session (setsid), its executors in its
        # process group: end the group.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pidfile in "$state"/worker-*.pid "$state"/master.pid; do
        [[ -e "$pidfile" ]] || continue
        pid="$(cat "$pidfile")"
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    case "$state" in
    */strata-test-spark.*) rm -rf "$state" ;;
    esac
}

# ---- executors -------------------------------------------------------------

executors() {
    local app="${1:-}" state="${STRATA_TEST_SPARK_DIR:?run start first (STRATA_TEST_SPARK_DIR)}"
    local pidfile worker wpid pid args
    for pidfile in "$state"/worker-*.pid; do
        [[ -e "$pidfile" ]] || continue
        worker="$(basename "$pidfile" .pid)"
        wpid="$(cat "$pidfile")"
        for pid in $(pgrep -P "$wpid" -f CoarseGrainedExecutorBackend || true); do
            args="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || continue
            local this_app executor
            this_app="$(sed -n 's/.*--app-id \([^ ]*\).*/\1/p' <<<"$args")"
            executor="$(sed -n 's/.*--executor-id \([^ ]*\).*/\1/p' <<<"$args")"
            [[ -z "$app" || "$app" == "$this_app" ]] || continue
            echo "$pid $worker $this_app $executor"
        done
    done
}

# ---- start -----------------------------------------------------------------

start() {
    local spark_home
    spark_home="$(python3 -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')" || {
        log "python3 has no pyspark: python3 -m pip install pyspark==4.3.0"
        return 1
    }
    if ! command -v java >/dev/null && [[ -z "${JAVA_HOME:-}" ]]; then
        log "no java on PATH and no JAVA_HOME (Spark 4 needs Java 17 or 21)"
        return 1
    fi
    local state="${STRATA_TEST_SPARK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/strata-test-spark.XXXXXX")}"
    mkdir -p "$state"

    export SPARK_HOME="$spark_home"
    # Bind and advertise loopback only (RPC, block manager and web UIs).
    export SPARK_LOCAL_IP=127.0.0.1
    # The daemons' logs go to their stderr (our log files), no conf dir of
    # the user's is read.
    export SPARK_CONF_DIR="$state/conf"
    mkdir -p "$SPARK_CONF_DIR"
    # The master's REST submission server would take the fixed port 6066
    # (two clusters on one machine collide); spark-submit does not need it.
    export SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false"
    # Workers remove finished applications' work dirs after a day, not
    # never (a test run leaves a folder per application and executor).
    export SPARK_WORKER_OPTS="-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.appDataTtl=86400"
    # Store credentials for the executors: theirs, as on a real cluster.
    if [[ -n "${STRATA_TEST_S3_ACCESS_KEY_ID:-}" ]]; then
        export AWS_ACCESS_KEY_ID="$STRATA_TEST_S3_ACCESS_KEY_ID"
        export AWS_SECRET_ACCESS_KEY="$STRATA_TEST_S3_SECRET_ACCESS_KEY"
        export AWS_REGION="${STRATA_TEST_S3_REGION:-us-east-1}"
    fi

    local t0=$SECONDS master_port master_ui
    master_port="$(free_port)"
    master_ui="$(free_port)"
    local master="spark://127.0.0.1:$master_port"
    setsid "$spark_home/bin/spark-class" org.apache.spark.deploy.master.Master \
        --host 127.0.0.1 --port "$master_port" --webui-port "$master_ui" \
        >"$state/master.log" 2>&1 </dev/null &
    echo $! >"$state/master.pid"

    local i
    for i in $(seq 1 "$workers"); do
        mkdir -p "$state/worker-$i"
        setsid "$spark_home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
            --host 127.0.0.1 --port "$(free_port)" --webui-port "$(free_port)" \
            --cores "$worker_cores" --memory "$worker_memory" \
            --work-dir "$state/worker-$i" "$master" \
            >"$state/worker-$i.log" 2>&1 </dev/null &
        echo $! >"$state/worker-$i.pid"
    done

    # Wait until the master's /json/ counts every worker alive (JVM start
    # on 2 busy cores: 10-30 s).
    local alive=0
    for _ in $(seq 1 480); do
        for pidfile in "$state"/master.pid "$state"/worker-*.pid; do
            if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
                local name
                name="$(basename "$pidfile" .pid)"
                log "$name exited while starting; its log:"
                tail -n 30 "$state/$name.log" >&2 || true
                stop "$state"
                return 1
            fi
        done
        alive="$(curl -s --max-time 2 "http://127.0.0.1:$master_ui/json/" |
            python3 -c 'import json, sys; print(json.load(sys.stdin).get("aliveworkers", 0))' 2>/dev/null || echo 0)"
        [[ "$alive" == "$workers" ]] && break
        sleep 0.25
    done
    if [[ "$alive" != "$workers" ]]; then
        log "only $alive of $workers workers registered within 120 s; the master's log:"
        tail -n 30 "$state/master.log" >&2 || true
        stop "$state"
        return 1
    fi
    log "master $master (UI http://127.0.0.1:$master_ui), $workers workers ($worker_cores core, $worker_memory each) up in $((SECONDS - t0)) s; state in $state"

    cat <<EOF
export STRATA_TEST_SPARK_MASTER='$master'
export STRATA_TEST_SPARK_MASTER_UI='http://127.0.0.1:$master_ui'
export SPARK_HOME='$spark_home'
export STRATA_TEST_SPARK_DIR='$state'
EOF
}

case "$cmd" in
start) start ;;
stop) stop "${2:-}" ;;
executors) executors "${2:-}" ;;
*)
    echo "usage: tests/servers/spark.sh start | stop [DIR] | executors [APP_ID]" >&2
    exit 2
    ;;
esac
