#!/usr/bin/env python3
"""Seeded workload for the benchmarks: D days of customer-transaction API
responses, R records a day, shaped like examples/transactions (one JSON
object per day, records in the field `records`).

What each day holds, on purpose (the same ingredients as the example, at
scale):
- amounts as decimal strings;
- exact duplicate records (API pages that overlapped), about 2%;
- late corrections: the same id again further down the day's response with
  a later updated_at and a new status or amount, about 2.5%;
- nulls: missing customer ids (a third) and merchants (a sixth), and a few
  records without an id (about 0.2%, dropped by silver);
- messy merchant names (surrounding spaces, mixed case);
- on three days the API sent local times with a +02:00 offset, and on those
  days some corrections carry a Z timestamp: a bronze plugin that ignores
  offsets picks a different latest version for those ids (scenario 4).

No two versions of one id share an updated_at instant, so "the latest
version" is well defined for every engine (no tie-breaking by row order).

Deterministic: every day has its own generator seeded from (seed, day), so a
day's bytes do not depend on how many days are generated.

    generate.py --days 30 --rows 200000 --out DIR            # DIR/transactions-YYYY-MM-DD.json from 2025-01-01
    generate.py --pages 120 --rows 100000 --day 2025-03-01 --out DIR
                                                              # one day as pages: DIR/big-2025-03-01-p0001.json …
"""
import argparse
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

START = date(2025, 1, 1)
SEED = 20250201
MERCHANTS = ["Coffee Corner", "  Book Nook", "GROCER & CO ", "coffee corner", "Rail Pass",
             "rail pass ", "Cinema City", "  Late Night Deli", None]
MERCHANT_JSON = [json.dumps(m) for m in MERCHANTS]
CURRENCIES = ["EUR", "EUR", "EUR", "USD", "GBP"]
STATUSES = ["settled", "settled", "settled", "pending"]
PLUS_TWO = timezone(timedelta(hours=2))


def offset_days(days):
    """The three days whose timestamps carry +02:00 (fewer if D < 3)."""
    if days < 3:
        return set(range(days))
    return {days // 6, days // 2, (5 * days) // 6}


class Stamper:
    """Formats a second-of-day as the API did that day; caches nothing
    fancy: the formatting is the hot loop of the generator."""

    def __init__(self, day):
        self.base = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)

    def utc(self, seconds):
        return (self.base + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def local(self, seconds):
        return (self.base + timedelta(seconds=seconds)).astimezone(PLUS_TWO).isoformat()


def records_for(rng, day, rows, offset, id_prefix):
    """One response's records as JSON lines (without separators)."""
    stamp = Stamper(day)
    fmt = stamp.local if offset else stamp.utc
    n_dups = rows // 50
    n_fixes = rows // 40
    n_utc_fixes = max(3, rows // 400) if offset else 0
    n_no_id = rows // 500
    n_base = max(1, rows - n_dups - n_fixes - n_utc_fixes - n_no_id)

    # Per base record: [id, customer, amount_cents, currency, status, merchant_index, seconds]
    base = []
    used = []  # instants (seconds) taken by versions of each id
    out = []   # (id_json, customer, cents, currency, status, merchant_i, stamp_text)
    for i in range(n_base):
        seconds = rng.randint(0, 20 * 3600)
        cust = rng.randint(1000, 99999) if rng.random() < 0.67 else None
        rec = [f'"{id_prefix}-{i:07d}"', cust, rng.randint(100, 25000), rng.choice(CURRENCIES),
               rng.choice(STATUSES), rng.randrange(len(MERCHANTS)), seconds]
        base.append(rec)
        used.append({seconds})
        out.append((rec[0], cust, rec[2], rec[3], rec[4], rec[5], fmt(seconds)))

    def later_instant(i, delta):
        t = base[i][6] + delta
        while t in used[i]:
            t += 1
        used[i].add(t)
        return t

    for _ in range(n_dups):
        out.append(out[rng.randrange(len(out))])
    for _ in range(n_fixes):
        i = rng.randrange(n_base)
        rec = base[i]
        t = later_instant(i, rng.randint(600, 3 * 3600))
        cents = rec[2] + rng.choice([-500, 0, 1000])
        out.append((rec[0], rec[1], cents, rec[3], rng.choice(["settled", "refunded"]), rec[5], fmt(t)))
    # Corrections sent in UTC 30 to 90 minutes after the original in real
    # time, but earlier on the clock face than its +02:00 local time.
    for _ in range(n_utc_fixes):
        i = rng.randrange(n_base)
        rec = base[i]
        t = later_instant(i, rng.randint(1800, 5400))
        out.append((rec[0], rec[1], rec[2], rec[3], "refunded", rec[5], stamp.utc(t)))
    for _ in range(n_no_id):
        rec = base[rng.randrange(n_base)]
        out.append(("null", rec[1], rec[2], rec[3], rec[4], rec[5], fmt(rec[6])))

    lines = []
    for id_json, cust, cents, cur, status, m, ts in out:
        sign = "-" if cents < 0 else ""
        c = abs(cents)
        lines.append(
            f'{{"id": {id_json}, "customer_id": {"null" if cust is None else cust}, '
            f'"amount": "{sign}{c // 100}.{c % 100:02d}", "currency": "{cur}", '
            f'"status": "{status}", "merchant": {MERCHANT_JSON[m]}, "updated_at": "{ts}"}}'
        )
    return lines


def write_response(path, lines, next_cursor=None):
    cursor = "null" if next_cursor is None else json.dumps(next_cursor)
    with open(path, "w") as f:
        f.write('{"records": [\n')
        f.write(",\n".join(lines))
        f.write(f'\n], "next_cursor": {cursor}}}\n')


def generate_days(out, days, rows, seed=SEED, start=START):
    out.mkdir(parents=True, exist_ok=True)
    offsets = offset_days(days)
    for d in range(days):
        day = start + timedelta(days=d)
        rng = random.Random(seed * 1000 + d)
        lines = records_for(rng, day, rows, d in offsets, f"tx-{day:%Y%m%d}")
        write_response(out / f"transactions-{day:%Y-%m-%d}.json", lines)


def generate_pages(out, day, pages, rows, seed=SEED):
    """One day delivered as `pages` responses of `rows` records, with ids
    unique across pages (duplicates and corrections stay within a page)."""
    out.mkdir(parents=True, exist_ok=True)
    for p in range(pages):
        rng = random.Random(seed * 7919 + p)
        lines = records_for(rng, day, rows, False, f"tx-{day:%Y%m%d}-p{p:04d}")
        nxt = None if p + 1 == pages else f"page-{p + 2}"
        write_response(out / f"big-{day:%Y-%m-%d}-p{p + 1:04d}.json", lines, nxt)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--days", type=int)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--pages", type=int)
    ap.add_argument("--day", type=date.fromisoformat, default=date(2025, 3, 1))
    ap.add_argument("--start", type=date.fromisoformat, default=START)
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    if a.pages:
        generate_pages(a.out, a.day, a.pages, a.rows, a.seed)
    else:
        generate_days(a.out, a.days, a.rows, a.seed, a.start)


if __name__ == "__main__":
    main()
