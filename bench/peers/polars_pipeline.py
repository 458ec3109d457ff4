#!/usr/bin/env python3
"""The transactions pipeline in Polars: read the day files, explode and
unnest the records, cast, keep the latest version per id, aggregate, and
write Hive-partitioned Parquet. `--mode heal` recomputes only the day
folders that are missing.
"""
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402

RECORD = pl.Struct({
    "id": pl.String, "customer_id": pl.Int64, "amount": pl.String, "currency": pl.String,
    "status": pl.String, "merchant": pl.String, "updated_at": pl.String,
})
SCHEMA = {"records": pl.List(RECORD), "next_cursor": pl.String}


def bronze(days):
    frames = []
    for day, files in days.items():
        for f in files:
            frames.append(pl.read_json(f, schema=SCHEMA).lazy()
                          .select(pl.col("records").explode()).unnest("records")
                          .with_columns(pl.lit(day).alias("date")))
    ts = pl.col("updated_at").str.replace(r"Z$", "+00:00")
    return (pl.concat(frames)
            .select("date", "id", "customer_id",
                    pl.col("amount").str.to_decimal(scale=2).cast(pl.Decimal(12, 2)),
                    "currency", "status", "merchant",
                    ts.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_unit="us", time_zone="UTC")
                    .alias("updated_at")))


def silver(lf):
    return (lf.filter(pl.col("id").is_not_null())
            .with_columns(pl.col("merchant").str.strip_chars().str.to_lowercase())
            .sort("updated_at", descending=True)
            .unique(subset=["date", "id"], keep="first", maintain_order=False))


def daily(lf):
    return (lf.filter(pl.col("status") == "settled").group_by("date", "currency")
            .agg(pl.len().cast(pl.Int64).alias("transactions"),
                 pl.col("amount").sum().alias("total"),
                 (pl.col("amount").sum().cast(pl.Decimal(38, 6)) / pl.len()).alias("average"),
                 pl.col("amount").max().alias("largest")))


def rolling(lf, days):
    per_day = (lf.filter(pl.col("status") == "settled").group_by("date", "currency")
               .agg(pl.len().alias("n"), pl.col("amount").sum().alias("s"))
               .with_columns(pl.col("date").str.to_date().alias("day")))
    ends = pl.LazyFrame({"end": days}).with_columns(pl.col("end").str.to_date())
    return (ends.join(per_day, how="cross")
            .filter((pl.col("day") <= pl.col("end"))
                    & (pl.col("day") > pl.col("end") - pl.duration(days=common.WINDOW)))
            .group_by("end", "currency")
            .agg(pl.col("n").sum().cast(pl.Int64).alias("transactions"),
                 pl.col("s").sum().alias("total"))
            .select(pl.col("end").dt.strftime("%Y-%m-%d").alias("date"), "currency",
                    "transactions", "total"))


def write_partitioned(df, out, layer):
    root = out / common.LAYERS[layer]
    for (day,), part in df.partition_by("date", as_dict=True).items():
        target = common.folder(out, layer, day)
        common.fresh_dir(target)
        part.drop("date").write_parquet(target / "data_0.parquet")


def read_layer(out, layer, days):
    files = [str(f) for d in days for f in common.folder(out, layer, d).glob("*.parquet")]
    return pl.concat([pl.scan_parquet(f).with_columns(pl.lit(Path(f).parent.name[5:]).alias("date"))
                      for f in files])


def main():
    args = common.parse_args(__doc__)
    days = common.landing_days(args.landing)
    layers = common.layers_for(args)
    order = sorted(days)
    out = args.out
    if args.mode == "full":
        for layer in layers:
            common.fresh_dir(out / common.LAYERS[layer])
        b = bronze(days).collect()
        write_partitioned(b, out, "bronze")
        s = silver(b.lazy()).collect()
        write_partitioned(s, out, "silver")
        if "daily" in layers:
            write_partitioned(daily(s.lazy()).collect(), out, "daily")
            write_partitioned(rolling(s.lazy(), order).collect(), out, "rolling")
        return
    todo = common.missing(out, "bronze", order)
    if todo:
        write_partitioned(bronze({d: days[d] for d in todo}).collect(), out, "bronze")
    todo = common.missing(out, "silver", order)
    if todo:
        write_partitioned(silver(read_layer(out, "bronze", todo)).collect(), out, "silver")
    if "daily" not in layers:
        return
    todo = common.missing(out, "daily", order)
    if todo:
        write_partitioned(daily(read_layer(out, "silver", todo)).collect(), out, "daily")
    for day in common.missing(out, "rolling", order):
        src = read_layer(out, "silver", common.window(day, order))
        write_partitioned(rolling(src, [day]).collect(), out, "rolling")


if __name__ == "__main__":
    main()
