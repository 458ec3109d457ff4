"""Strata's PySpark driver: runs the host's waves of tasks on a Spark cluster.

`host run --engine spark` writes this file to a temporary folder and starts

    spark-submit --master M [--conf k=v ...] <tmp>/driver.py

in client mode. The host keeps the plan, the lease and every commit; this
program only asks Spark to execute tasks, each one `host task` on an
executor, and hands the results back.

Protocol (one JSON object per line, UTF-8):

  host -> driver, on spark-submit's stdin:
      {"wave": N, "tasks": [{"id": "<opaque>", "payload": {...}}, ...]}
      {"done": true}                      (or EOF: the same)
  driver -> host, on spark-submit's stdout, exactly one line per wave:
      STRATA-WAVE {"wave": N, "results": [{"id": ..., "result": {...},
                   "executor": "...", "attempt": 0}, ...]}
      STRATA-WAVE {"wave": N, "error": "<why the Spark job failed>"}

Results come in the order of the wave's tasks. Everything else (Spark's
log, Python warnings) goes to stderr.

Why the /proc dance below: spark-submit (PythonRunner) starts this script as
a child of its JVM with a stdin of its own that nobody writes to, and with
our stderr merged into our stdout, both copied to the JVM's stdout. So the
host's pipes are not ours. On Linux they are still the JVM's fds 0 and 1,
which we open through /proc/<parent>/fd; and we point our own fds 1 and 2 at
the JVM's stderr, so the host's stdout carries the protocol lines only.

Python 3.11, pyspark 4.3.0.
"""

import json
import os
import subprocess
import sys

PREFIX = "STRATA-WAVE "
# How much of a failed `host task`'s stderr travels back in the exception.
STDERR_TAIL_LINES = 20


# ---- on the executors -------------------------------------------------------


class HostTaskFailed(Exception):
    """`host task` exited non-zero or was killed: an infrastructure failure.

    Raising it fails the Spark task, so Spark runs it again (up to
    spark.task.maxFailures attempts). A plugin's own failure is not this:
    `host task` reports it inside its result and exits 0, since running a
    deterministic failure again is useless.
    """


def run_task(task):
    """Runs one task: `host task` with the payload on its stdin.

    Runs in a Python worker on an executor, so it only uses what it imports
    itself. The executor's environment is the worker's own plus Spark's
    spark.executorEnv.* settings: store credentials come from there, never
    from the payload.
    """
    from pyspark import TaskContext

    host = os.environ.get("STRATA_HOST_BIN") or "host"
    proc = subprocess.run(
        [host, "task"],
        input=json.dumps(task["payload"]).encode(),
        capture_output=True,
    )
    if proc.returncode != 0:
        # A negative code is a signal (-9: killed, e.g. by the OOM killer).
        tail = proc.stderr.decode(errors="replace").splitlines()[-STDERR_TAIL_LINES:]
        # The tail indented, so the driver finds where the message starts.
        raise HostTaskFailed(
            f"host task for {task['id']} exited with {proc.returncode}; "
            f"its stderr ends with:\n" + "\n".join("    " + line for line in tail)
        )
    try:
        result = json.loads(proc.stdout)
    except ValueError as e:
        # Also an infrastructure failure (a truncated write, a wrong binary).
        raise HostTaskFailed(
            f"host task for {task['id']} printed no JSON result ({e}): "
            f"{proc.stdout[:500]!r}"
        ) from None
    return {
        "id": task["id"],
        "result": result,
        "executor": executor_name(),
        "attempt": TaskContext.get().attemptNumber(),
    }


def executor_name():
    """Which executor ran the task, as "<executor id>@<host>:<work dir>".

    A Python worker's working directory is its executor's work dir
    (<worker work dir>/<app id>/<executor id> on a standalone cluster, also
    under local-cluster), which tells executors and workers apart even when
    they all run on one machine. The Python side has no executor id API.
    """
    import socket

    cwd = os.getcwd()
    parent = os.path.basename(os.path.dirname(cwd))
    executor_id = os.path.basename(cwd) if parent.startswith("app-") else "?"
    return f"{executor_id}@{socket.gethostname()}:{cwd}"


# ---- on the driver ----------------------------------------------------------


