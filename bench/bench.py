#!/usr/bin/env python3
"""Runs the benchmark scenarios of issue 7 and writes docs/benchmarks.md.

Called by bench/run (which builds everything and sets up the peers' virtual
environment); run that, not this. Every system computes the same medallion
pipeline on the same generated landing files:

    strata   target/release/host with the shipped plugins (bench/work/SCALE/strata)
    duckdb   bench/peers/duckdb_pipeline.py
    polars   bench/peers/polars_pipeline.py
    spark    bench/peers/spark_pipeline.py (PySpark, local mode)

and scenario 11 (raw ingestion from bench/fakeapi.py, a paginated REST API on
127.0.0.1 with a fixed latency) compares Strata's http source with dlt's
rest_api source (bench/peers/dlt_rest_api.py).

Each timed command runs under /usr/bin/time -v (peak RSS: the largest single
process of the command's tree). Systems alternate within every round, the
first system rotating from round to round, so background load hits all
alike; the 1-minute load average is recorded before every run.
"""
import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# Overridable for trying the bench out against other builds (not used by bench/run).
# bench/run sets BENCH_TARGET_DIR to target/release, or target/debug for the CI smoke run.
TARGET = Path(os.environ.get("BENCH_TARGET_DIR", ROOT / "target/release"))
HOST = Path(os.environ.get("BENCH_HOST", TARGET / "host"))
WASM_BENCH = TARGET / "strata-bench-wasm"
NATIVE_BENCH = {p: TARGET / f"bench-native-{p}"
                for p in ("json-to-table", "clean-dedupe", "aggregate")}
WASM_OUT = ROOT / "plugins/target/wasm32-wasip2"
PLUGIN_FILES = {
    "json_to_table.wasm": WASM_OUT / "release/json_to_table.wasm",
    "json_to_table_legacy.wasm": WASM_OUT / "variant/json_to_table.wasm",
    "clean_dedupe.wasm": WASM_OUT / "release/clean_dedupe.wasm",
    "aggregate.wasm": WASM_OUT / "release/aggregate.wasm",
}
if os.environ.get("BENCH_PLUGINS"):
    PLUGIN_FILES = {name: Path(os.environ["BENCH_PLUGINS"]) / name for name in PLUGIN_FILES}
PY = sys.executable
START = date(2025, 1, 1)
BIG_DAY = date(2025, 3, 1)
PLANNER_START = date(2015, 1, 1)
# Scenario 11: the fake API's shape and the concurrency both systems get.
INGEST = dict(pages=3, latency=0.05, concurrency=8)

SCALES = {
    # seconds in all; the CI smoke run
    "small": dict(days=10, rows=1_000, rounds=1, planner_days=365, big_pages=4, big_rows=20_000,
                  s6_days=2, s6_iters=3, s7_rounds=1, timeout=900, ingest_days=30, ingest_rows=100),
    "medium": dict(days=30, rows=50_000, rounds=3, planner_days=3650, big_pages=110,
                   big_rows=100_000, s6_days=3, s6_iters=5, s7_rounds=1, timeout=3600,
                   ingest_days=365, ingest_rows=200,
                   reuse_full=("spark",), s7_skip=("spark",)),
    # 30 days x 200,000 records: about 1.1 GB of raw JSON
    "large": dict(days=30, rows=200_000, rounds=3, planner_days=3650, big_pages=110,
                  big_rows=100_000, s6_days=3, s6_iters=5, s7_rounds=1, timeout=7200,
                  ingest_days=365, ingest_rows=200,
                  reuse_full=("spark",), s7_skip=("spark",)),
}

COLUMNS = [
    {"name": "id", "type": "utf8", "nullable": True},
    {"name": "customer_id", "type": "int64", "nullable": True},
    {"name": "amount", "type": "decimal128(12,2)", "nullable": False},
    {"name": "currency", "type": "utf8", "nullable": False},
    {"name": "status", "type": "utf8", "nullable": False},
    {"name": "merchant", "type": "utf8", "nullable": True},
    {"name": "updated_at", "type": "timestamp-us-utc", "nullable": False},
]
PARAMS = {
    "bronze": {"records_field": "records", "columns": COLUMNS},
    "silver": {"key": "id", "order_by": "updated_at", "trim": ["merchant"], "lowercase": ["merchant"]},
    "daily": {"group_by": ["currency"], "filter": {"column": "status", "equals": "settled"},
              "aggregates": [{"fn": "count", "as": "transactions"},
                             {"column": "amount", "fn": "sum", "as": "total"},
                             {"column": "amount", "fn": "avg", "as": "average"},
                             {"column": "amount", "fn": "max", "as": "largest"}]},
    "rolling": {"group_by": ["currency"], "filter": {"column": "status", "equals": "settled"},
                "aggregates": [{"fn": "count", "as": "transactions"},
                               {"column": "amount", "fn": "sum", "as": "total"}]},
}


# Copies a folder into an S3 bucket under a prefix; run by the system
# Python, which has boto3 with moto (tests/servers/start.sh installs it).
S3_UPLOAD = """
import concurrent.futures, os, sys
from pathlib import Path
import boto3
root, endpoint, bucket, prefix = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
files = [p for p in root.rglob("*") if p.is_file() and "_strata" not in p.parts]
def put(p):
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{p.relative_to(root).as_posix()}", Body=p.read_bytes())
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(put, files))
print(len(files))
"""


# ---------------------------------------------------------------- helpers

def log(msg):
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


# The checks of examples/transactions/pipeline.toml: freshness on raw (a
# warning: the workload is historical), and on silver unique ids, amounts
# not null, accepted currencies and the 7-day volume.
EXAMPLE_CHECKS = {
    "raw": ['check = "freshness"', 'max_age = "2d"', 'severity = "warn"'],
    "silver": [
        ['check = "unique"', 'columns = ["id"]'],
        ['check = "not_null"', 'columns = ["amount"]'],
        ['check = "accepted_values"', 'column = "currency"', 'values = ["EUR", "USD", "GBP"]'],
        ['check = "volume"', 'window = 7', 'max_change = 0.5'],
    ],
}


