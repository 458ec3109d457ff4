#!/usr/bin/env bash
# The web page at planner scale: API response times and the page's first
# render, against a built store (bench/bench.py's planner scenario leaves
# one in <work>/planner; any pipeline folder works).
#
#   bench/serve.sh DIR [HOST_BINARY]
#
# Prints, per endpoint, the median of 5 GETs, and the page's time from
# navigation to a drawn grid in headless Chromium (tests/serve/browser,
# `npm ci` there first). The first request after start plans the store
# (as `host status` does); later ones are answered from the server's
# view at hand while it refreshes behind them.
set -euo pipefail
dir=$(cd "$1" && pwd)
host=${2:-$(dirname "$0")/../target/release/host}
host=$(cd "$(dirname "$host")" && pwd)/$(basename "$host")
browser=$(cd "$(dirname "$0")/../tests/serve/browser" && pwd)
out=$(mktemp)
(cd "$dir" && exec "$host" serve --addr 127.0.0.1:0 >"$out") &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
until grep -q listening "$out" 2>/dev/null; do sleep 0.1; done
base=$(head -1 "$out" | sed 's/listening on //; s#/$##')
t() { curl -s --noproxy '*' -o /dev/null -w '%{time_total}\n' "$base$1"; }
med() { sort -n | awk '{a[NR]=$1} END {printf "%.0f ms", a[int((NR+1)/2)]*1000}'; }
echo "first request (plans the store): $(t /api/pipeline | med)"
partition=$(curl -s --noproxy '*' "$base/api/partitions?dataset=silver/transactions" \
  | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitions"]; print(p[len(p)//2]["partition"])')
echo "| endpoint | median | bytes |"
echo "| --- | ---: | ---: |"
for path in /api/partitions /api/pipeline "/api/partitions/silver/transactions/$partition" \
  "/api/partitions/silver/transactions/$partition/rows?limit=20" /api/runs /metrics \
  "/api/partitions?dataset=silver/transactions&state=fresh"; do
  t "$path" >/dev/null
  echo "| \`$path\` | $(for i in 1 2 3 4 5; do t "$path"; done | med) | $(curl -s --noproxy '*' "$base$path" | wc -c) |"
done
(cd "$browser" && node page.mjs bench "$base" 7)
