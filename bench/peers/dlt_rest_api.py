#!/usr/bin/env python3
"""Scenario 11's peer: dlt's declarative REST API source loading the fake
API of bench/fakeapi.py into Parquet files (filesystem destination).

The way dlt's docs load one request per day: a small parent resource yields
the days, with dlt's incremental on its `date` field, and the rest_api
resource resolves its `date` query parameter from each of them; the days'
fetches run in parallel (`parallelized`, dlt's extract workers = the
concurrency), the pages of one day follow the cursor one after the other.
A rerun with the same pipeline state yields no new day and so fetches
nothing. Typed like Strata's bronze (decimal amounts, UTC timestamps).

    dlt_rest_api.py --api http://127.0.0.1:PORT --start 2025-01-01 --days 365 \\
        --concurrency 8 --out DIR --state DIR

Prints one JSON line: the rows dlt normalized per table and the seconds of
each of its steps (extract, normalize, load).
"""
import argparse
import json
import os
from datetime import date, timedelta
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", required=True)
    ap.add_argument("--start", type=date.fromisoformat, required=True)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True, help="the filesystem destination's folder")
    ap.add_argument("--state", type=Path, required=True, help="dlt's pipelines_dir (its local state)")
    a = ap.parse_args()

    # Config through dlt's environment variables, read when the pipeline runs.
    os.environ["EXTRACT__WORKERS"] = str(a.concurrency)
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # no traffic but to the fake API
    import dlt
    from dlt.sources.rest_api import rest_api_source

    end = a.start + timedelta(days=a.days - 1)

    @dlt.resource(selected=False)
    def days(day=dlt.sources.incremental("date", initial_value=a.start.isoformat())):
        d = date.fromisoformat(day.start_value)
        while d <= end:
            # a page of one item: rest_api's children take pages of parents
            yield [{"date": d.isoformat()}]
            d += timedelta(days=1)

    source = rest_api_source({
        "client": {
            "base_url": a.api,
            "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"},
        },
        "resources": [
            days,
            {
                "name": "transactions",
                "endpoint": {
                    "path": "transactions",
                    "params": {"date": "{resources.days.date}"},
                    "data_selector": "records",
                },
                "parallelized": True,
                "columns": {
                    "id": {"data_type": "text", "nullable": True},
                    "customer_id": {"data_type": "bigint", "nullable": True},
                    "amount": {"data_type": "decimal", "precision": 12, "scale": 2},
                    "currency": {"data_type": "text"},
                    "status": {"data_type": "text"},
                    "merchant": {"data_type": "text", "nullable": True},
                    "updated_at": {"data_type": "timestamp"},
                },
            },
        ],
    }, name="bench_api")

    pipeline = dlt.pipeline(
        pipeline_name="bench_ingest",
        pipelines_dir=str(a.state),
        destination=dlt.destinations.filesystem(bucket_url=a.out.resolve().as_uri()),
        dataset_name="bench",
        progress="log" if os.environ.get("BENCH_DLT_PROGRESS") else None,
    )
    pipeline.run(source, loader_file_format="parquet")
    trace = pipeline.last_trace
    rows = trace.last_normalize_info.row_counts if trace.last_normalize_info else {}
    steps = {s.step: (s.finished_at - s.started_at).total_seconds() for s in trace.steps}
    print(json.dumps({"rows": {k: v for k, v in rows.items() if not k.startswith("_dlt")},
                      "steps": steps}))


if __name__ == "__main__":
    main()
