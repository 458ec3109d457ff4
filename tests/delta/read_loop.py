"""Reads a Delta table's latest version over and over until STOP_FILE
exists, printing one JSON line per read: the version and the rows per
partition value, or the error.

    python3 read_loop.py TABLE_DIR STOP_FILE

Exit status 3 when the deltalake package is missing.
"""

import json
import os
import sys

try:
    from deltalake import DeltaTable, QueryBuilder
except ImportError as e:
    print(f"missing Python package: {e}", file=sys.stderr)
    sys.exit(3)

path, stop = sys.argv[1], sys.argv[2]
while True:
    # Checked before the read, so the read after the stop file appears is
    # still made: there is always at least one.
    last = os.path.exists(stop)
    try:
        table = DeltaTable(path)
        result = (
            QueryBuilder()
            .register("t", table)
            .execute("select cast(date as varchar) as d, count(*) as n from t group by 1")
            .read_all()
        )
        rows = dict(zip(result.column("d").to_pylist(), result.column("n").to_pylist()))
        line = {"version": table.version(), "rows": rows}
    except Exception as e:  # every failed read is reported, not hidden
        line = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(line), flush=True)
    if last:
        break
