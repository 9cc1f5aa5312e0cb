#!/usr/bin/env bash
# The soak (docs/soak.md): the release service on a new SQLite file in production settings, a
# steady rate of signed webhooks retried until acknowledged, a Graph API stand-in (in the soak's
# own process, so it survives the kills) with a latency tail and a fault schedule, SIGKILLs and
# restarts; a line of figures a minute, then a drain and the verdict (exit 1 if an invariant
# failed). On demand only, never in CI's default run.
# Examples: benches/soak.sh --minutes 60
#           benches/soak.sh --minutes 5 --kills 1 --outage-secs 30
#           benches/soak.sh --minutes 1 --kills 1 --outage-secs 10 --every 10   (a smoke run)
# The figures stay in the directory given with --out (default: a new one under target/soak/).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin triage --bin triage-soak
OUT=
prev=
for a in "$@"; do
  [ "$prev" = --out ] && OUT=$a
  case $a in --out=*) OUT=${a#--out=} ;; esac
  prev=$a
done
if [ -z "$OUT" ]; then
  OUT=target/soak/$(date -u +%Y%m%dT%H%M%SZ)
  set -- --out "$OUT" "$@"
fi
echo "figures in $OUT"
exec ./target/release/triage-soak "$@"
