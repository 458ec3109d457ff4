#!/usr/bin/env python3
"""The transactions pipeline as a DuckDB SQL script: bronze, silver, gold
as tables in one in-process database, each written as Hive-partitioned
Parquet. `--mode heal` recomputes only the day folders that are missing.
"""
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402

# The records' JSON structure. Each response is one JSON object holding an
# array of 50,000+ records; DuckDB's read_json turns such a document into a
# STRUCT list several times slower than reading the file as text and
# converting it with from_json, so the script does the latter.
RECORD = ('[{"id": "VARCHAR", "customer_id": "BIGINT", "amount": "VARCHAR", "currency": "VARCHAR", '
          '"status": "VARCHAR", "merchant": "VARCHAR", "updated_at": "VARCHAR"}]')

BRONZE = f"""
SELECT regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})', 1) AS date,
       r.id AS id,
       r.customer_id AS customer_id,
       CAST(r.amount AS DECIMAL(12,2)) AS amount,
       r.currency AS currency,
       r.status AS status,
       r.merchant AS merchant,
       CAST(r.updated_at AS TIMESTAMPTZ) AS updated_at
FROM (SELECT filename, unnest(from_json(CAST(content AS JSON)->'records', '{RECORD}')) AS r
      FROM read_text($files))
"""

SILVER = """
SELECT date, id, customer_id, amount, currency, status,
       lower(trim(merchant)) AS merchant, updated_at
FROM {src}
WHERE id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY date, id ORDER BY updated_at DESC) = 1
"""

# avg as an exact decimal: sum / count at scale 6, rounded half away from
# zero (what the shipped aggregate plugin does), not a double.
DAILY = """
SELECT date, currency, count(*) AS transactions, sum(amount) AS total,
       CAST((abs(CAST(sum(amount) * 100 AS HUGEINT)) * 20000 + count(*)) // (2 * count(*))
            * sign(sum(amount)) AS DECIMAL(38,0)) * CAST(0.000001 AS DECIMAL(38,6)) AS average,
       max(amount) AS largest
FROM {src}
WHERE status = 'settled'
GROUP BY date, currency
"""

ROLLING = """
WITH per_day AS (
    SELECT CAST(date AS DATE) AS day, currency, count(*) AS n, sum(amount) AS s
    FROM {src} WHERE status = 'settled' GROUP BY ALL),
days AS (SELECT CAST(d AS DATE) AS day FROM unnest($days) AS t(d))
SELECT strftime(days.day, '%Y-%m-%d') AS date, currency,
       CAST(sum(n) AS BIGINT) AS transactions, sum(s) AS total
FROM days JOIN per_day ON per_day.day BETWEEN days.day - INTERVAL 6 DAY AND days.day
GROUP BY ALL
"""


def bronze_params(files):
    return {"files": [str(f) for f in files]}


def write_partitioned(con, sql, root, params=None):
    root.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO '{root}' (FORMAT parquet, PARTITION_BY (date), "
                f"OVERWRITE_OR_IGNORE true)", params or {})


def write_day(con, sql, out, layer, day, params=None):
    target = common.folder(out, layer, day)
    common.fresh_dir(target)
    con.execute(f"COPY (SELECT * EXCLUDE (date) FROM ({sql})) TO '{target}/data_0.parquet' "
                f"(FORMAT parquet)", params or {})


def parquet_of(out, layer, days):
    files = [str(common.folder(out, layer, d) / "*.parquet") for d in days]
    listing = ", ".join(f"'{f}'" for f in files)
    return f"read_parquet([{listing}], hive_partitioning = true, hive_types = {{'date': VARCHAR}})"


def full(con, args, days, layers):
    files = [str(f) for fs in days.values() for f in fs]
    for layer in layers:
        common.fresh_dir(args.out / common.LAYERS[layer])
    con.execute(f"CREATE TABLE bronze AS {BRONZE}", bronze_params(files))
    write_partitioned(con, "SELECT * FROM bronze", args.out / common.LAYERS["bronze"])
    con.execute(f"CREATE TABLE silver AS {SILVER.format(src='bronze')}")
    write_partitioned(con, "SELECT * FROM silver", args.out / common.LAYERS["silver"])
    if "daily" in layers:
        write_partitioned(con, DAILY.format(src="silver"), args.out / common.LAYERS["daily"])
        write_partitioned(con, ROLLING.format(src="silver"), args.out / common.LAYERS["rolling"],
                          {"days": sorted(days)})


def heal(con, args, days, layers):
    order = sorted(days)
    for day in common.missing(args.out, "bronze", order):
        write_day(con, BRONZE, args.out, "bronze", day, bronze_params(days[day]))
    for day in common.missing(args.out, "silver", order):
        write_day(con, SILVER.format(src=parquet_of(args.out, "bronze", [day])), args.out, "silver", day)
    if "daily" not in layers:
        return
    for day in common.missing(args.out, "daily", order):
        write_day(con, DAILY.format(src=parquet_of(args.out, "silver", [day])), args.out, "daily", day)
    for day in common.missing(args.out, "rolling", order):
        src = parquet_of(args.out, "silver", common.window(day, order))
        sql = f"SELECT * FROM ({ROLLING.format(src=src)}) WHERE date = '{day}'"
        write_day(con, sql, args.out, "rolling", day, {"days": [day]})


def main():
    args = common.parse_args(__doc__)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    days = common.landing_days(args.landing)
    layers = common.layers_for(args)
    (full if args.mode == "full" else heal)(con, args, days, layers)


if __name__ == "__main__":
    main()
