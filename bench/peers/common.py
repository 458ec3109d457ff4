"""What the three peer pipelines share: the command line, the layout of
their output (Hive-partitioned Parquet, like Strata's store) and the scan
for missing partitions that their heal mode uses.

Every peer writes

    OUT/bronze/transactions/date=YYYY-MM-DD/*.parquet
    OUT/silver/transactions/date=…/*.parquet
    OUT/gold/daily_totals/date=…/*.parquet
    OUT/gold/rolling_7d/date=…/*.parquet

with the same columns and types as the Strata pipeline (bench/strata/),
the date only in the folder name.

Modes:
- `full`: recompute every layer from the landing files (the first build,
  the rerun of scenario 2 and the fix of scenario 4 are all this);
- `heal`: list each layer's partition folders, and recompute only the days
  that are missing there, layer by layer (scenario 3).
"""
import argparse
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")
LAYERS = {
    "bronze": "bronze/transactions",
    "silver": "silver/transactions",
    "daily": "gold/daily_totals",
    "rolling": "gold/rolling_7d",
}
WINDOW = 7


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--landing", required=True, type=Path, help="folder of landing JSON files")
    ap.add_argument("--out", required=True, type=Path, help="output root")
    ap.add_argument("--mode", choices=["full", "heal"], default="full")
    ap.add_argument("--layers", choices=["all", "bronze-silver"], default="all",
                    help="bronze-silver: stop after silver (scenario 7)")
    return ap.parse_args()


def landing_days(landing):
    """{day: [files]} of the landing folder (a day may have several pages)."""
    days = {}
    for f in sorted(landing.iterdir()):
        m = DAY.search(f.name)
        if m and f.suffix == ".json":
            days.setdefault(m.group(1), []).append(f)
    return days


def folder(out, layer, day):
    return out / LAYERS[layer] / f"date={day}"


def present(out, layer):
    """Days whose partition folder holds a Parquet file."""
    root = out / LAYERS[layer]
    if not root.is_dir():
        return set()
    return {p.name[5:] for p in root.iterdir()
            if p.name.startswith("date=") and any(p.glob("*.parquet"))}


def missing(out, layer, days):
    have = present(out, layer)
    return [d for d in days if d not in have]


def window(day, days):
    """The days of the 7-day window ending at `day` that the pipeline has."""
    d = date.fromisoformat(day)
    wanted = {(d - timedelta(days=i)).isoformat() for i in range(WINDOW)}
    return [x for x in days if x in wanted]


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def layers_for(args):
    return ["bronze", "silver"] if args.layers == "bronze-silver" else list(LAYERS)
