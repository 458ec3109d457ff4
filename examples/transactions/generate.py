#!/usr/bin/env python3
"""Writes the example's landing files: one JSON API response per day.

Deterministic (fixed seed), so the shipped files can be regenerated exactly:
    python3 examples/transactions/generate.py

What the data has, on purpose:
- amounts as decimal strings, as payment APIs send them;
- exact duplicate records (the API pages overlapped);
- late corrections: the same id again later in the day's file with a newer
  updated_at and a new status or amount;
- nulls: missing customer ids and merchants, and a few records with no id;
- messy merchant names (spaces, case);
- on three days the API sent local times with a +02:00 offset, and on those
  days some corrections carry a Z timestamp: reading the offset wrongly
  changes which version of a record is the latest.
"""
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

START = date(2025, 2, 1)
DAYS = 16
OFFSET_DAYS = {date(2025, 2, 6), date(2025, 2, 11), date(2025, 2, 14)}
MERCHANTS = ["Coffee Corner", "  Book Nook", "GROCER & CO ", "coffee corner", "Rail Pass", None]
CURRENCIES = ["EUR", "EUR", "EUR", "USD", "GBP"]


def stamp(day, seconds, offset):
    t = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    if offset:
        local = t.astimezone(timezone(timedelta(hours=2)))
        return local.isoformat()
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day_records(rng, day):
    offset = day in OFFSET_DAYS
    records = []
    n = rng.randint(28, 40)
    for i in range(n):
        seconds = rng.randint(0, 20 * 3600)
        rec = {
            "id": f"tx-{day:%m%d}-{i:03d}",
            "customer_id": rng.choice([rng.randint(1000, 1099), rng.randint(1000, 1099), None]),
            "amount": f"{rng.randint(100, 25000) / 100:.2f}",
            "currency": rng.choice(CURRENCIES),
            "status": rng.choice(["settled", "settled", "settled", "pending"]),
            "merchant": rng.choice(MERCHANTS),
            "updated_at": stamp(day, seconds, offset),
        }
        records.append((seconds, rec))
    # Exact duplicates.
    for _ in range(rng.randint(2, 4)):
        records.append(rng.choice(records))
    # Late corrections: a later version of an earlier record.
    for _ in range(rng.randint(2, 5)):
        seconds, rec = rng.choice(records[:n])
        fixed = dict(rec)
        later = seconds + rng.randint(600, 3 * 3600)
        fixed["status"] = rng.choice(["settled", "refunded"])
        fixed["amount"] = f"{float(rec['amount']) + rng.choice([-5, 0, 10]):.2f}"
        fixed["updated_at"] = stamp(day, later, offset)
        records.append((later, fixed))
    if offset:
        # Corrections sent in UTC, 30 to 90 minutes after the original in
        # real time, but earlier on the clock face than its local time.
        for _ in range(3):
            seconds, rec = rng.choice(records[:n])
            fixed = dict(rec)
            fixed["status"] = "refunded"
            fixed["updated_at"] = stamp(day, seconds + rng.randint(1800, 5400), False)
            records.append((seconds, fixed))
    # Records without an id: dropped by silver.
    for _ in range(rng.randint(0, 2)):
        _, rec = rng.choice(records[:n])
        broken = dict(rec)
        broken["id"] = None
        records.append((0, broken))
    return [r for _, r in records]


def main():
    rng = random.Random(20250201)
    out = Path(__file__).parent / "landing"
    out.mkdir(exist_ok=True)
    for d in range(DAYS):
        day = START + timedelta(days=d)
        body = {"records": day_records(rng, day), "next_cursor": None}
        path = out / f"transactions-{day:%Y-%m-%d}.json"
        path.write_text(json.dumps(body, indent=1) + "\n")


if __name__ == "__main__":
    main()