def pipeline_toml(start, end, landing, pattern, plugins, bronze_plugin="json_to_table.wasm",
                  gold=True, memory=None, checks=False, tables=None):
    lines = [
        "# Generated by bench/bench.py: the examples/transactions pipeline on the bench workload.",
        "[store]", 'url = "store"', "",
        "[partitions]", 'every = "day"', f'start = "{start}"', f'end = "{end}"', 'settle = "2h"', "",
    ]
    if tables:
        lines += ["[tables]", f'format = "{tables}"', ""]
    if memory:
        lines += ["[limits]", f'memory = "{memory}"', ""]

    def dataset(layer, name, plugin, inputs, params):
        out = ["[[datasets]]", f'layer = "{layer}"', f'name = "{name}"',
               f'plugin = "{plugins / plugin}"', f"inputs = {toml_value(inputs)}",
               "[datasets.params]"]
        out += [f"{k} = {toml_value(v)}" for k, v in params.items()]
        return out + [""]

    lines += ["[[datasets]]", 'layer = "raw"', 'name = "transactions"',
              f'source = {{ kind = "files", dir = "{landing}", pattern = "{pattern}" }}', ""]
    if checks:
        lines += ["[[datasets.checks]]", *EXAMPLE_CHECKS["raw"], ""]
    lines += dataset("bronze", "transactions", bronze_plugin, ["raw/transactions"], PARAMS["bronze"])
    lines += dataset("silver", "transactions", "clean_dedupe.wasm", ["bronze/transactions"], PARAMS["silver"])
    if checks:
        for check in EXAMPLE_CHECKS["silver"]:
            lines += ["[[datasets.checks]]", *check, ""]
    if gold:
        lines += dataset("gold", "daily_totals", "aggregate.wasm", ["silver/transactions"], PARAMS["daily"])
        lines += dataset("gold", "rolling_7d", "aggregate.wasm",
                         [{"dataset": "silver/transactions", "window": 7}], PARAMS["rolling"])
    return "\n".join(lines)


def manifest_files(dataset_dir):
    """The data files a Strata dataset's manifests name: what the dataset
    holds. (A glob would also see files that replaced partitions keep for
    the Delta table's retention.)"""
    files = []
    for manifest in sorted(Path(dataset_dir).glob("*/_manifest.json")):
        m = json.loads(manifest.read_text())
        files += [str(manifest.parent / f["path"]) for f in m["files"]]
    return files


class Failed(Exception):
    pass


def loadavg():
    return float(Path("/proc/loadavg").read_text().split()[0])