def host_channel():
    """The host's pipes: (lines from the host, file for protocol lines)."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        # Started by plain `python3 driver.py` (pyspark then starts its own
        # JVM): the pipes are ours. Keep stdout for the protocol.
        out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
        return sys.stdin, out
    jvm = f"/proc/{os.getppid()}/fd"
    if not os.path.isdir(jvm):
        sys.exit("strata driver: needs Linux's /proc to reach spark-submit's stdin and stdout")
    stdin = open(f"{jvm}/0", "r", encoding="utf-8")
    # Append mode: a pipe does not care, a file is not truncated.
    out = open(f"{jvm}/1", "a", encoding="utf-8")
    err = os.open(f"{jvm}/2", os.O_WRONLY | os.O_APPEND)
    os.dup2(err, 1)
    os.dup2(err, 2)
    os.close(err)
    return stdin, out


def spark_conf():
    from pyspark import SparkConf, SparkContext

    # Connect to spark-submit's JVM first: only then does SparkConf() load
    # its --master and --conf. A SparkConf made before is empty, and whatever
    # is set in it overrides spark-submit's values, so setIfMissing would
    # override the user's --conf and never see the master.
    SparkContext._ensure_initialized()
    conf = SparkConf()
    # A name to find the run by in the master's UI and the event logs;
    # spark-submit's default is the script's file name (`--name` wins).
    if conf.get("spark.app.name", "") in ("", os.path.basename(sys.argv[0])):
        conf.setAppName("strata")
    # The host reports progress itself; a UI would only open another port
    # (and fail or wander to the next port when several runs share a machine).
    conf.setIfMissing("spark.ui.enabled", "false")
    # On one machine, executors reach the driver on the loopback address.
    # Without it Spark picks the address the hostname resolves to or an
    # interface's ("resolves to a loopback address ... using 192.0.2.2"),
    # listening beyond loopback. A real cluster needs the routable default.
    if is_loopback_master(conf.get("spark.master", "")):
        conf.setIfMissing("spark.driver.host", "127.0.0.1")
    return conf


def is_loopback_master(master):
    """local, local[..], local-cluster[..], or spark:// on 127.0.0.1/localhost only."""
    if master.startswith("local"):
        return True
    if not master.startswith("spark://"):
        return False
    hosts = [h.rsplit(":", 1)[0] for h in master[len("spark://"):].split(",")]
    return all(h in ("127.0.0.1", "localhost", "[::1]") for h in hosts)


def job_error(e):
    """A short reason for a failed job, from Spark's message.

    Spark 4's message is either the last attempt's own exception ("[PYTHON_EXCEPTION]
    ... Traceback ... HostTaskFailed: host task for X exited with 3 ...") or
    "Job aborted due to stage failure: Task 1 in stage 0.0 failed 4 times,
    most recent failure: ..." (a lost executor, ...), followed by Java frames.
    Keeps the text before the Python traceback and the exception after its
    last frame; drops the frames of both.
    """
    java = getattr(e, "java_exception", None)  # py4j's Py4JJavaError
    lines = str(java.getMessage() if java is not None else e).split("\n")
    # Cut at the first Java frame or "Driver stacktrace:".
    java_part = (i for i, line in enumerate(lines) if line.startswith("\tat ") or line == "Driver stacktrace:")
    lines = lines[: next(java_part, len(lines))]
    traceback = (i for i, line in enumerate(lines) if "Traceback (most recent call last):" in line)
    start = next(traceback, None)
    if start is not None:
        head = lines[start].split("Traceback (most recent call last):")[0]
        # Frames are indented; the exception starts at the last unindented line.
        rest = lines[start + 1 :]
        last = max((i for i, line in enumerate(rest) if line and not line[0].isspace()), default=0)
        lines = [head + rest[last]] + rest[last + 1 :]
    return "\n".join(line for line in lines if line.strip() not in ("", "SQLSTATE: 38000"))[:4000]


def main():
    host_in, host_out = host_channel()

    from pyspark import SparkContext

    sc = SparkContext(conf=spark_conf())
    try:
        for line in host_in:
            if not line.strip():
                continue
            message = json.loads(line)
            if message.get("done"):
                break
            wave, tasks = message["wave"], message["tasks"]
            reply = {"wave": wave}
            try:
                sc.setJobDescription(f"strata wave {wave}: {len(tasks)} tasks")
                # One slice per task: each task is its own Spark task, retried
                # and placed on its own.
                reply["results"] = (
                    sc.parallelize(tasks, numSlices=len(tasks)).map(run_task).collect()
                    if tasks
                    else []
                )
            except Exception as e:  # the job failed (py4j's Py4JJavaError)
                reply = {"wave": wave, "error": job_error(e)}
            host_out.write(PREFIX + json.dumps(reply) + "\n")
            host_out.flush()
    finally:
        sc.stop()


if __name__ == "__main__":
    main()
