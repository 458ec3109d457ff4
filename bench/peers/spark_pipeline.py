#!/usr/bin/env python3
"""The transactions pipeline in PySpark, local mode, written the way a
notebook does it: read each day's JSON response, explode the records, cast,
dropDuplicates, keep the latest version per id with a row_number window,
groupBy, and write each layer partitioned by date. `--mode heal` scans the
layers' partition folders for missing days and recomputes only those
(dynamic partition overwrite, so the other days stay as they are).
"""
import sys
from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402

RECORD = StructType([
    StructField("id", StringType()),
    StructField("customer_id", LongType()),
    StructField("amount", StringType()),
    StructField("currency", StringType()),
    StructField("status", StringType()),
    StructField("merchant", StringType()),
    StructField("updated_at", StringType()),
])
RESPONSE = StructType([StructField("records", ArrayType(RECORD)),
                       StructField("next_cursor", StringType())])


def spark_session():
    return (SparkSession.builder.master("local[*]").appName("strata-bench")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
            .config("spark.driver.memory", "6g")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())


def read_day(spark, day, files):
    raw = spark.read.schema(RESPONSE).option("multiLine", True).json([str(f) for f in files])
    r = F.col("r")
    return (raw.select(F.explode("records").alias("r"))
            .select(F.lit(day).alias("date"), r.id.alias("id"), r.customer_id.alias("customer_id"),
                    r.amount.cast("decimal(12,2)").alias("amount"),
                    r.currency.alias("currency"), r.status.alias("status"),
                    r.merchant.alias("merchant"),
                    F.to_timestamp(r.updated_at).alias("updated_at")))


def bronze(spark, days):
    return reduce(DataFrame.unionByName, [read_day(spark, d, fs) for d, fs in sorted(days.items())])


def silver(df):
    latest = Window.partitionBy("date", "id").orderBy(F.col("updated_at").desc())
    return (df.filter(F.col("id").isNotNull())
            .dropDuplicates()
            .withColumn("merchant", F.lower(F.trim(F.col("merchant"))))
            .withColumn("rn", F.row_number().over(latest))
            .filter(F.col("rn") == 1).drop("rn"))


def settled(df):
    return df.filter(F.col("status") == "settled")


def daily(df):
    return (settled(df).groupBy("date", "currency")
            .agg(F.count(F.lit(1)).alias("transactions"), F.sum("amount").alias("total"),
                 F.avg("amount").alias("average"), F.max("amount").alias("largest")))


def rolling(spark, df, ends):
    per_day = (settled(df).groupBy("date", "currency")
               .agg(F.count(F.lit(1)).alias("n"), F.sum("amount").alias("s"))
               .withColumn("day", F.to_date("date")).drop("date"))
    days = spark.createDataFrame([(d,) for d in ends], ["date"]).withColumn("end", F.to_date("date"))
    joined = days.join(per_day, (per_day.day <= days.end)
                       & (per_day.day > F.date_sub(days.end, common.WINDOW)))
    return (joined.groupBy("date", "currency")
            .agg(F.sum("n").alias("transactions"), F.sum("s").alias("total")))


def read_layer(spark, out, layer, days):
    root = out / common.LAYERS[layer]
    paths = [str(common.folder(out, layer, d)) for d in days]
    return spark.read.option("basePath", str(root)).parquet(*paths)


def write(df, out, layer):
    df.write.mode("overwrite").partitionBy("date").parquet(str(out / common.LAYERS[layer]))


def main():
    args = common.parse_args(__doc__)
    days = common.landing_days(args.landing)
    layers = common.layers_for(args)
    order = sorted(days)
    out = args.out
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    try:
        if args.mode == "full":
            for layer in layers:
                common.fresh_dir(out / common.LAYERS[layer])
            b = bronze(spark, days)
            write(b, out, "bronze")
            s = silver(read_layer(spark, out, "bronze", order))
            write(s, out, "silver")
            if "daily" in layers:
                s = read_layer(spark, out, "silver", order)
                write(daily(s), out, "daily")
                write(rolling(spark, s, order), out, "rolling")
            return
        todo = common.missing(out, "bronze", order)
        if todo:
            write(bronze(spark, {d: days[d] for d in todo}), out, "bronze")
        todo = common.missing(out, "silver", order)
        if todo:
            write(silver(read_layer(spark, out, "bronze", todo)), out, "silver")
        if "daily" not in layers:
            return
        todo = common.missing(out, "daily", order)
        if todo:
            write(daily(read_layer(spark, out, "silver", todo)), out, "daily")
        todo = common.missing(out, "rolling", order)
        if todo:
            need = sorted({d for end in todo for d in common.window(end, order)})
            write(rolling(spark, read_layer(spark, out, "silver", need), todo), out, "rolling")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