def tree_rss_kib(root):
    """Summed RSS of a process and all its descendants, from /proc."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def timed(cmd, timeout, cwd=None, env=None):
    """Runs cmd under /usr/bin/time -v: (seconds, peak RSS MiB, stdout, load before).

    Peak RSS is the larger of GNU time's (the largest single process it
    waited for) and the summed RSS of the whole process tree sampled every
    50 ms, which also sees processes nobody waits for, such as PySpark's JVM.
    """
    load = loadavg()
    start = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-v", *map(str, cmd)], cwd=cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss_kib(p.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - start
    rss = re.findall(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if p.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-40:])
        raise Failed(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{tail}")
    peak_kib = max([peak[0]] + [int(x) for x in rss[-1:]])
    return seconds, peak_kib / 1024, stdout, load


def run(cmd, timeout, **kw):
    p = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise Failed(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-4000:]}")
    return p.stdout


def parse_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def rm(*paths):
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def summary(samples):
    secs = [s["seconds"] for s in samples]
    rss = [s["rss_mib"] for s in samples if s["rss_mib"] is not None]
    loads = [s["load"] for s in samples]
    return {
        "median": statistics.median(secs), "min": min(secs), "max": max(secs), "n": len(secs),
        "rss_mib": max(rss) if rss else None,
        "load": (min(loads), max(loads)),
    }


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, scale, only):
        self.scale = scale
        self.cfg = SCALES[scale]
        self.only = only
        self.work = BENCH / "work" / scale
        self.work.mkdir(parents=True, exist_ok=True)
        self.timeout = self.cfg["timeout"]
        self.landing = self.work / "landing"
        self.days = [(START + timedelta(days=i)).isoformat() for i in range(self.cfg["days"])]
        self.results = {"scale": scale, "config": self.cfg, "scenarios": {}, "notes": []}
        previous = self.work / "results.json"
        if only and previous.exists():
            # a partial rerun updates the scenarios it runs and keeps the others
            kept = json.loads(previous.read_text())
            self.results["scenarios"] = kept.get("scenarios", {})
            for k in ("gold_checks", "planner_build", "bigday_raw_fetch", "raw_ingest", "ingest_check",
                      "workload"):
                if k in kept:
                    self.results[k] = kept[k]
        wanted = os.environ.get("BENCH_PEERS", "duckdb,polars,spark,dlt").split(",")
        self.peers = [p for p in ("duckdb", "polars", "spark") if p in wanted and self.peer_available(p)]
        self.dlt_wanted = "dlt" in wanted  # scenario 11's peer
        self.strata_dir = self.work / "strata"
        self.cache = self.work / "component-cache"

    # -- setup

    def peer_available(self, name):
        module = {"duckdb": "duckdb", "polars": "polars", "spark": "pyspark"}[name]
        if importlib.util.find_spec(module) is None:
            log(f"{name}: not installed in this environment; skipped")
            return False
        if name == "spark" and shutil.which("java") is None:
            log("spark: no java on PATH; skipped")
            return False
        return True

    def generate(self):
        marker = self.landing / ".generated"
        want = json.dumps({"days": self.cfg["days"], "rows": self.cfg["rows"]})
        if marker.exists() and marker.read_text() == want:
            return
        rm(self.landing)
        log(f"generating {self.cfg['days']} days x {self.cfg['rows']} records")
        run([PY, BENCH / "generate.py", "--days", self.cfg["days"], "--rows", self.cfg["rows"],
             "--out", self.landing], self.timeout)
        marker.write_text(want)

    def setup_strata(self):
        d = self.strata_dir
        plugins = d / "plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        for name, src in PLUGIN_FILES.items():
            shutil.copyfile(src, plugins / name)
        end = self.days[-1]
        (d / "pipeline.toml").write_text(
            pipeline_toml(START, end, self.landing, "transactions-{date}.json", plugins))
        (d / "pipeline-checks.toml").write_text(
            pipeline_toml(START, end, self.landing, "transactions-{date}.json", plugins, checks=True))
        (d / "pipeline-no-tables.toml").write_text(
            pipeline_toml(START, end, self.landing, "transactions-{date}.json", plugins, tables="none"))
        (d / "pipeline-legacy.toml").write_text(
            pipeline_toml(START, end, self.landing, "transactions-{date}.json", plugins,
                          bronze_plugin="json_to_table_legacy.wasm"))
        # Compile every plugin once into the cache (`plugin inspect` loads it),
        # so no timed run pays for Cranelift.
        for name in PLUGIN_FILES:
            run([HOST, "--cache-dir", self.cache, "plugin", "inspect", plugins / name], self.timeout)

    def host(self, config, *args):
        return [HOST, "--config", config, "--cache-dir", self.cache, "-q", *args]

    def peer_cmd(self, name, landing, out, mode="full", layers="all"):
        script = BENCH / "peers" / f"{name}_pipeline.py"
        return [PY, script, "--landing", landing, "--out", out, "--mode", mode, "--layers", layers]

    def peer_out(self, name):
        return self.work / name

    # -- running a scenario

    def scenario(self, key, title, systems, rounds=None):
        """systems: {name: (prepare, command, check)}; returns the samples."""
        rounds = rounds or self.cfg["rounds"]
        uptime = run(["uptime"], 10).strip()
        log(f"{key}: {title} ({rounds} rounds; {uptime})")
        samples = {name: [] for name in systems}
        failures = {}
        names = list(systems)
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                if name in failures:
                    continue
                prepare, command, check = systems[name]
                try:
                    if prepare:
                        prepare()
                    seconds, rss, out, load = timed(command(), self.timeout)
                    note = check(out) if check else None
                except (Failed, subprocess.TimeoutExpired) as e:
                    log(f"  {name}: FAILED: {str(e)[-2000:]}")
                    failures[name] = str(e)[-3000:]
                    continue
                samples[name].append({"seconds": seconds, "rss_mib": rss, "load": load, "note": note})
                log(f"  round {r + 1} {name}: {seconds:.2f}s, {rss or 0:.0f} MiB, load {load:.1f}")
        result = {"title": title, "uptime": uptime, "rounds": rounds,
                  "systems": {n: {"samples": s, **summary(s)} for n, s in samples.items() if s},
                  "failures": failures}
        self.results["scenarios"][key] = result
        self.save()
        return result

    def save(self):
        (self.work / "results.json").write_text(json.dumps(self.results, indent=1, default=str))

    def wanted(self, key):
        return not self.only or key in self.only

    # -- output check

    def gold_check(self, label):
        """Each peer's gold against Strata's, row by row, through DuckDB."""
        import duckdb
        con = duckdb.connect()
        strata = self.strata_dir / "store"
        checks = {}
        for peer in self.peers:
            out = self.peer_out(peer)
            verdict = {}
            for table, cols in (("daily_totals", {"transactions": "BIGINT", "total": "DECIMAL(38,2)",
                                                  "average": "DECIMAL(38,6)", "largest": "DECIMAL(38,2)"}),
                                ("rolling_7d", {"transactions": "BIGINT", "total": "DECIMAL(38,2)"})):
                def q(root, files=None):
                    casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in cols.items())
                    source = f"'{root}/gold/{table}/*/*.parquet'" if files is None else \
                        "[" + ", ".join(f"'{f}'" for f in files) + "]"
                    return (f"SELECT date, currency, {casts} FROM read_parquet({source},"
                            f" hive_partitioning = true, hive_types = {{'date': VARCHAR}})")
                exact = [c for c in cols if c != "average"]
                differ = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in exact)
                avg = "max(abs(a.average - b.average))" if "average" in cols else "0"
                row = con.execute(
                    f"WITH a AS ({q(strata, manifest_files(strata / 'gold' / table))}), b AS ({q(out)}) SELECT "
                    f"(SELECT count(*) FROM a), (SELECT count(*) FROM b), "
                    f"count(*) FILTER (WHERE a.date IS NULL OR b.date IS NULL), "
                    f"count(*) FILTER (WHERE {differ}), {avg} "
                    f"FROM a FULL OUTER JOIN b ON a.date = b.date AND a.currency = b.currency").fetchone()
                rows_a, rows_b, unmatched, differing, avg_diff = row
                avg_diff = float(avg_diff or 0)
                ok = rows_a == rows_b and rows_a > 0 and unmatched == 0 and differing == 0 and avg_diff <= 1e-6
                verdict[table] = {"strata_rows": rows_a, "peer_rows": rows_b, "unmatched": unmatched,
                                  "differing": differing, "max_average_diff": avg_diff, "equal": ok}
            checks[peer] = verdict
            status = "equal" if all(v["equal"] for v in verdict.values()) else "DIFFERENT"
            log(f"  gold check ({label}) {peer}: {status} {verdict}")
        self.results.setdefault("gold_checks", {})[label] = checks
        self.save()
        return checks

    # -- scenarios 1 to 4

    def strata_json(self, out):
        report = json.loads(out)
        return {d["dataset"]: {"computed": d["computed"], "fresh": d["fresh"], "failed": d["failed"],
                               "partitions": [p["partition"] for p in d["computed_partitions"]],
                               "changed": [p["partition"] for p in d["computed_partitions"] if p["changed"]]}
                for d in report["datasets"]}

    def strata_check(self, expect):
        """A check of `host run --json` output: computed counts per dataset."""
        def check(out):
            got = self.strata_json(out)
            bad = [d for d, n in expect.items() if n is not None and got[d]["computed"] != n]
            if any(got[d]["failed"] for d in got):
                raise Failed(f"strata: failed partitions: {got}")
            if bad:
                raise Failed(f"strata computed {[(d, got[d]['computed']) for d in bad]}, expected {expect}")
            return {d: {"computed": v["computed"], "changed": len(v["changed"]),
                        "partitions": v["partitions"] if v["computed"] <= 10 else None}
                    for d, v in got.items()}
        return check

    def core_scenarios(self):
        cfg = self.strata_dir / "pipeline.toml"
        store = self.strata_dir / "store"
        D = len(self.days)
        layers = ["bronze", "silver", "gold"]

        def strata_fresh():
            rm(*(store / layer for layer in layers))

        # Raw is fetched once (a copy of the landing files); scenario 1 times
        # bronze, silver and gold from it, like the peers reading landing.
        if not (store / "raw").exists():
            seconds, rss, _, load = timed(self.host(cfg, "run", "--dataset", "raw/transactions"), self.timeout)
            self.results["raw_ingest"] = {"seconds": seconds, "rss_mib": rss, "load": load}

        full_expect = {"raw/transactions": 0, "bronze/transactions": D, "silver/transactions": D,
                       "gold/daily_totals": D, "gold/rolling_7d": D}
        systems = {"strata": (strata_fresh, lambda: self.host(cfg, "run", "--json"),
                              self.strata_check(full_expect))}
        for p in self.peers:
            systems[p] = (lambda p=p: rm(self.peer_out(p)),
                          lambda p=p: self.peer_cmd(p, self.landing, self.peer_out(p)), None)
        if self.wanted("s1"):
            self.scenario("s1", "Full build from raw", systems)
        else:
            # later scenarios need every system's full build
            built = {"strata": store / "gold"}
            for name, (prep, cmd, _) in systems.items():
                if (built.get(name) or self.peer_out(name) / "gold").exists():
                    continue
                prep()
                run(cmd(), self.timeout)
        self.gold_check("after full build")

        # A peer's rerun (scenario 2) and fix (scenario 4) are its full-build
        # command again. Where the scale says so (PySpark takes minutes a run
        # on a loaded machine) those are not run again: the tables show the
        # same command's scenario-1 runs, marked as such.
        reuse = set(self.cfg.get("reuse_full", ())) & set(self.peers)

        def reused(result):
            full = self.results["scenarios"].get("s1", {}).get("systems", {})
            for p in reuse:
                if p in full:
                    result["systems"][p] = {**full[p], "reused_from": "s1"}
            self.save()

        if self.wanted("s2"):
            nothing = {d: 0 for d in full_expect}
            systems = {"strata": (None, lambda: self.host(cfg, "run", "--json"), self.strata_check(nothing))}
            for p in self.peers:
                if p not in reuse:
                    systems[p] = (None, lambda p=p: self.peer_cmd(p, self.landing, self.peer_out(p)), None)
            reused(self.scenario("s2", "Second run, nothing changed", systems))

        # Heal: delete silver day X and every gold day that reads it.
        x = D // 2
        day = self.days[x]
        reading = self.days[x:x + 7]

        def delete_day(root):
            rm(root / f"silver/transactions/date={day}", root / f"gold/daily_totals/date={day}",
               *(root / f"gold/rolling_7d/date={d}" for d in reading))

        heal_expect = {"bronze/transactions": 0, "silver/transactions": 1, "gold/daily_totals": 1,
                       "gold/rolling_7d": len(reading)}
        if self.wanted("s3"):
            systems = {"strata": (lambda: delete_day(store), lambda: self.host(cfg, "run", "--json"),
                                  self.strata_check(heal_expect))}
            for p in self.peers:
                systems[p] = (lambda p=p: delete_day(self.peer_out(p)),
                              lambda p=p: self.peer_cmd(p, self.landing, self.peer_out(p), "heal"), None)
            r = self.scenario("s3", f"Heal: silver {day} and the {1 + len(reading)} gold partitions reading it deleted", systems)
            r["deleted"] = {"silver": [day], "daily_totals": [day], "rolling_7d": reading}
            self.gold_check("after heal")

        if self.wanted("s4"):
            legacy = self.strata_dir / "store-legacy"
            # Built anew by every invocation (untimed): a snapshot left by an
            # earlier one may hold gold from plugins that have changed since.
            rm(legacy)
            log("s4: building the store as the legacy bronze plugin left it")
            tmp = self.strata_dir / "store-legacy.tmp"
            rm(tmp)
            run(["cp", "-a", store, tmp], self.timeout)
            shutil.move(str(store), str(self.strata_dir / "store.keep"))
            shutil.move(str(tmp), str(store))
            out = run(self.host(self.strata_dir / "pipeline-legacy.toml", "run", "--json"), self.timeout)
            self.results["notes"].append({"s4 legacy build": self.strata_check({})(out)})
            shutil.move(str(store), str(legacy))
            shutil.move(str(self.strata_dir / "store.keep"), str(store))

            def restore():
                rm(store)
                store.mkdir()
                for child in legacy.iterdir():
                    # raw is never rewritten: hard links save copying it each round
                    flag = "-al" if child.name == "raw" else "-a"
                    run(["cp", flag, child, store / child.name], self.timeout)

            offsets = self.offset_days()
            fix_expect = {"bronze/transactions": D, "silver/transactions": len(offsets),
                          "gold/daily_totals": None, "gold/rolling_7d": None}
            systems = {"strata": (restore, lambda: self.host(cfg, "run", "--json"), self.strata_check(fix_expect))}
            for p in self.peers:
                if p not in reuse:
                    systems[p] = (None, lambda p=p: self.peer_cmd(p, self.landing, self.peer_out(p)), None)
            r = self.scenario("s4", f"Fix: bronze plugin swapped, output differs on {len(offsets)} of {D} days", systems)
            reused(r)
            r["offset_days"] = offsets
            self.gold_check("after fix")

    def offset_days(self):
        spec = importlib.util.spec_from_file_location("generate", BENCH / "generate.py")
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        return sorted(self.days[i] for i in gen.offset_days(len(self.days)))

    # -- scenario 5: planner scale

    def planner_scale(self):
        n = self.cfg["planner_days"]
        d = self.work / "planner"
        landing = d / "landing"
        end = PLANNER_START + timedelta(days=n - 1)
        marker = d / ".built"
        cfg = d / "pipeline.toml"
        if not marker.exists():
            rm(d)
            log(f"s5: generating {n} tiny days and building 4 x {n} partitions (untimed setup)")
            run([PY, BENCH / "generate.py", "--days", n, "--rows", 4, "--start", PLANNER_START,
                 "--out", landing], self.timeout)
            plugins = self.strata_dir / "plugins"
            text = pipeline_toml(PLANNER_START, end, landing, "transactions-{date}.json", plugins)
            text = text.split("[[datasets]]\nlayer = \"gold\"\nname = \"rolling_7d\"")[0]
            cfg.write_text(text)
            seconds, rss, out, load = timed(self.host(cfg, "run", "--json"), self.timeout * 2)
            self.results["planner_build"] = {"seconds": seconds, "rss_mib": rss, "partitions": 4 * n,
                                             "load": load, "computed": self.strata_check({})(out)}
            marker.write_text("ok")
        else:
            # Untimed: bring a store built by an earlier run up to date with
            # the plugins as they are now, so that every timed run is a no-op.
            run(self.host(cfg, "run"), self.timeout * 2)
        nothing = {"raw/transactions": 0, "bronze/transactions": 0, "silver/transactions": 0,
                   "gold/daily_totals": 0}
        systems = {
            "host status": (None, lambda: self.host(cfg, "status", "--json"), None),
            "host run (no-op)": (None, lambda: self.host(cfg, "run", "--json"), self.strata_check(nothing)),
        }
        r = self.scenario("s5", f"Planner scale: 4 datasets x {n} daily partitions, local disk", systems,
                          rounds=max(5, self.cfg["rounds"]))
        r["partitions"] = 4 * n
        self.planner_scale_s3(d, cfg, n)

    def planner_scale_s3(self, d, cfg, n):
        """The same store copied into the S3-compatible server the tests use
        (moto, started by tests/servers/start.sh on 127.0.0.1), and the same
        two commands on it: every manifest GET is an HTTP round trip there."""
        started = "STRATA_TEST_S3_ENDPOINT" not in os.environ  # CI has started them already
        if started:
            exports = run(["bash", ROOT / "tests/servers/start.sh"], 600)
            env = dict(re.findall(r"^export (\w+)='([^']*)'$", exports, re.M))
        else:
            env = {k: v for k, v in os.environ.items() if k.startswith("STRATA_TEST_")}
        try:
            log(f"s5: copying the planner store into {env['STRATA_TEST_S3_SERVER']} (untimed setup)")
            prefix = "planner"
            run(["python3", "-c", S3_UPLOAD, d / "store", env["STRATA_TEST_S3_ENDPOINT"],
                 env["STRATA_TEST_S3_BUCKET"], prefix], self.timeout,
                env={**os.environ, "AWS_ACCESS_KEY_ID": env["STRATA_TEST_S3_ACCESS_KEY_ID"],
                     "AWS_SECRET_ACCESS_KEY": env["STRATA_TEST_S3_SECRET_ACCESS_KEY"]})
            s3_cfg = d / "pipeline-s3.toml"
            store = (f'url = "s3://{env["STRATA_TEST_S3_BUCKET"]}/{prefix}"\n'
                     f'options = {{ endpoint = "{env["STRATA_TEST_S3_ENDPOINT"]}", allow_http = "true", '
                     f'region = "{env["STRATA_TEST_S3_REGION"]}" }}')
            s3_cfg.write_text(cfg.read_text().replace('url = "store"', store))
            os.environ["AWS_ACCESS_KEY_ID"] = env["STRATA_TEST_S3_ACCESS_KEY_ID"]
            os.environ["AWS_SECRET_ACCESS_KEY"] = env["STRATA_TEST_S3_SECRET_ACCESS_KEY"]
            nothing = {"raw/transactions": 0, "bronze/transactions": 0, "silver/transactions": 0,
                       "gold/daily_totals": 0}
            # The first run reads every manifest and writes the manifest
            # caches (the copy leaves out _strata/); the timed runs use them.
            run(self.host(s3_cfg, "run", "--json"), self.timeout)
            systems = {
                "host status": (None, lambda: self.host(s3_cfg, "status", "--json"), None),
                "host run (no-op)": (None, lambda: self.host(s3_cfg, "run", "--json"),
                                     self.strata_check(nothing)),
            }
            r = self.scenario("s5s3", f"Planner scale: 4 datasets x {n} daily partitions, "
                              f"S3 ({env['STRATA_TEST_S3_SERVER']} on 127.0.0.1)", systems,
                              rounds=max(3, self.cfg["rounds"]))
            r["partitions"] = 4 * n
        finally:
            if started:
                subprocess.run(["bash", ROOT / "tests/servers/stop.sh"], env={**os.environ, **env},
                               capture_output=True, timeout=60)

    # -- scenario 6: wasm vs native

    def wasm_vs_native(self):
        d = self.work / "s6"
        rm(d)
        k = min(self.cfg["s6_days"], len(self.days))
        store = self.strata_dir / "store"
        cases = {
            "json-to-table": ("raw/transactions", PARAMS["bronze"], "raw",
                              lambda day: [self.landing / f"transactions-{day}.json"], "json_to_table.wasm"),
            "clean-dedupe": ("bronze/transactions", PARAMS["silver"], "parquet",
                             lambda day: sorted((store / f"bronze/transactions/date={day}").glob("*.parquet")),
                             "clean_dedupe.wasm"),
            "aggregate": ("silver/transactions", PARAMS["daily"], "parquet",
                          lambda day: sorted((store / f"silver/transactions/date={day}").glob("*.parquet")),
                          "aggregate.wasm"),
        }
        systems = {}
        iters = self.cfg["s6_iters"]
        for plugin, (inp, params, kind, files, wasm) in cases.items():
            case = d / plugin
            case.mkdir(parents=True)
            (case / "params.json").write_text(json.dumps({"input": inp, "params": params}))
            for i, day in enumerate(self.days[:k]):
                run([WASM_BENCH, "prepare", case / f"p{i:03d}", kind, *files(day)], self.timeout)
            systems[f"{plugin} wasm"] = (None, lambda c=case, w=wasm: [WASM_BENCH, "run", self.strata_dir / "plugins" / w, c, iters], parse_lines)
            systems[f"{plugin} native"] = (None, lambda c=case, p=plugin: [NATIVE_BENCH[p], c, iters], parse_lines)
        os.environ["STRATA_CACHE_DIR"] = str(self.cache)
        r = self.scenario("s6", f"WebAssembly against native, same batches ({k} days)", systems)
        # Rows per second from the harnesses' own timing of each pass (loading
        # the batches and compiling the plugin excluded), median over all passes.
        through = {}
        for s in r["systems"].values():
            for sample in s["samples"]:
                for line in sample["note"]:
                    t = through.setdefault(line["plugin"], {}).setdefault(line["mode"], {"seconds": []})
                    t["seconds"] += line["seconds"]
                    t["rows"] = line["rows_out"] if line["plugin"] == "json-to-table" else line["rows_in"]
        for modes in through.values():
            for t in modes.values():
                t["median_seconds"] = statistics.median(t["seconds"])
                t["rows_per_second"] = t["rows"] / t["median_seconds"]
        r["throughput"] = through
        self.save()

    # -- scenario 7: one 2 GB day

    def big_day(self):
        d = self.work / "bigday"
        landing = d / "landing"
        marker = landing / ".generated"
        want = json.dumps({"pages": self.cfg["big_pages"], "rows": self.cfg["big_rows"]})
        if not (marker.exists() and marker.read_text() == want):
            rm(landing)
            log(f"s7: generating one day of {self.cfg['big_pages']} pages x {self.cfg['big_rows']} records")
            run([PY, BENCH / "generate.py", "--pages", self.cfg["big_pages"], "--rows", self.cfg["big_rows"],
                 "--day", BIG_DAY, "--out", landing], self.timeout)
            marker.write_text(want)
        raw_bytes = sum(f.stat().st_size for f in landing.glob("*.json"))
        sdir = d / "strata"
        sdir.mkdir(parents=True, exist_ok=True)
        cfg = sdir / "pipeline.toml"
        cfg.write_text(pipeline_toml(BIG_DAY, BIG_DAY, landing, "big-{date}-*.json",
                                     self.strata_dir / "plugins", gold=False, memory="4GiB"))
        store = sdir / "store"
        if not (store / "raw").exists():
            seconds, rss, _, _ = timed(self.host(cfg, "run", "--dataset", "raw/transactions"), self.timeout)
            self.results["bigday_raw_fetch"] = {"seconds": seconds, "rss_mib": rss}
        expect = {"raw/transactions": 0, "bronze/transactions": 1, "silver/transactions": 1}
        systems = {"strata": (lambda: rm(store / "bronze", store / "silver"),
                              lambda: self.host(cfg, "run", "--json"), self.strata_check(expect))}
        for p in self.peers:
            if p in self.cfg.get("s7_skip", ()):
                continue
            out = d / p
            systems[p] = (lambda out=out: rm(out),
                          lambda out=out, p=p: self.peer_cmd(p, landing, out, "full", "bronze-silver"), None)
        r = self.scenario("s7", f"One raw day of {raw_bytes / 1e9:.2f} GB through bronze and silver", systems,
                          rounds=self.cfg["s7_rounds"])
        r["raw_bytes"] = raw_bytes
        r["pages"] = self.cfg["big_pages"]

    # -- all

    def checks_cost(self):
        """Scenario 8: the full build of scenario 1 with and without the
        example's checks, alternating, on one store (raw shared)."""
        d = self.strata_dir
        store = d / "store"
        D = len(self.days)
        if not (store / "raw").exists():
            run(self.host(d / "pipeline.toml", "run", "--dataset", "raw/transactions"), self.timeout)
        expect = {"bronze/transactions": D, "silver/transactions": D,
                  "gold/daily_totals": D, "gold/rolling_7d": D}

        def fresh():
            rm(*(store / layer for layer in ("bronze", "silver", "gold")))

        systems = {
            "strata": (fresh, lambda: self.host(d / "pipeline.toml", "run", "--json"),
                       self.strata_check(expect)),
            "strata+checks": (fresh, lambda: self.host(d / "pipeline-checks.toml", "run", "--json"),
                              self.strata_check(expect)),
        }
        self.scenario("s8", "Full build with the example's checks", systems)
        fresh()

    def delta_cost(self):
        """Scenario 9: what the Delta log costs. Scenario 1's full build with
        `[tables] format = "none"` and with the default Delta tables,
        alternating on one store (raw shared); then the no-op run of each on
        the store built with tables."""
        d = self.strata_dir
        store = d / "store"
        D = len(self.days)
        if not (store / "raw").exists():
            run(self.host(d / "pipeline.toml", "run", "--dataset", "raw/transactions"), self.timeout)
        expect = {"bronze/transactions": D, "silver/transactions": D,
                  "gold/daily_totals": D, "gold/rolling_7d": D}

        def fresh():
            rm(*(store / layer for layer in ("bronze", "silver", "gold")))
            rm(d / "store" / "_strata" / "tables")

        def delta_check(expected):
            check = self.strata_check(expected)

            def both(out):
                note = check(out)
                tables = {x["dataset"]: x.get("table") for x in json.loads(out)["datasets"]}
                bad = {k: t for k, t in tables.items() if t and t.get("error")}
                if bad:
                    raise Failed(f"strata: Delta tables not updated: {bad}")
                return {"datasets": note, "tables": tables}
            return both

        systems = {
            "strata": (fresh, lambda: self.host(d / "pipeline-no-tables.toml", "run", "--json"),
                       self.strata_check(expect)),
            "strata+delta": (fresh, lambda: self.host(d / "pipeline.toml", "run", "--json"),
                             delta_check(expect)),
        }
        self.scenario("s9", "Full build with and without the Delta log", systems)
        # The no-op: the store as the Delta build left it.
        fresh()
        run(self.host(d / "pipeline.toml", "run"), self.timeout)
        nothing = {d: 0 for d in expect}
        systems = {
            "strata": (None, lambda: self.host(d / "pipeline-no-tables.toml", "run", "--json"),
                       self.strata_check(nothing)),
            "strata+delta": (None, lambda: self.host(d / "pipeline.toml", "run", "--json"),
                             delta_check(nothing)),
        }
        r = self.scenario("s9n", "No-op run with and without the Delta log", systems)
        committed = [t for s in r["systems"].get("strata+delta", {}).get("samples", [])
                     for t in (s.get("note") or {}).get("tables", {}).values() if t and t.get("committed")]
        if committed:
            raise Failed(f"a no-op run committed a Delta version: {committed}")

    def spark_cost(self):
        """Scenario 10: what running on a Spark cluster costs. Scenario 1's
        full build (bronze, silver, gold from raw already in the store) in
        this process and through `--engine spark` on a two-worker
        local-cluster on this machine, alternating on one store. On one
        machine the cluster cannot be faster: the ratio is what it costs
        (JVMs, spark-submit, a `host task` process and its plugin load per
        partition)."""
        import pyspark
        d = self.strata_dir
        store = d / "store"
        D = len(self.days)
        if not (store / "raw").exists():
            run(self.host(d / "pipeline.toml", "run", "--dataset", "raw/transactions"), self.timeout)
        expect = {"bronze/transactions": D, "silver/transactions": D,
                  "gold/daily_totals": D, "gold/rolling_7d": D}

        def fresh():
            rm(*(store / layer for layer in ("bronze", "silver", "gold")))
            rm(d / "store" / "_strata" / "tables")

        # spark-submit and Spark's jars come with the bench's pyspark; its
        # Python runs the driver program.
        env = ["env", f"SPARK_HOME={Path(pyspark.__file__).parent}", f"PYSPARK_PYTHON={PY}"]
        master = "local-cluster[2,1,1024]"
        systems = {
            "strata": (fresh, lambda: self.host(d / "pipeline.toml", "run", "--json"),
                       self.strata_check(expect)),
            "strata on spark": (fresh, lambda: env + self.host(
                d / "pipeline.toml", "run", "--json", "--engine", "spark", "--master", master),
                self.strata_check(expect)),
        }
        self.scenario("s10", "Full build here and on a two-worker Spark cluster on this machine", systems)

    # -- scenario 11: raw ingestion from a REST API

    def raw_ingestion(self):
        """Scenario 11: D days from bench/fakeapi.py (3 pages a day by cursor,
        50 ms a request) through raw and bronze, Strata's http source against
        dlt's rest_api source at the same concurrency; then a rerun with
        nothing new. The server counts the requests each run makes."""
        D, P = self.cfg["ingest_days"], INGEST["pages"]
        R, L, C = self.cfg["ingest_rows"], INGEST["latency"], INGEST["concurrency"]
        d = self.work / "ingest"
        rm(d)
        d.mkdir(parents=True)
        end = START + timedelta(days=D - 1)
        log(f"s11: starting the fake API ({D} days x {P} pages x {R} records, {L * 1000:.0f} ms a request)")
        server = subprocess.Popen([str(x) for x in (PY, BENCH / "fakeapi.py", "--start", START, "--days", D,
                                   "--pages", P, "--rows", R, "--latency-ms", L * 1000)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            if not line.startswith("listening "):
                raise Failed(f"the fake API did not start: {line!r}")
            api = "http://" + line.split()[1]
            self.ingest_scenarios(d, api, D, P, R, L, C, end)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def ingest_scenarios(self, d, api, D, P, R, L, C, end):
        import urllib.request

        def stats():
            with urllib.request.urlopen(api + "/_stats", timeout=10) as f:
                return json.loads(f.read())

        def reset():
            urllib.request.urlopen(urllib.request.Request(api + "/_reset", method="POST"), timeout=10).read()

        pages = D * P
        bronze = {"records_field": "records", "columns": COLUMNS}
        plugin = self.strata_dir / "plugins" / "json_to_table.wasm"
        # Two stores: one run with --jobs C, one with the default --jobs.
        # Strata fetches a raw partition per job, its pages one after the
        # other, so requests in flight are at most min(jobs, concurrency).
        variants = {"strata": ["--jobs", C], "strata, default --jobs": []}
        configs = {}
        for name in variants:
            sd = d / ("strata" if name == "strata" else "strata-default-jobs")
            sd.mkdir()
            configs[name] = sd / "pipeline.toml"
            configs[name].write_text("\n".join([
                "# Generated by bench/bench.py: scenario 11, the fake REST API through raw and bronze.",
                "[store]", 'url = "store"', "",
                "[partitions]", 'every = "day"', f'start = "{START}"', f'end = "{end}"', 'settle = "2h"', "",
                "[[datasets]]", 'layer = "raw"', 'name = "transactions"', "[datasets.source]",
                'kind = "http"', f'url = "{api}/transactions"', 'query = { date = "{date}" }',
                'pagination = { style = "cursor", pointer = "/next_cursor", param = "cursor" }',
                f"concurrency = {C}", "",
                "[[datasets]]", 'layer = "bronze"', 'name = "transactions"', f'plugin = "{plugin}"',
                'inputs = ["raw/transactions"]', "[datasets.params]",
                *(f"{k} = {toml_value(v)}" for k, v in bronze.items()), ""]))
        dlt_out, dlt_state = d / "dlt" / "out", d / "dlt" / "state"
        self.results.pop("ingest_check", None)  # one of an earlier invocation
        have_dlt = self.dlt_wanted and importlib.util.find_spec("dlt") is not None
        if not have_dlt:
            why = "not installed in this environment" if self.dlt_wanted else "left out by BENCH_PEERS"
            log(f"dlt: {why}; scenario 11 runs Strata alone")
            self.results["notes"].append({"s11": f"dlt {why}: skipped"})

        def served(first, note):
            st = stats()
            note = {**(note or {}), "requests": st["requests"], "in_flight_max": st["in_flight_max"],
                    "pages": st["pages"]}
            if first and st["requests"] != pages:
                raise Failed(f"{st['requests']} requests served, expected {pages}: {st}")
            return note

        def strata_check(name, first):
            computed = self.strata_check({"raw/transactions": D if first else 0,
                                          "bronze/transactions": D if first else 0})

            def check(out):
                note = served(first, {"datasets": computed(out)})
                store = configs[name].parent / "store"
                days = sorted((store / "raw/transactions").glob("date=*/_manifest.json"))
                if len(days) != D:
                    raise Failed(f"{name}: raw holds {len(days)} days, expected {D}")
                note["bronze"] = self.ingest_summary(manifest_files(store / "bronze/transactions"))
                if note["bronze"]["rows"] != pages * R:
                    raise Failed(f"{name}: bronze holds {note['bronze']['rows']} rows, expected {pages * R}")
                return note
            return check

        def dlt_check(first):
            def check(out):
                note = served(first, parse_lines(out)[-1])
                files = sorted((dlt_out / "bench" / "transactions").glob("*.parquet"))
                note["table"] = self.ingest_summary(files)
                if note["table"]["rows"] != pages * R:
                    raise Failed(f"dlt: its table holds {note['table']['rows']} rows, expected {pages * R}")
                return note
            return check

        def dlt_cmd():
            return [PY, BENCH / "peers" / "dlt_rest_api.py", "--api", api, "--start", START, "--days", D,
                    "--concurrency", C, "--out", dlt_out, "--state", dlt_state]

        def fresh(name):
            def prepare():
                rm(configs[name].parent / "store")
                reset()
            return prepare

        def dlt_fresh():
            rm(dlt_out, dlt_state)
            reset()

        first = {name: (fresh(name), lambda name=name: self.host(configs[name], "run", "--json", *variants[name]),
                        strata_check(name, True)) for name in variants}
        again = {name: (reset, lambda name=name: self.host(configs[name], "run", "--json", *variants[name]),
                        strata_check(name, False)) for name in variants}
        if have_dlt:
            first["dlt"] = (dlt_fresh, dlt_cmd, dlt_check(True))
            again["dlt"] = (reset, dlt_cmd, dlt_check(False))
        shape = dict(days=D, pages_per_day=P, records_per_page=R, latency=L, concurrency=C,
                     requests=pages,
                     # No scheduler beats C requests in flight all the time;
                     # the pages of a day follow one another (cursor), so a
                     # day can never take less than P latencies either.
                     bound_seconds=max(-(-pages // C), P) * L,
                     # A day per slot, its pages in turn, as both systems do.
                     bound_day_slots_seconds=-(-D // C) * P * L)
        r = self.scenario("s11", f"Raw ingestion: {D} days x {P} pages from a REST API at "
                          f"{L * 1000:.0f} ms a request, {C} in flight", first)
        r.update(shape)
        if have_dlt and "strata" in r["systems"] and "dlt" in r["systems"]:
            a = r["systems"]["strata"]["samples"][-1]["note"]["bronze"]
            b = r["systems"]["dlt"]["samples"][-1]["note"]["table"]
            equal = a == b
            self.results["ingest_check"] = {"strata": a, "dlt": b, "equal": equal}
            log(f"  ingest check: {'equal' if equal else 'DIFFERENT'} {a} {b}")
        r = self.scenario("s11r", "Raw ingestion again, nothing new", again)
        r.update(shape)
        self.save()

    def ingest_summary(self, files):
        """What a table of the ingested records holds, for comparing Strata's
        bronze with dlt's table: rows, distinct ids, amounts and instants."""
        import duckdb
        if not files:
            return {"rows": 0}
        row = duckdb.connect().execute(
            "SELECT count(*), count(DISTINCT id), CAST(sum(amount) AS VARCHAR), "
            "sum(epoch_us(updated_at)) FROM read_parquet(?)", [[str(f) for f in files]]).fetchone()
        return {"rows": row[0], "ids": row[1], "amount": row[2], "updated_at_us": int(row[3] or 0)}

    def machine(self):
        def out(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip() or \
                    subprocess.run(cmd, capture_output=True, text=True, timeout=60).stderr.strip()
            except (OSError, subprocess.TimeoutExpired):
                return "n/a"
        cpu = next((l.split(":", 1)[1].strip() for l in out(["lscpu"]).splitlines()
                    if l.startswith("Model name")), platform.processor())
        mem = out(["free", "-g"]).splitlines()[1].split()[1] + " GiB"
        versions = {"host": out([HOST, "--version"]), "rustc": out(["rustc", "--version"]),
                    "python": platform.python_version(),
                    "java": out(["java", "-version"]).splitlines()[0]}
        for mod in ("duckdb", "polars", "pyspark", "dlt"):
            try:
                versions[mod] = __import__(mod).__version__
            except ImportError:
                versions[mod] = "not installed"
        lock = (ROOT / "Cargo.lock").read_text()
        m = re.search(r'name = "wasmtime"\nversion = "([^"]+)"', lock)
        versions["wasmtime"] = m.group(1) if m else "?"
        self.results["machine"] = {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
                                   "kernel": platform.release(), "disk": out(["df", "-h", str(self.work)]).splitlines()[-1],
                                   "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
        self.results["versions"] = versions
        install = BENCH / "work" / "dlt-install.json"
        if install.exists():
            self.results["dlt_install"] = json.loads(install.read_text())
        raw = sum(f.stat().st_size for f in self.landing.glob("*.json"))
        if raw or "workload" not in self.results:  # a run of scenario 11 alone generates no landing files
            self.results["workload"] = {"days": len(self.days), "rows_per_day": self.cfg["rows"], "raw_bytes": raw}

    def all(self):
        started = time.time()
        # Scenario 11 brings its own data (the fake API) and needs no full build.
        standalone = bool(self.only) and self.only <= {"s11"}
        if not standalone:
            self.generate()
        self.setup_strata()
        self.machine()
        if not standalone:
            self.core_scenarios()
        if self.wanted("s5"):
            self.planner_scale()
        if self.wanted("s6"):
            self.wasm_vs_native()
        if self.wanted("s7"):
            self.big_day()
        if self.wanted("s8"):
            self.checks_cost()
        if self.wanted("s9"):
            self.delta_cost()
        if self.wanted("s10"):
            self.spark_cost()
        if self.wanted("s11"):
            self.raw_ingestion()
        self.results["total_seconds"] = time.time() - started
        self.save()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scale", choices=SCALES)
    ap.add_argument("--only", default="", help="comma-separated scenarios, e.g. s1,s5 (default: all)")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    a = ap.parse_args()
    bench = Bench(a.scale, {s for s in a.only.split(",") if s})
    bench.all()
    if not a.no_doc:
        sys.path.insert(0, str(BENCH))
        import report
        report.write(bench.results, ROOT / "docs" / "benchmarks.md")
    failed = [(k, n) for k, s in bench.results["scenarios"].items() for n in s["failures"]]
    checks = bench.results.get("gold_checks", {})
    different = [(label, peer) for label, c in checks.items() for peer, v in c.items()
                 if not all(t["equal"] for t in v.values())]
    ingest = bench.results.get("ingest_check")
    if ingest and not ingest["equal"]:
        different.append(("raw ingestion", "dlt"))
    log(f"done in {bench.results['total_seconds']:.0f}s; failures: {failed or 'none'}; "
        f"gold differences: {different or 'none'}")
    # A peer that could not be installed was left out before any scenario;
    # every system that runs must succeed and compute the same gold (and
    # dlt load the same records as Strata's bronze).
    if failed or different:
        sys.exit(1)


if __name__ == "__main__":
    main()
