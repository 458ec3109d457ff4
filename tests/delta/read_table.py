"""Reads one Strata dataset as a Delta table with a real Delta reader.

    python3 read_table.py READER TABLE_DIR [VERSION]

READER is `deltalake` (delta-rs through its SQL engine), `polars`
(`scan_delta`) or `duckdb` (`delta_scan`, the extension from the
duckdb-ext-delta wheel, so nothing is downloaded). Prints one JSON object:
the table's columns, and its rows per partition value (`date`, or `all`
for an unpartitioned table) as the reader counted them. VERSION reads an
older version (time travel); DuckDB's delta_scan reads the latest only.
Exit status 3 when the reader's Python package is missing.
"""

import json
import os
import sys


def with_deltalake(path, version):
    from deltalake import DeltaTable, QueryBuilder

    table = DeltaTable(path, version=version)
    columns = [f.name for f in table.schema().fields]
    partitioned = "date" in table.metadata().partition_columns
    key = "cast(date as varchar)" if partitioned else "'all'"
    result = (
        QueryBuilder()
        .register("t", table)
        .execute(f"select {key} as d, count(*) as n from t group by 1")
        .read_all()
    )
    rows = dict(zip(result.column("d").to_pylist(), result.column("n").to_pylist()))
    return columns, rows


def with_polars(path, version):
    import polars as pl

    frame = pl.scan_delta(path, version=version)
    columns = frame.collect_schema().names()
    if "date" in columns:
        counts = frame.group_by(pl.col("date").cast(pl.String)).len().collect()
        rows = dict(zip(counts["date"].to_list(), counts["len"].to_list()))
    else:
        rows = {"all": frame.select(pl.len()).collect().item()}
    return columns, rows


def with_duckdb(path, version):
    import duckdb

    if version is not None:
        raise SystemExit("delta_scan reads the latest version only")
    import importlib.util

    # The duckdb-ext-delta wheel ships the extension inside site-packages.
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(3)
    extensions = os.path.join(list(spec.submodule_search_locations)[0], "extensions")
    con = duckdb.connect(config={"extension_directory": extensions, "autoinstall_known_extensions": False})
    con.execute("LOAD delta")
    escaped = path.replace("'", "''")
    columns = [d[0] for d in con.execute(f"SELECT * FROM delta_scan('{escaped}') LIMIT 0").description]
    key = "cast(date as varchar)" if "date" in columns else "'all'"
    result = con.execute(f"SELECT {key}, count(*) FROM delta_scan('{escaped}') GROUP BY 1").fetchall()
    return columns, {d: n for d, n in result}


READERS = {"deltalake": with_deltalake, "polars": with_polars, "duckdb": with_duckdb}


def main():
    reader, path = sys.argv[1], sys.argv[2]
    version = int(sys.argv[3]) if len(sys.argv) > 3 else None
    try:
        columns, rows = READERS[reader](path, version)
    except ImportError as e:
        print(f"missing Python package: {e}", file=sys.stderr)
        sys.exit(3)
    print(json.dumps({"columns": columns, "rows": rows}, sort_keys=True))


main()
