#!/usr/bin/env python3
"""A fake paginated REST API for scenario 11 (raw ingestion), on 127.0.0.1.

    GET /transactions?date=YYYY-MM-DD            page 1 of that day
    GET /transactions?date=YYYY-MM-DD&cursor=N   page N
    -> {"records": [...], "next_cursor": "N+1"}  (null on the day's last page)

Every day has the same number of pages, each of the same number of records,
made by generate.py's record generator (seeded per day and page, ids unique
across pages), all built in memory before the port is announced. Each
request sleeps the latency before it answers (HTTP/1.1, keep-alive), on a
thread of its own, so the server never limits concurrency. A date outside
the range, or a page past the last, is a 404.

Not part of any answer's timing: GET /_stats returns the requests served
since the last POST /_reset ({"requests": n, "pages": {...}, "in_flight_max": m},
the most requests waiting out their latency at once).

    fakeapi.py --start 2025-01-01 --days 365 --pages 3 --rows 200 --latency-ms 50
    # prints "listening 127.0.0.1:PORT" once it serves (PORT chosen free)
"""
import argparse
import importlib.util
import json
import random
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_spec = importlib.util.spec_from_file_location("generate", Path(__file__).resolve().parent / "generate.py")
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)


def build_pages(start, days, pages, rows, seed=generate.SEED):
    """{(date label, page number): response bytes}."""
    offsets = generate.offset_days(days)
    out = {}
    for d in range(days):
        day = start + timedelta(days=d)
        for p in range(1, pages + 1):
            rng = random.Random(seed * 1000 + d * 97 + p)
            lines = generate.records_for(rng, day, rows, d in offsets, f"tx-{day:%Y%m%d}-p{p}")
            cursor = json.dumps(str(p + 1) if p < pages else None)
            body = '{"records": [\n' + ",\n".join(lines) + f'\n], "next_cursor": {cursor}}}\n'
            out[(day.isoformat(), p)] = body.encode()
    return out


class Api(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of connections (one per concurrent client slot) must not
    # overflow the listen backlog: a dropped SYN costs a 1 s retransmit.
    request_queue_size = 256

    def __init__(self, pages, latency):
        super().__init__(("127.0.0.1", 0), Handler)
        self.pages = pages
        self.latency = latency
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.per_page = {}
            self.in_flight = 0
            self.in_flight_max = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, with Nagle off: otherwise the
    # body waits for the client's delayed ACK of the headers (40 ms on Linux).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n")
        self.wfile.write(b"".join(self._headers_buffer) + body)
        self._headers_buffer = []

    def do_POST(self):
        if self.path == "/_reset":
            self.server.reset()
            return self.send(200, b"{}")
        self.send(404, b'{"error": "not found"}')

    def do_GET(self):
        api = self.server
        url = urlsplit(self.path)
        if url.path == "/_stats":
            with api.lock:
                body = {"requests": api.requests, "in_flight_max": api.in_flight_max,
                        "pages": {str(k): v for k, v in sorted(api.per_page.items())}}
            return self.send(200, json.dumps(body).encode())
        q = parse_qs(url.query)
        day = (q.get("date") or [""])[0]
        try:
            page = int((q.get("cursor") or ["1"])[0])
        except ValueError:
            page = 0
        with api.lock:
            api.requests += 1
            api.per_page[page] = api.per_page.get(page, 0) + 1
            api.in_flight += 1
            api.in_flight_max = max(api.in_flight_max, api.in_flight)
        try:
            time.sleep(api.latency)
        finally:
            # Counted out before the answer leaves: a client that sends its
            # next request as soon as it has one is not counted twice.
            with api.lock:
                api.in_flight -= 1
        body = api.pages.get((day, page)) if url.path == "/transactions" else None
        if body is None:
            self.send(404, b'{"error": "no such day or page"}')
        else:
            self.send(200, body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--start", type=date.fromisoformat, default=generate.START)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--rows", type=int, required=True, help="records per page")
    ap.add_argument("--latency-ms", type=float, default=50)
    a = ap.parse_args()
    api = Api(build_pages(a.start, a.days, a.pages, a.rows), a.latency_ms / 1000)
    host, port = api.server_address[:2]
    print(f"listening {host}:{port}", flush=True)
    api.serve_forever()


if __name__ == "__main__":
    main()
