#!/usr/bin/env bash
# The crash test with more kill points: kills `host run` with SIGKILL at
# seeded random moments, checks after each kill that every visible partition
# is complete, then that one clean run and `host gc` give the same store as a
# run that was never interrupted.
#   tests/soak.sh [KILLS] [SEED]      (defaults: 300, random)
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-300}"
seed="${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "soak: $kills kills, seed $seed (rerun with: tests/soak.sh $kills $seed)"
STRATA_CRASH_KILLS="$kills" STRATA_CRASH_SEED="$seed" \
  cargo test --quiet --test integration runs_killed_at_random_moments -- --nocapture 2>&1 |
  grep -E "crash test:|test result|panicked|assert"
